"""Sensitive and mass incidents that leaders must see: many people, collective action, media attention."""

from __future__ import annotations

import re

# "Many people" means dozens or more (几十户, 三十多名工人, 上百人, 50人以上); "10户" or "十几户" is not a mass incident.
MANY_PEOPLE = 30

# Who can be "many people": a quantity word counts only when a people noun follows it ("上千户", "几百名工人",
# "数百业主"); "上千元", "几百万巨款", "几百亩农田" are money and land.
PEOPLE_NOUN = r"业主|村民|居民|工人|农民工|群众|家长|学生|师生|职工|员工|老人|孩子|商户|家庭|住户|户主|投资人|债权人|受害人|人(?!口)"
PEOPLE = rf"(?:[名位户](?!口|型|籍)|个(?=[^，。]{{0,2}}(?:{PEOPLE_NOUN}))|人(?!民币|口|次|流|均)|{PEOPLE_NOUN})"

CHECKS: tuple[tuple[str, re.Pattern], ...] = (
    # 堵路 is a road block, not "拥堵路段"; 冲击 a crowd storming a place, not "市场冲击"
    ("群体性事件", re.compile(r"群体性|集体上访|集体维权|集体讨薪|围堵|(?<![车辆停放摆拥全必常易])堵(?:路(?![线段口况上])|门)"
                           r"|拉横幅|拉条幅|静坐|游行"
                           r"|(业主|村民|居民|工人|群众|家长|职工|员工|债权人|投资人)[^，。]{0,6}聚集"
                           r"|聚集[^，。]{0,10}(讨|维权|抗议|上访|闹|堵|围|政府|说法)|(?<!卡顿)(?<!经常)(?<!电梯)(?<!机器)罢工|罢课|罢市"
                           r"|冲击[^，。]{0,4}(政府|机关|单位|派出所|公安|售楼|营销中心|办公|大门|会场|工地|现场|警察|执法)")),
    # media that are involved or that the caller turns to; "在此曝光" by the caller is not media attention
    ("媒体关注", re.compile(r"(?<![多从等])媒体(?!宣传|艺术)|记者|电视台|报社|(被|已|已经|遭|经|媒体|记者|电视台|报纸|新闻|网上)[^，。]{0,6}曝光"
                           r"|微博|抖音|热搜|网上发酵|舆论|网络上传|朋友圈都在传")),
    # the threat of a desperate act; 扬言 alone is mostly the other party's bluster ("扬言不怕你告")
    ("极端行为风险", re.compile(r"自焚|跳楼讨薪|以死相逼|同归于尽|报复社会|爆炸[^，。]{0,4}(威胁|要挟)"
                               r"|扬言[^。]{0,12}(跳楼|自杀|自焚|杀|砍|炸|同归于尽|报复|放火|烧|喝农药|服毒|拼命)"
                               r"|(只能|只有|只好|准备|打算|就要|逼得?我)[^，。]{0,4}(跳楼|自杀|自焚|喝农药|轻生)")),
)

# A stated number of people: "几十户", "上千人", "近百名业主". A letter signed "全体业主" or "整个小区停水" is not a
# head count.
MANY_RE = re.compile(rf"[几数]十[个名户位多]?(?:人|户|名|业主|工人|村民|居民|学生|家长)|(?:上|数|几|近)[百千万][多余]?{PEOPLE}")
# A population or capacity figure is not a count of people affected: "全村人口约400人", "该小区建成后可住13000人",
# "学校有师生3000多人", "每天人流多达2000多人", "招生75人", "50多人一个班".
STATISTIC_RE = re.compile(r"(?:人口|常住|户籍|居住|容纳|入住|招生|编制|规模|共计|总计|合计|班额|每班|每天|日均|高峰|多达|达到|可达"
                          r"|现有|共有|户数|总数|全村|全镇|全乡|全县|全市|全区|师生|在校|服务|覆盖|辐射|班级|班上|每个班)[^，。；！？]{0,4}$")
CLASS_SIZE_RE = re.compile(r"[^，。]{0,2}(?:一个班|一班|的班)")

# A head count: "35户", "三十多名工人", "二三十个家长", "100多人", "一百二十位业主" (not "第30名", "5个月", "100人民币").
COUNT_RE = re.compile(r"(?<![第前\d零〇一二两三四五六七八九十百千万栋楼号层室家])([\d零〇一二两三四五六七八九十百千万]+)[多余]?"
                      r"(?:户(?![口型籍])|名|位|人(?!民|口|次|流|均)|家(?:商户|店|企业)|个(?=[^，。]{0,2}(?:人|业主|居民|村民|工人|家长|学生|员工|商户|职工)))")
DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def chinese_number(s: str) -> int:
    """``35``, ``三十五``, ``一百二十``, ``10万``; a range like ``二三十`` counts as its upper end (30)."""
    total, digit = 0, 0
    for token in re.findall(r"\d+|.", s):
        if token in UNITS:
            total += (digit or 1) * UNITS[token]
            digit = 0
        else:  # in "二三十" the later digit wins
            digit = int(token) if token.isdigit() else DIGITS.get(token, 0)
    return total + digit


def _affected(text: str, m: re.Match) -> bool:
    """Not a population or capacity figure (see STATISTIC_RE)."""
    return not (STATISTIC_RE.search(text[max(0, m.start() - 10):m.start()]) or CLASS_SIZE_RE.match(text, m.end()))


def head_count(text: str) -> int:
    """The largest number of people or households the text mentions as affected, 0 if none."""
    return max((chinese_number(m.group(1)) for m in COUNT_RE.finditer(text) if _affected(text, m)), default=0)


def many_people(text: str) -> bool:
    return any(_affected(text, m) for m in MANY_RE.finditer(text)) or head_count(text) >= MANY_PEOPLE


class SensitivityChecker:
    """``check`` returns ``{"reasons": [...]}`` when leaders should be alerted, else None."""

    def check(self, text: str) -> dict | None:
        text = text or ""
        reasons = [name for name, pattern in CHECKS if pattern.search(text)]
        if many_people(text):
            reasons.insert(1 if "群体性事件" in reasons else 0, "涉及人数众多")
        return {"reasons": reasons} if reasons else None
