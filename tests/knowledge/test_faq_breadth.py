"""An FAQ article that answers many questions gathers partial matches from all of them; the embedded index
divides its score by its number of questions to a small power, except for a question asked word for word.

The articles are invented for this test.
"""

from __future__ import annotations

import pytest

from knowledge.search import embedded
from knowledge.search.base import SearchDoc
from knowledge.search.embedded import EmbeddedSearchIndex

FAQ = [
    ("灵活就业人员可以参加职工养老保险吗", "可以，以个人身份参保，按月缴费。"),
    ("养老保险断缴了怎么办", "可以补缴，具体到社保经办机构办理。"),
    ("医疗保险报销比例是多少", "按医院等级不同，报销比例为70%至90%。"),
    ("失业保险金怎么领取", "在失业登记后到社保经办机构申领。"),
    ("工伤认定需要哪些材料", "工伤认定申请表、劳动关系证明、医疗诊断证明。"),
    ("生育津贴怎么计算", "按用人单位上年度职工月平均工资计发。"),
    ("社保卡丢了怎么补办", "到合作银行网点挂失补办。"),
    ("养老保险关系怎么转移", "在新参保地申请转移接续。"),
    ("退休人员医保待遇有哪些", "退休后按规定享受医保待遇，不再缴费。"),
    ("个人缴费基数怎么确定", "按上年度全省平均工资的60%至300%之间自选。"),
    ("城乡居民养老保险缴费档次有哪些", "每年缴费档次分为多个标准，自愿选择。"),
    ("社保缴费记录在哪里查询", "登录社保网上服务平台或手机应用查询。"),
]


def article(ref: str, title: str, body: str) -> SearchDoc:
    return SearchDoc(kind="article", ref_id=ref, title=title, body=body, status="published")


DOCS = [
    article("faq", "社会保险常见问题", "\n".join(f"{q}？{a}" for q, a in FAQ)),
    article("pension", "养老保险待遇计发办法",
            "基本养老金由基础养老金和个人账户养老金组成，按缴费年限和缴费基数计发，退休时一次核定。"),
    article("flexible", "灵活就业人员参保缴费",
            "灵活就业人员以个人身份参加企业职工基本养老保险，携带身份证到社保经办机构办理参保登记，"
            "缴费基数在规定范围内自选，按月或按年缴费。"),
    *(article(f"other{i}", t, f"{t}需要携带身份证到政务服务中心办理。")
      for i, t in enumerate(["居民身份证换领", "户口迁入", "公积金提取", "驾驶证换证", "残疾人证新办", "结婚登记"])),
]


async def ranked(query: str) -> list[tuple[str, float]]:
    index = EmbeddedSearchIndex(None)
    await index.open()
    await index.upsert(DOCS)
    return [(h.ref_id, h.score) for h in (await index.search(query)).hits]


async def test_a_focused_article_beats_an_faq_that_touches_the_query_across_its_questions(monkeypatch):
    query = "交了多少年养老保险能领多少钱"  # the FAQ's questions hold 养老保险, 多少 … in different lines
    assert [ref for ref, _ in await ranked(query)][:2] == ["pension", "faq"]
    monkeypatch.setattr(embedded, "QUESTION_COUNT_EXPONENT", 0.0)  # without the rule the FAQ came first
    assert [ref for ref, _ in await ranked(query)][:2] == ["faq", "pension"]


async def test_a_question_of_the_faq_asked_word_for_word_costs_its_article_nothing(monkeypatch):
    query = "养老保险断缴了怎么办"
    with_rule = dict(await ranked(query))
    monkeypatch.setattr(embedded, "QUESTION_COUNT_EXPONENT", 0.0)
    without = dict(await ranked(query))
    assert max(with_rule, key=with_rule.get) == "faq"
    assert with_rule["faq"] == pytest.approx(without["faq"])


async def test_articles_with_one_title_line_are_scored_as_before(monkeypatch):
    query = "灵活就业人员养老保险参保登记带什么"
    with_rule = dict(await ranked(query))
    monkeypatch.setattr(embedded, "QUESTION_COUNT_EXPONENT", 0.0)
    without = dict(await ranked(query))
    for ref in ("pension", "flexible"):
        assert with_rule[ref] == pytest.approx(without[ref])
    assert with_rule["faq"] < without["faq"]
