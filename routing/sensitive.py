"""Sensitive and mass incidents that leaders must see: many people, collective action, media attention."""

from __future__ import annotations

import re

# "Many people" means dozens or more (几十户, 三十多名工人, 上百人, 50人以上); "10户" or "十几户" is not a mass incident.
MANY_PEOPLE = 30

CHECKS: tuple[tuple[str, re.Pattern], ...] = (
    ("群体性事件", re.compile(r"群体性|集体上访|集体维权|集体讨薪|围堵|(?<![车辆停放摆])堵(?:路|门)|拉横幅|拉条幅|静坐|游行"
                           r"|(业主|村民|居民|工人|群众|家长|职工|员工|债权人|投资人)[^，。]{0,6}聚集"
                           r"|聚集[^，。]{0,10}(讨|维权|抗议|上访|闹|堵|围|政府|说法)|罢工|罢课|罢市|冲击(?!钻)")),
    ("涉及人数众多", re.compile(r"[几数]十[个名户位多]?(人|户|名|家|业主|工人|村民|居民|学生|家长)|上[百千]|数[百千]|几百"
                               r"|全体(业主|村民|员工|居民)|整个(小区|村|片区)")),
    ("媒体关注", re.compile(r"媒体|记者|电视台|报社|曝光|微博|抖音|热搜|网上发酵|舆论|网络上传|朋友圈都在传|自媒体")),
    ("极端行为风险", re.compile(r"自焚|跳楼讨薪|以死相逼|同归于尽|报复社会|爆炸[^，。]{0,4}(威胁|要挟)|扬言")),
)

# A head count: "35户", "三十多名工人", "二三十个家长", "100多人", "一百二十位业主" (not "第30名", "5个月", "100人民币").
COUNT_RE = re.compile(r"(?<![第前\d零〇一二两三四五六七八九十百千万])([\d零〇一二两三四五六七八九十百千万]+)多?"
                      r"(?:户(?![口型籍])|名|位|人(?!民)|家(?:商户|店|企业)|个(?=[^，。]{0,2}(?:人|业主|居民|村民|工人|家长|学生|员工|商户|职工)))")
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


def head_count(text: str) -> int:
    """The largest number of people or households the text mentions, 0 if none."""
    return max((chinese_number(m.group(1)) for m in COUNT_RE.finditer(text)), default=0)


class SensitivityChecker:
    """``check`` returns ``{"reasons": [...]}`` when leaders should be alerted, else None."""

    def check(self, text: str) -> dict | None:
        text = text or ""
        reasons = [name for name, pattern in CHECKS if pattern.search(text)]
        if "涉及人数众多" not in reasons and head_count(text) >= MANY_PEOPLE:
            reasons.insert(1 if "群体性事件" in reasons else 0, "涉及人数众多")
        return {"reasons": reasons} if reasons else None
