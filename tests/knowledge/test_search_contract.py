"""One contract for every search backend (embedded on SQLite and PostgreSQL; Elasticsearch when
HOTLINE_ELASTICSEARCH_URL is set)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from knowledge.search.base import SearchDoc, SearchFilters
from knowledge.synonyms import SynonymSet

UTC = dt.timezone.utc


def art(ref, title, body, **kw) -> SearchDoc:
    kw.setdefault("status", "published")
    return SearchDoc(kind="article", ref_id=str(ref), title=title, body=body, **kw)


DOCS = [
    art(1, "住房公积金提取指南", "职工购买自住住房、退休、偿还住房贷款本息，可以申请提取住房公积金。",
        category="housing", unit="gjj", date=dt.datetime(2026, 1, 5, tzinfo=UTC)),
    art(2, "社会保险费缴纳", "灵活就业人员可以通过手机银行缴纳社会保险费，每月15日前完成扣款。",
        category="social", unit="rsj", date=dt.datetime(2026, 3, 1, tzinfo=UTC)),
    art(3, "小区停车收费标准", "住宅小区停车服务收费实行政府指导价，业主可向物业查询收费标准。",
        category="traffic", unit="fgw", status="draft", date=dt.datetime(2026, 6, 1, tzinfo=UTC)),
    art(4, "燃气报修电话", "燃气泄漏请立即关闭阀门并拨打燃气公司24小时抢修电话。",
        category="utility", unit="gas", date=dt.datetime(2026, 9, 1, tzinfo=UTC)),
    SearchDoc(kind="ticket", ref_id="77", title="小区门口乱停车", body="晚上小区门口车辆乱停车，消防通道被堵。",
              category="traffic", unit="jjzd", status="closed", date=dt.datetime(2026, 10, 1, tzinfo=UTC),
              extra={"number": "20261001-0001", "reply": "已安排交警夜间巡查。"}),
]


async def loaded(index_factory):
    index = await index_factory()
    assert await index.upsert(DOCS) == len(DOCS)
    return index


async def test_chinese_query_finds_article_with_highlight(index_factory):
    index = await loaded(index_factory)
    result = await index.search("怎么提取公积金")
    assert result.hits[0].key == "article:1"
    assert "<em>提取</em>" in result.hits[0].highlight
    assert result.hits[0].title == "住房公积金提取指南"


async def test_highlight_marks_a_compound_jieba_splits_into_characters(index_factory):
    # jieba does not know 犬只 (-> 犬 只); the phrase is marked, not just 登记, nor 只 on its own
    index = await index_factory()
    await index.upsert([art(9, "养犬管理", "只需带上身份证。犬只登记可在派出所办理，犬只免疫证明由兽医站出具。")])
    hit = (await index.search("犬只登记")).hits[0]
    assert "<em>犬只</em><em>登记</em>" in hit.highlight and "<em>只</em>需" not in hit.highlight


async def test_synonyms_both_directions(index_factory):
    index = await loaded(index_factory)
    # the article says 社会保险 only
    assert (await index.search("社保怎么交")).hits[0].key == "article:2"
    # the article says 住房公积金; 公积金 alone must find it, and vice versa
    assert (await index.search("公积金")).hits[0].key == "article:1"
    assert "<em>" in (await index.search("社保")).hits[0].highlight


async def test_a_synonyms_character_pairs_alone_are_not_a_match(index_factory):
    # 公积金 expands to 住房公积金, whose character pairs include 住房: an article sharing nothing with the
    # query but that pair (公租房 ... 住房) is not about 公积金 and is not listed, nor counted
    index = await index_factory()
    await index.upsert([art(20, "公租房申请条件", "申请公租房须在本市无自有住房。"),
                        art(21, "贷款额度", "缴存职工可以申请住房公积金贷款。"),
                        art(22, "社会保险登记", "用人单位应当为职工办理社会保险登记。")])
    result = await index.search("公积金")
    assert [h.key for h in result.hits] == ["article:21"] and result.total == 1
    # a whole synonym is a match on its own: the article says only 社会保险, the query only 社保
    assert [h.key for h in (await index.search("社保")).hits] == ["article:22"]
    # the query's own character pairs still match where jieba splits words differently (公租 / 公 租房)
    assert [h.key for h in (await index.search("公租")).hits] == ["article:20"]


async def test_user_edited_synonyms_apply_without_reindex(index_factory):
    index = await loaded(index_factory)
    before = await index.search("管道气")
    index.set_synonyms(SynonymSet([("管道气", "燃气")]))
    after = await index.search("管道气")
    assert after.hits and after.hits[0].key == "article:4"
    assert all(h.key != "article:4" for h in before.hits)


async def test_filters(index_factory):
    index = await loaded(index_factory)
    everything = await index.search("停车")
    assert {h.key for h in everything.hits} == {"article:3", "ticket:77"}
    assert [h.key for h in (await index.search("停车", SearchFilters(kinds=("ticket",)))).hits] == ["ticket:77"]
    assert [h.key for h in (await index.search("停车", SearchFilters(status=("published",)))).hits] == []
    assert [h.key for h in (await index.search("停车", SearchFilters(unit="fgw"))).hits] == ["article:3"]
    assert [h.key for h in (await index.search("停车", SearchFilters(category="traffic",
                                                                   date_from=dt.datetime(2026, 7, 1, tzinfo=UTC)))).hits] == ["ticket:77"]
    assert [h.key for h in (await index.search("停车", SearchFilters(date_to=dt.datetime(2026, 7, 1, tzinfo=UTC)))).hits] == ["article:3"]
    assert [h.key for h in (await index.search("停车", SearchFilters(kinds=("ticket",), ref_ids=("77",)))).hits] \
        == ["ticket:77"]
    assert (await index.search("停车", SearchFilters(ref_ids=("78", "3")))).hits[0].key == "article:3"
    hit = (await index.search("停车", SearchFilters(kinds=("ticket",)))).hits[0]
    assert hit.extra["number"] == "20261001-0001" and hit.status == "closed" and hit.unit == "jjzd"
    assert hit.date == dt.datetime(2026, 10, 1, tzinfo=UTC)


async def test_ranking_prefers_the_focused_document(index_factory):
    index = await index_factory()
    await index.upsert([
        art(10, "医保报销比例", "职工医保住院报销比例为百分之八十五，门诊报销按年度限额执行。"),
        art(11, "城市公园开放时间", "公园每天六点开放。园内设有停车场，医保定点药店位于东门外。"),
        art(12, "图书馆借阅规则", "读者凭读者证借阅图书，每次最多五册。"),
    ])
    result = await index.search("医保报销比例是多少")
    assert [h.key for h in result.hits[:2]] == ["article:10", "article:11"]
    assert result.total == 2
    assert result.hits[0].score > result.hits[1].score


async def test_traditional_and_simplified_characters_find_each_other(index_factory):
    index = await loaded(index_factory)
    await index.upsert([art(9, "違章建築舉報", "發現違章建築，可向所在街道綜合執法隊舉報。", category="urban", unit="zf")])
    hit = (await index.search("住房公積金怎麼提取")).hits[0]
    assert hit.key == "article:1" and "<em>提取</em>" in hit.highlight
    hit = (await index.search("违章建筑举报")).hits[0]
    assert hit.key == "article:9"
    assert "發現<em>違章建築</em>" in hit.highlight  # marked in the article's own characters


async def test_a_query_of_only_filler_words_finds_nothing(index_factory):
    index = await loaded(index_factory)
    await index.upsert([art(8, "燃气泄漏怎么办", "请问怎么办？先关阀门，再开窗通风。", category="utility", unit="gas")])
    for query in ("请问怎么办？", "怎么办呢", "？？", ""):
        assert (await index.search(query)).hits == [], query
    assert (await index.search("燃气泄漏怎么办")).hits[0].key == "article:8"


async def test_place_named_in_the_query_ranks_its_articles_first(index_factory):
    index = await index_factory()
    await index.upsert([
        art(20, "河南省审批", "河南省优化审批流程，推行不见面审批、网上办理、容缺受理和审批流程再造。"),
        art(21, "审批通则", "优化审批流程的通用要求：网上办理。"),
        art(22, "山东省审批", "山东省推行不见面审批。"),
    ])
    # Henan's article shares the most words, but the question is about Shandong: Shandong first,
    # the article naming no place next, the other province last.
    result = await index.search("山东省优化审批流程有哪些措施")
    assert [h.key for h in result.hits] == ["article:22", "article:21", "article:20"]
    # the short form of the name works the same way
    assert (await index.search("山东优化审批流程")).hits[0].key == "article:22"
    # without a place, the words decide
    assert (await index.search("优化审批流程网上办理容缺受理")).hits[0].key == "article:20"


async def test_upsert_replaces_and_delete_removes(index_factory):
    index = await loaded(index_factory)
    await index.upsert([art(4, "燃气报修电话", "天然气泄漏请拨打抢修热线。维修人员三十分钟内上门。")])
    assert (await index.search("上门")).hits[0].key == "article:4"
    assert (await index.search("关闭阀门")).total == 0
    assert await index.count() == len(DOCS)
    await index.delete(["article:4"])
    assert (await index.search("上门")).total == 0
    assert await index.count() == len(DOCS) - 1


async def test_keywords_count_like_the_title(index_factory):
    # 91's body says 居住证 once, 92's only through its keyword; 92 is longer, so with its keyword counted as
    # one more body word it would rank second. Counted like the title it ranks first, also for a second
    # process that loads the documents from storage.
    index = await index_factory()
    await index.upsert([
        art(91, "办事指南", "外地户籍人员办理居住证需要带身份证。"),
        art(92, "流动人口登记", "来本市居住半年以上的外地户籍人员，可到社区服务站登记，登记后凭回执领取卡证。",
            extra={"keywords": ["居住证"]}),
    ])
    assert [h.key for h in (await index.search("居住证")).hits] == ["article:92", "article:91"]
    other = await index_factory()
    if hasattr(other, "refresh"):
        await other.refresh(force=True)
    assert [h.key for h in (await other.search("居住证")).hits] == ["article:92", "article:91"]


async def test_an_faq_articles_questions_count_like_the_title(index_factory):
    # 93 and 94 hold the same words; 94 is kept as question-answer lines ("问题？答案"), 93 as statements.
    # The question a citizen asks is what 94's lines start with, so it counts like a title and 94 ranks
    # strictly above 93 (counted as plain body words, the two would tie). A ticket is no FAQ: its
    # questions stay plain text, so 95 and 96 (the same pair as tickets) tie.
    lines = [("新生儿怎么参加医保", "出生后三个月内由监护人到社区服务中心办理参保登记。"),
             ("医保卡丢了怎么办", "可到合作银行网点办理挂失，补卡需本人身份证。"),
             ("异地就医如何备案", "通过国家医保服务平台备案，备案后直接结算住院费用。")]
    statements = "\n".join(f"{q}。 {a}" for q, a in lines)
    faq = "\n".join(f"{q}？ {a}" for q, a in lines)
    await (index := await index_factory()).upsert([
        art(93, "医疗保险", statements), art(94, "医疗保险", faq),
        SearchDoc(kind="ticket", ref_id="95", title="医疗保险", body=statements, status="closed"),
        SearchDoc(kind="ticket", ref_id="96", title="医疗保险", body=faq, status="closed")])
    for query in ("新生儿怎么参加医保", "异地就医备案"):
        hits = {h.key: h.score for h in (await index.search(query)).hits}
        assert hits["article:94"] > hits["article:93"] and hits["ticket:95"] == pytest.approx(hits["ticket:96"])


async def test_index_survives_restart_and_sees_other_writers(index_factory):
    first = await loaded(index_factory)
    second = await index_factory()  # e.g. the web process while the jobs worker writes
    assert (await second.search("燃气泄漏")).hits[0].key == "article:4"
    await first.upsert([art(20, "自来水停水通知", "因管网检修，明日全区供水暂停。")])
    await first.delete(["article:2"])
    if hasattr(second, "refresh"):
        await second.refresh(force=True)
    assert (await second.search("停水")).hits[0].key == "article:20"
    assert (await second.search("社会保险")).total == 0


async def test_reindex_swaps_while_search_keeps_answering(index_factory):
    index = await loaded(index_factory)
    seen_during = []

    def source():
        async def gen():
            yield [art(1, "住房公积金提取指南", "提取住房公积金需要身份证和银行卡。")]
            # half way through the rebuild the old index still answers
            seen_during.append([h.key for h in (await index.search("燃气泄漏")).hits])
            await index.upsert([art(30, "户籍迁入办理", "户口迁入需要提供房产证明。")])
            yield [art(5, "入学报名时间", "小学入学报名在每年五月进行。")]
        return gen

    assert await index.reindex(source()) == 2
    assert seen_during == [["article:4"]]
    assert (await index.search("燃气泄漏")).total == 0          # not in the source any more
    assert (await index.search("入学报名")).hits[0].key == "article:5"
    assert (await index.search("户口迁入")).hits[0].key == "article:30"  # written during the rebuild
    assert (await index.search("银行卡")).hits[0].key == "article:1"
    assert await index.count() == 3


async def test_concurrent_searches_during_writes(index_factory):
    index = await loaded(index_factory)
    docs = [art(100 + i, f"第{i}号通知", f"关于第{i}批次自来水管网改造的通知。") for i in range(60)]

    async def write():
        for i in range(0, 60, 10):
            await index.upsert(docs[i:i + 10])

    async def read():
        for _ in range(10):
            assert (await index.search("燃气泄漏")).hits[0].key == "article:4"

    await asyncio.gather(write(), read())
    assert (await index.search("管网改造")).total == 60


async def test_category_filter_takes_the_categories_under_it(index_factory):
    index = await index_factory()
    await index.upsert([art(21, "电梯维修资金申请", "老旧小区电梯维修资金申请流程。", category="C010101"),
                        art(22, "物业维修资金申请", "小区公共部位维修资金申请条件。", category="C010202"),
                        art(23, "公积金提取申请", "退休职工可以申请提取公积金。", category="C0501")])
    found = await index.search("申请", SearchFilters(category="C01"))
    assert {h.ref_id for h in found.hits} == {"21", "22"} and found.total == 2
    assert {h.ref_id for h in (await index.search("申请", SearchFilters(category="C0101"))).hits} == {"21"}
    assert {h.ref_id for h in (await index.search("申请", SearchFilters(category="C010101"))).hits} == {"21"}


async def test_ticket_highlight_shows_a_title_that_starts_its_text_once(index_factory):
    index = await index_factory()
    text = "东山区凤凰路路灯坏了好几天"
    await index.upsert([SearchDoc(kind="ticket", ref_id="14", title=text, body=text, status="closed"),
                        SearchDoc(kind="ticket", ref_id="15", title="凤凰路路灯", body="好几天晚上都不亮", status="closed")])
    hits = {h.ref_id: h for h in (await index.search("路灯 维修资金")).hits}
    assert hits["14"].highlight.replace("<em>", "").replace("</em>", "") == text
    assert hits["15"].highlight.replace("<em>", "").replace("</em>", "") == "凤凰路路灯 好几天晚上都不亮"


async def test_masked_hit_marks_only_the_masked_text(index_factory):
    from hotline.identity import mask_phones_in_text
    from knowledge.search.base import masked_hit

    index = await index_factory()
    text = "工地夜间噪音，联系我13912345678，负责人１３５８７６５４３２１"
    await index.upsert([SearchDoc(kind="ticket", ref_id="16", title=text[:15], body=text, status="closed",
                                  extra={"text": text[:12], "reply": "已联系13912345678"})])
    hit = (await index.search("噪音 13 91 23 45 67 78")).hits[0]
    assert "<em>" in hit.highlight and "13912345678" in hit.highlight.replace("<em>", "").replace("</em>", "")
    masked = masked_hit(hit, mask_phones_in_text)
    plain = masked.highlight.replace("<em>", "").replace("</em>", "")
    assert plain == "工地夜间噪音，联系我139****5678，负责人135****4321" and "<em>噪音</em>" in masked.highlight
    assert masked.title == "工地夜间噪音，联系我139**" and masked.extra["text"] == "工地夜间噪音，联系我13"
    assert masked.extra["reply"] == "已联系139****5678"
