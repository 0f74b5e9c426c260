"""The Elasticsearch backend's requests, checked against a recording HTTP server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt

import pytest
from elasticsearch import AsyncElasticsearch

from knowledge.search.base import SearchDoc, SearchFilters
from knowledge.search.elasticsearch import ElasticsearchIndex, index_template

UTC = dt.timezone.utc


@pytest.fixture
async def es_index(fake_es):
    index = ElasticsearchIndex(AsyncElasticsearch(fake_es.url), prefix="kbtest", owns_client=True)
    await index.open()
    yield index
    await index.close()


def doc(ref, title, body, **kw):
    return SearchDoc(kind="article", ref_id=str(ref), title=title, body=body, **kw)


async def test_open_installs_template_and_creates_aliased_index(fake_es, es_index):
    (put,) = fake_es.of("PUT", "/_index_template/kbtest-template")
    assert put.body == index_template("kbtest")
    tpl = put.body["template"]
    assert put.body["index_patterns"] == ["kbtest-*"]
    assert tpl["settings"]["analysis"]["analyzer"]["hotline_tokens"] == {
        "type": "custom", "tokenizer": "whitespace", "filter": ["lowercase"]}
    props = tpl["mappings"]["properties"]
    assert props["words"] == {"type": "text", "analyzer": "hotline_tokens", "similarity": "hotline_bm25"}
    assert props["status"] == {"type": "keyword"} and props["date"] == {"type": "date"}
    assert tpl["mappings"]["dynamic"] == "strict"
    created = [r for r in fake_es.requests if r.method == "PUT" and r.path.startswith("/kbtest-")]
    assert len(created) == 1
    assert created[0].body == {"aliases": {"kbtest": {"is_write_index": True}}}
    # opening again (another process, a restart) does not create a second index
    again = ElasticsearchIndex(AsyncElasticsearch(fake_es.url), prefix="kbtest", owns_client=True)
    await again.open()
    await again.close()
    assert len([r for r in fake_es.requests if r.method == "PUT" and r.path.startswith("/kbtest-")]) == 1


async def test_bulk_body_carries_jieba_tokens(fake_es, es_index):
    await es_index.upsert([doc(1, "住房公积金提取", "职工退休可以提取。", category="housing", unit="gjj",
                               status="published", date=dt.datetime(2026, 1, 5, tzinfo=UTC), extra={"v": 2})])
    (bulk,) = fake_es.of("PUT", "/_bulk") + fake_es.of("POST", "/_bulk")
    assert bulk.query["refresh"] == "wait_for"
    action, source = bulk.body
    assert action == {"index": {"_index": "kbtest", "_id": "article:1"}}
    assert source["key"] == "article:1" and source["ref_id"] == "1" and source["kind"] == "article"
    assert "住房公积金" in source["words"].split() and "公积金" in source["words"].split()
    assert "退休" in source["words"].split()
    assert "积金" in source["bigrams"].split()
    assert source["date"] == "2026-01-05T00:00:00+00:00"
    assert source["extra"] == {"v": 2} and source["category"] == "housing"


async def test_query_dsl_with_synonyms_and_filters(fake_es, es_index):
    await es_index.upsert([doc(2, "社会保险缴费", "社会保险费每月缴纳。", status="published", unit="rsj",
                                date=dt.datetime(2026, 2, 1, tzinfo=UTC))])
    result = await es_index.search("社保怎么交", SearchFilters(
        kinds=("article",), unit="rsj", status=("published",), date_from=dt.datetime(2026, 1, 1, tzinfo=UTC),
        ref_ids=("2", "9")), limit=5)
    (req,) = fake_es.of("POST", "/kbtest/_search")
    q = req.body["query"]["bool"]
    assert q["should"][0] == {"match": {"words": {"query": "社保 交"}}}
    # the synonym group of 社保 is expanded at half weight
    assert q["should"][1] == {"match": {"words": {"query": "社会保险 社会保障", "boost": 0.5}}}
    assert q["should"][2] == {"match": {"bigrams": {
        "query": "社保 保怎 怎么 么交 社会 会保 保险 社会 会保 保障", "boost": 0.5}}}
    assert q["minimum_should_match"] == 1
    assert q["filter"] == [
        # a document must contain a word typed or added, a pair typed, or every pair of a synonym
        {"bool": {"should": [
            {"match": {"words": {"query": "社保 交 社会保险 社会保障"}}},
            {"match": {"bigrams": {"query": "社保 保怎 怎么 么交"}}},
            {"match": {"bigrams": {"query": "社会 会保 保险", "operator": "and"}}},
            {"match": {"bigrams": {"query": "社会 会保 保障", "operator": "and"}}}], "minimum_should_match": 1}},
        {"terms": {"kind": ["article"]}}, {"term": {"unit": "rsj"}}, {"terms": {"status": ["published"]}},
        {"terms": {"ref_id": ["2", "9"]}}, {"range": {"date": {"gte": "2026-01-01T00:00:00+00:00"}}}]
    assert req.body["size"] == 5 and req.body["track_total_hits"] is True
    assert req.query["_source_excludes"] == "words,bigrams"
    assert result.hits[0].key == "article:2"
    assert "<em>社会保险</em>" in result.hits[0].highlight


async def test_a_synonyms_character_pair_alone_is_filtered_out(fake_es, es_index):
    await es_index.upsert([doc(20, "公租房申请条件", "申请公租房须在本市无自有住房。"),
                           doc(21, "贷款额度", "缴存职工可以申请住房公积金贷款。")])
    result = await es_index.search("公积金")
    assert [h.key for h in result.hits] == ["article:21"] and result.total == 1


async def test_reindex_builds_new_index_and_swaps_alias(fake_es, es_index):
    await es_index.upsert([doc(1, "旧文章", "燃气泄漏请关闭阀门")])
    (old,) = fake_es.aliases["kbtest"]

    def source():
        async def gen():
            # during the build, search still answers from the old index, and writes reach both
            assert (await es_index.search("燃气泄漏")).hits[0].key == "article:1"
            await es_index.upsert([doc(9, "写入中", "重建期间写入的供水通知")])
            yield [doc(2, "新文章", "入学报名在五月")]
        return gen

    assert await es_index.reindex(source()) == 1
    (new,) = fake_es.aliases["kbtest"]
    assert new != old and new.startswith("kbtest-")
    (swap,) = fake_es.of("POST", "/_aliases")
    assert swap.body == {"actions": [
        {"remove": {"index": old, "alias": "kbtest"}},
        {"add": {"index": new, "alias": "kbtest", "is_write_index": True}}]}
    assert fake_es.of("POST", f"/{new}/_refresh")
    assert old not in fake_es.indices  # dropped after the swap
    assert set(fake_es.indices[new]["docs"]) == {"article:2", "article:9"}
    assert (await es_index.search("入学报名")).hits[0].key == "article:2"
    assert await es_index.count() == 2


async def test_delete_and_engine_down(fake_es, es_index):
    await es_index.upsert([doc(1, "停车", "小区停车收费")])
    await es_index.delete(["article:1", "article:404"])
    ops = [r for r in fake_es.requests if r.path.endswith("/_bulk")][-1].body
    assert ops == [{"delete": {"_index": "kbtest", "_id": "article:1"}},
                   {"delete": {"_index": "kbtest", "_id": "article:404"}}]
    assert await es_index.count() == 0
    fake_es.fail = True
    with pytest.raises(Exception):
        await es_index.upsert([doc(2, "停车", "停车")])


async def test_opening_an_existing_index_adds_new_fields(fake_es, es_index):
    (name,) = fake_es.aliases["kbtest"]
    again = ElasticsearchIndex(AsyncElasticsearch(fake_es.url), prefix="kbtest", owns_client=True)
    await again.open()
    await again.close()
    # an index made by an older template gets the regions field before documents carrying it arrive
    assert fake_es.indices[name]["mapping_updates"] == [{"properties": {"regions": {"type": "keyword"}}}]


async def test_place_words_and_regions_in_documents_and_queries(fake_es, es_index):
    await es_index.upsert([
        doc(1, "山东", "山东省优化审批流程，推行不见面审批和网上办理。"),
        doc(2, "河南", "河南省优化审批流程，推行不见面审批、网上办理和容缺受理。"),
        doc(3, "全国", "优化审批流程的通用要求。"),
    ])
    sources = {op["key"]: op for op in fake_es.of("PUT", "/_bulk")[-1].body if "key" in op} or {
        op["key"]: op for op in fake_es.of("POST", "/_bulk")[-1].body if "key" in op}
    assert sources["article:1"]["regions"] == ["山东"] and sources["article:2"]["regions"] == ["河南"]
    assert sources["article:3"]["regions"] == []

    result = await es_index.search("山东省优化审批流程有哪些措施")
    (req,) = fake_es.of("POST", "/kbtest/_search")
    fs = req.body["query"]["function_score"]
    should = fs["query"]["bool"]["should"]
    # the place word counts four times: once with the other words, three more times on its own
    assert {"match": {"words": {"query": "山东 山东省", "boost": 3.0}}} in should
    assert fs["score_mode"] == "first" and fs["boost_mode"] == "multiply"
    assert fs["functions"] == [{"filter": {"terms": {"regions": ["山东"]}}, "weight": 1.3},
                               {"filter": {"exists": {"field": "regions"}}, "weight": 0.7}]
    assert [h.key for h in result.hits][0] == "article:1"
    assert [h.key for h in result.hits][-1] == "article:2"  # another province goes below the general one

    await es_index.search("审批流程")  # no place named: the plain query, no function_score
    assert "bool" in fake_es.of("POST", "/kbtest/_search")[-1].body["query"]
