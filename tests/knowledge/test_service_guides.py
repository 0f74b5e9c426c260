"""Service guides (政务服务事项): many sibling items share the words of a citizen's question; the item whose
title the question nearly spells out must win, and relative place words (外省, 外地 …) are no places.

The items below are invented in the style of a province's service-guide catalogue.
"""

from __future__ import annotations

from knowledge.places import default_places
from knowledge.search.base import SearchDoc, SearchFilters
from knowledge.search.embedded import EmbeddedSearchIndex

PERMIT = "往来港澳通行证"
SIBLINGS = [
    f"办理{PERMIT}",
    f"办理{PERMIT}团队游签注",
    f"办理{PERMIT}个人游签注",
    f"办理{PERMIT}探亲签注",
    f"办理{PERMIT}商务签注",
    f"{PERMIT}团队游签注办理进度查询",
    f"{PERMIT}个人游签注办理进度查询",
    f"首次办理{PERMIT}进度查询",
    f"换发{PERMIT}进度查询",
    f"补发{PERMIT}进度查询",
]


# Other items of the catalogue: in a real one the permit's siblings are a few dozen of thousands of items.
OTHER_MATTERS = [
    "居民身份证换领", "居民身份证挂失补领", "户口迁出", "户口迁入", "出生登记", "结婚登记预约", "补领结婚证",
    "最低生活保障申请", "残疾人证新办", "残疾人证挂失补办", "城乡居民养老保险参保登记", "失业保险金申领",
    "工伤保险待遇申领", "住房公积金提取", "机动车驾驶证换证", "机动车驾驶证遗失补证", "机动车注册登记",
    "教师资格认定", "导游证申领", "保安员证核发", "法律援助申请", "无犯罪记录证明开具", "个体工商户设立登记",
    "食品经营许可", "建设工程规划许可", "既有住宅增设电梯", "渔业捕捞许可", "图书馆读者证办理",
    "出生医学证明补发", "代开增值税普通发票", "医疗保险关系转移", "生育津贴申领", "高龄津贴申领",
    "殡葬补贴申领", "公共租赁住房申请", "燃气经营许可", "犬只登记", "占道施工许可", "户外广告设置许可",
    "特种设备使用登记",
]


def other_guides() -> list[SearchDoc]:
    return [guide(100 + i, title, f"{title}。所需材料：申请表、居民身份证。办理地点：政务服务中心综合窗口。"
                                   f"承诺时限：10个工作日。咨询电话：12345。")
            for i, title in enumerate(OTHER_MATTERS)]


def guide(ref: int, title: str, body: str) -> SearchDoc:
    return SearchDoc(kind="article", ref_id=str(ref), title=title, body=body, status="published")


def permit_guides() -> list[SearchDoc]:
    docs = []
    for i, title in enumerate(SIBLINGS):
        if "进度查询" in title:  # short items that are little more than their title (the hard case)
            body = f"{title}。登录出入境网上服务平台输入受理编号查询{PERMIT}办证进度。"
        elif "签注" in title:
            body = (f"{title}。所需材料：居民身份证、有效的{PERMIT}、出入境证件数字相片回执。"
                    f"办理地点：出入境办证大厅。承诺时限：7个工作日。")
        else:
            body = (f"申请{PERMIT}，需携带居民身份证、户口簿、出入境证件数字相片回执到出入境办证大厅申请，"
                    "未满16周岁的由监护人陪同并提交监护关系证明。换发的交回原证件。承诺时限：7个工作日。"
                    "收费标准：按规定收取证件工本费。咨询电话：12345。")
        docs.append(guide(i, title, body))
    return docs + other_guides()


async def index_of(docs: list[SearchDoc]) -> EmbeddedSearchIndex:
    index = EmbeddedSearchIndex(None)
    await index.open()
    await index.upsert(docs)
    return index


async def titles(index: EmbeddedSearchIndex, query: str) -> list[str]:
    return [h.title for h in (await index.search(query, SearchFilters(kinds=("article",)), limit=10)).hits]


async def test_the_title_a_question_nearly_spells_out_beats_its_siblings():
    index = await index_of(permit_guides())
    # without the title coverage the short 进度查询 sibling (its body little more than its title) wins
    assert (await titles(index, "港澳通行证个人游签注怎么办"))[0] == f"办理{PERMIT}个人游签注"
    assert (await titles(index, "换发港澳通行证进度查询"))[0] == f"换发{PERMIT}进度查询"


async def test_title_coverage_with_segments_of_different_sizes():
    docs = permit_guides()
    index = await index_of(docs[:2] + docs[3:])
    await index.upsert(docs[2:3])  # the individual-tour item written after the others
    assert (await titles(index, "港澳通行证个人游签注怎么办"))[0] == f"办理{PERMIT}个人游签注"


def test_relative_place_words_are_no_places():
    places = default_places()
    for word in ("外省", "外地", "本市", "本省", "异地", "省外", "市外", "当地", "本地", "国外", "境外",
                 "外省市", "各省市", "周边地区", "沿海地区"):
        assert not places.is_place(word), word
    assert places.is_place("广东省") and places.is_place("广州市") and places.is_place("本溪市")


async def test_from_another_province_does_not_pull_in_items_about_other_provinces():
    docs = [
        guide(1, "城镇职工基本养老保险关系转移接续申请",
              "参保人员跨省流动就业的，由转入地社保经办机构办理养老保险关系转移接续。所需材料：身份证、参保缴费凭证。"),
        guide(2, "专职律师执业许可（在外省转入本省申请执业）",
              "在外省执业的律师转入本省律师事务所执业的，提交外省司法行政机关出具的证明、律师执业证书。"),
        guide(3, "协助外省律师调档", "外省律师调动档案的，由原执业地司法行政机关协助办理调档手续。"),
    ]
    index = await index_of(docs)
    assert (await titles(index, "养老保险从外省转过来怎么办"))[0] == "城镇职工基本养老保险关系转移接续申请"
