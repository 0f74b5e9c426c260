"""The embedded search backend: an in-process BM25 index persisted in the database.

Documents (with their jieba tokens) live in ``kb_search_docs`` in the same
SQLite or PostgreSQL store as everything else; each process loads them into
numpy/scipy segments (:mod:`knowledge.search.ranker`). Writes go to the table
and to a small in-memory "delta" segment; when the delta grows it is merged
into a new main segment built in a worker thread, then swapped in. Other
processes (the jobs worker indexes tickets) are caught up on the next search
by reading rows with a newer ``seq``. ``engine=None`` gives a memory-only
index (``hotline kb evaluate``, the benchmark).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import replace_rows
from knowledge.search.base import (
    DocSource, SearchDoc, SearchFilters, SearchHit, SearchIndex, SearchResult,
    doc_text, faq_questions, highlight_terms, make_hit, query_terms, weighted,
)
from knowledge.places import RERANK_DEPTH, Places, QueryRegions, default_places, rerank_factor
from knowledge.search.ranker import Ranker, Segment, TitleLines, bm25_idf, top_k
from knowledge.synonyms import SynonymSet
from knowledge.tables import kb_search_docs
from knowledge.tokenize import Tokenizer

DELTA_LIMIT = 2000          # merge the delta segment into main beyond this many docs
REFRESH_SECONDS = 1.0       # how often a search looks for other processes' writes
SEQ_OVERLAP_US = 5_000_000  # re-read this much of the past on refresh (clock skew, slow commits)
BATCH = 500
# A candidate's score is multiplied by 1 + this x the share of its best title line the query covers: of sibling
# service guides sharing the query's words (办理往来港澳通行证 / …团队游签注 / …进度查询) the one whose title the
# query nearly spells out wins (bench/kb_results.md).
TITLE_COVERAGE_WEIGHT = 0.3
# An article that answers many questions (title lines, FAQ questions of its body) gathers partial matches from
# all of them: its score is divided by its number of questions to this power, less the share of its best title
# line that the query covers (a question asked word for word is not held against its article; bench/kb_results.md).
QUESTION_COUNT_EXPONENT = 0.15


@dataclass
class _Doc:
    """A live document; its jieba words are kept (costly to redo), bigrams are recomputed when building."""

    doc: SearchDoc
    words: list[str]
    seq: int
    deleted: bool = False


class _Block:
    """A segment plus the documents it holds and their filter columns."""

    def __init__(self, docs: Sequence[_Doc], places: Places) -> None:
        self.docs = list(docs)
        self.regions = [places.regions(d.words) for d in self.docs]
        self.keys = [d.doc.key for d in self.docs]
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.segment = Segment.build([d.words for d in self.docs],
                                     [Tokenizer.bigrams(doc_text(d.doc)) for d in self.docs])
        self.alive = np.ones(len(self.docs), dtype=bool)
        lines = [_title_lines(d.doc) for d in self.docs]
        self.titles = TitleLines(lines, self.segment.fields["bigrams"].vocab)
        self.breadth = np.array([max(1, len(x)) for x in lines], dtype=np.float32) ** -QUESTION_COUNT_EXPONENT
        self.columns = {
            name: np.array([getattr(d.doc, name) or "" for d in self.docs], dtype=object)
            for name in ("kind", "ref_id", "category", "unit", "status")
        }
        self.categories = np.array([d.doc.category or "" for d in self.docs], dtype=str)
        self.dates = np.array(
            [d.doc.date.timestamp() if d.doc.date else np.nan for d in self.docs], dtype=np.float64)
        self.max_seq = max((d.seq for d in self.docs), default=0)

    def mask(self, f: SearchFilters | None) -> np.ndarray:
        m = self.alive.copy()
        if not f or not len(m):
            return m
        if f.kinds:
            m &= np.isin(self.columns["kind"], list(f.kinds))
        if f.category:  # a category and the ones under it (C01: C010101), as the ticket list filters
            m &= np.char.startswith(self.categories, f.category)
        if f.unit:
            m &= self.columns["unit"] == f.unit
        if f.status:
            m &= np.isin(self.columns["status"], list(f.status))
        if f.ref_ids:
            m &= np.isin(self.columns["ref_id"], list(f.ref_ids))
        with np.errstate(invalid="ignore"):
            if f.date_from:
                m &= self.dates >= f.date_from.timestamp()
            if f.date_to:
                m &= self.dates <= f.date_to.timestamp()
        return m

    def title_boost(self, scores: np.ndarray, pairs: Iterable[str], weights: tuple[np.ndarray, np.ndarray]) -> None:
        """Up-rank the best candidates by how much of one of their title lines the query spells out (in
        place): ``weights`` are the pairs' idf and each title line's total (:meth:`EmbeddedSearchIndex._title_weights`)."""
        best = top_k(scores, RERANK_DEPTH)
        if not best.size:
            return
        vocab = self.segment.fields["bigrams"].vocab
        cover = self.titles.coverage([vocab[x] for x in pairs if x in vocab], *weights)[best]
        scores[best] *= (1 + TITLE_COVERAGE_WEIGHT * cover) * self.breadth[best] ** -cover

    def rerank(self, scores: np.ndarray, query_regions: QueryRegions) -> None:
        """Place-aware re-rank of the best candidates, in place (see :mod:`knowledge.places`)."""
        if not query_regions:
            return
        for i in top_k(scores, RERANK_DEPTH):
            scores[i] *= rerank_factor(query_regions, self.regions[i])


def _title_lines(doc: SearchDoc) -> list[list[str]]:
    """The character pairs of each line of an article's title and of the questions its body lines start
    with (what :func:`doc_text` counts as title); none for tickets, whose title is only the start of their text."""
    if doc.kind != "article":
        return []
    lines = [*(doc.title or "").splitlines(), *faq_questions(doc)]
    return [pairs for pairs in map(Tokenizer.bigrams, lines) if pairs]


def _interned(words: list[str]) -> list[str]:
    """One string object per distinct token (a 100k-article index holds millions of token references)."""
    return list(map(sys.intern, words))


def _now_seq() -> int:
    return time.time_ns() // 1000


class EmbeddedSearchIndex(SearchIndex):
    def __init__(self, engine: AsyncEngine | None, *, tokenizer: Tokenizer | None = None,
                 synonyms: SynonymSet | None = None, ranker: Ranker | None = None,
                 places: Places | None = None) -> None:
        self.engine = engine
        self.synonyms = synonyms or SynonymSet()
        self.tokenizer = tokenizer or Tokenizer(self.synonyms.terms())
        self.use_places(places or default_places())
        self.ranker = ranker or Ranker(k1=1.2, b=0.9, bigram_weight=1.0)
        self._docs: dict[str, _Doc] = {}
        self._main = _Block([], self.places)
        self._delta = _Block([], self.places)
        self._delta_dirty = False
        self._weights_for: tuple[_Block, ...] | None = None
        self._weights: list[tuple[np.ndarray, np.ndarray]] = []
        self._last_seq = 0
        self._last_refresh = 0.0
        self._merging: asyncio.Task | None = None
        self._reindexing = False
        self._writing = asyncio.Lock()  # upserts and deletes apply in the order they were called

    # -- lifecycle -------------------------------------------------------
    async def open(self) -> None:
        if self.engine is None:
            return
        docs = await self._load_since(0)
        for d in docs:
            self._docs[d.doc.key] = d
        self._main = await asyncio.to_thread(_Block, list(self._docs.values()), self.places)
        self._last_refresh = time.monotonic()

    async def close(self) -> None:
        if self._merging:
            await self._merging

    # -- writes ----------------------------------------------------------
    def _prepare(self, doc: SearchDoc, seq: int) -> _Doc:
        return _Doc(doc, _interned(self.tokenizer.words(doc_text(doc))), seq)

    def _tokenize(self, docs: list[SearchDoc]) -> list[list[str]]:
        """The documents' jieba words: pure CPU work on the tokenizer only, run in a worker thread."""
        return [_interned(self.tokenizer.words(doc_text(d))) for d in docs]

    async def upsert(self, docs: Iterable[SearchDoc]) -> int:
        """Tokenise in a worker thread (a 200 000-character article takes about a second of jieba), then
        write and apply on the event loop. The lock keeps concurrent writes in call order, so an older copy
        of a document tokenised more slowly never replaces a newer one."""
        docs = list(docs)
        if not docs:
            return 0
        async with self._writing:
            words = await asyncio.to_thread(self._tokenize, docs)
            seq = _now_seq()  # after tokenising: other processes re-read only SEQ_OVERLAP_US of the past
            prepared = [_Doc(d, w, seq) for d, w in zip(docs, words)]
            if self.engine is not None:
                await self._write_rows(prepared)
            self._apply(prepared, [])
        return len(prepared)

    async def delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        async with self._writing:
            if self.engine is not None and keys:
                async with self.engine.begin() as conn:
                    await conn.execute(
                        kb_search_docs.update().where(kb_search_docs.c.key.in_(keys))
                        .values(deleted=True, seq=_now_seq()))
            self._apply([], keys)

    def _apply(self, docs: list[_Doc], deleted: list[str]) -> None:
        for key in [*deleted, *(d.doc.key for d in docs)]:
            self._docs.pop(key, None)
            self._kill(key)
        for d in docs:
            self._docs[d.doc.key] = d
        self._delta_dirty = True
        if self._delta_size() > DELTA_LIMIT and self._merging is None and not self._reindexing:
            self._merging = asyncio.ensure_future(self._merge())

    def _kill(self, key: str) -> None:
        row = self._main.index.get(key)
        if row is not None:
            self._main.alive[row] = False

    def _delta_size(self) -> int:
        return len(self._docs) - int(self._main.alive.sum())

    def _delta_docs(self) -> list[_Doc]:
        main, alive = self._main.index, self._main.alive
        return [d for k, d in self._docs.items() if k not in main or not alive[main[k]]]

    async def _merge(self) -> None:
        try:
            snapshot = list(self._docs.values())
            block = await asyncio.to_thread(_Block, snapshot, self.places)
            # Anything changed or deleted while building stays out of the new main.
            for i, d in enumerate(block.docs):
                current = self._docs.get(d.doc.key)
                if current is not d:
                    block.alive[i] = False
            self._main = block
            self._delta_dirty = True
        finally:
            self._merging = None

    async def _write_rows(self, docs: list[_Doc]) -> None:
        rows = [{
            "key": d.doc.key, "kind": d.doc.kind, "ref_id": str(d.doc.ref_id), "title": d.doc.title or "",
            "body": d.doc.body or "", "category": d.doc.category, "unit": d.doc.unit, "status": d.doc.status,
            "date": d.doc.date, "extra": d.doc.extra or {}, "words": " ".join(d.words),
            "deleted": False, "seq": d.seq,
        } for d in docs]
        async with self.engine.begin() as conn:
            await replace_rows(conn, kb_search_docs, rows, batch=BATCH)

    async def _load_since(self, seq: int, include_deleted: bool = False) -> list[_Doc]:
        query = sa.select(kb_search_docs).where(kb_search_docs.c.seq > seq).order_by(kb_search_docs.c.seq)
        if not include_deleted:
            query = query.where(kb_search_docs.c.deleted.is_(False))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        out = []
        for r in rows:
            doc = SearchDoc(kind=r["kind"], ref_id=r["ref_id"], title=r["title"], body=r["body"],
                            category=r["category"], unit=r["unit"], status=r["status"], date=r["date"],
                            extra=r["extra"] or {})
            out.append(_Doc(doc, _interned(r["words"].split()), r["seq"], r["deleted"]))
            self._last_seq = max(self._last_seq, r["seq"])
        return out

    async def refresh(self, force: bool = False) -> None:
        """Pick up writes made by other processes since the last look."""
        if self.engine is None:
            return
        if not force and time.monotonic() - self._last_refresh < REFRESH_SECONDS:
            return
        self._last_refresh = time.monotonic()
        changed = await self._load_since(max(0, self._last_seq - SEQ_OVERLAP_US), include_deleted=True)
        fresh = [d for d in changed if not d.deleted
                 and (d.doc.key not in self._docs or self._docs[d.doc.key].seq < d.seq)]
        gone = [d.doc.key for d in changed if d.deleted
                and d.doc.key in self._docs and self._docs[d.doc.key].seq <= d.seq]
        if fresh or gone:
            self._apply(fresh, gone)

    # -- reads -----------------------------------------------------------
    def _current_delta(self) -> _Block:
        if self._delta_dirty:
            self._delta = _Block(self._delta_docs(), self.places)
            self._delta_dirty = False
        return self._delta

    async def search(self, query: str, filters: SearchFilters | None = None, limit: int = 10) -> SearchResult:
        await self.refresh()
        terms = query_terms(self.tokenizer, self.synonyms, query)
        words, added = terms.words, terms.added
        if not words:  # nothing but question and filler words (请问怎么办？): no topic to search for
            return SearchResult([], 0)
        blocks = [self._main, self._current_delta()]
        scores = self.ranker.score([b.segment for b in blocks], weighted(words, added, self.places), terms.bigrams)
        query_regions = self.places.query_regions(words)
        # how much of a title line the query spells out counts its asking words too (社保卡丢了怎么办 is that
        # title line word for word), though they match nothing on their own (knowledge.tokenize.ASKING_WORDS)
        pairs = set(terms.bigrams) | set(self.tokenizer.bigrams(query))
        title_weights = self._title_weights(blocks)
        hits: list[tuple[float, _Doc]] = []
        total = 0
        for block, s, weights in zip(blocks, scores, title_weights):
            if not block.docs:
                continue
            keep = block.mask(filters)
            if terms.anchored:
                keep &= block.segment.containing(*terms.anchors())
            s = np.where(keep, s * block.breadth, 0.0)
            block.rerank(s, query_regions)
            block.title_boost(s, pairs, weights)
            total += int((s > 0).sum())
            hits.extend((float(s[i]), block.docs[i]) for i in top_k(s, limit))
        hits.sort(key=lambda h: -h[0])
        marked = highlight_terms(words, added)
        return SearchResult([_hit(score, d.doc, marked) for score, d in hits[:limit]], total)

    def _title_weights(self, blocks: list[_Block]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per block: the BM25 idf of each of its character pairs over all blocks, and each title line's sum
        of them; kept until the blocks change (a write makes a new delta block)."""
        if self._weights_for is not None and len(self._weights_for) == len(blocks) and all(
                a is b for a, b in zip(self._weights_for, blocks)):
            return self._weights
        fields = [b.segment.fields["bigrams"] for b in blocks]
        n = sum(b.segment.size for b in blocks)
        out = []
        for block, field in zip(blocks, fields):
            df = field.df.astype(np.float64)
            for other in fields:
                if other is field or not other.vocab:
                    continue
                if len(other.vocab) < len(field.vocab):  # add the small segment's counts to the large one's
                    for term, j in other.vocab.items():
                        k = field.vocab.get(term)
                        if k is not None:
                            df[k] += other.df[j]
                else:
                    df += np.fromiter((other.df_of(t) for t in field.vocab), dtype=np.float64, count=len(df))
            idf = bm25_idf(n, df).astype(np.float32)
            out.append((idf, np.asarray(block.titles.pairs @ idf).ravel()))
        self._weights_for, self._weights = tuple(blocks), out
        return out

    async def count(self) -> int:
        await self.refresh()
        return len(self._docs)

    async def reindex(self, source: DocSource) -> int:
        """Rebuild from the source of truth; the old segments answer until the new one is swapped in."""
        self._reindexing = True
        try:
            started = _now_seq()
            fresh: dict[str, _Doc] = {}
            async for batch in source():
                seq = _now_seq()
                prepared = await asyncio.to_thread(lambda b=batch: [self._prepare(d, seq) for d in b])
                fresh.update((d.doc.key, d) for d in prepared)
            from_source = len(fresh)
            if self.engine is not None:
                await self._replace_rows(list(fresh.values()), started)
            # Writes that arrived while rebuilding win over the rebuilt copies.
            for key, d in self._docs.items():
                if d.seq >= started:
                    fresh[key] = d
            block = await asyncio.to_thread(_Block, list(fresh.values()), self.places)
            self._docs = dict(fresh)
            self._main = block
            self._delta_dirty = True
            return from_source
        finally:
            self._reindexing = False

    async def _replace_rows(self, docs: list[_Doc], started: int) -> None:
        keep = {d.doc.key for d in docs}
        async with self.engine.begin() as conn:
            existing = (await conn.execute(sa.select(kb_search_docs.c.key, kb_search_docs.c.seq))).all()
            stale = [k for k, seq in existing if k not in keep and seq < started]
            for i in range(0, len(stale), BATCH):
                await conn.execute(kb_search_docs.update().where(kb_search_docs.c.key.in_(stale[i:i + BATCH]))
                                   .values(deleted=True, seq=_now_seq()))
        recent = {k for k, seq in existing if seq >= started}
        await self._write_rows([d for d in docs if d.doc.key not in recent])


def _hit(score: float, doc: SearchDoc, terms: list[str]) -> SearchHit:
    return make_hit(key=doc.key, kind=doc.kind, ref_id=str(doc.ref_id), score=score, title=doc.title,
                    body=doc.body, terms=terms, category=doc.category, unit=doc.unit, status=doc.status,
                    date=doc.date, extra=dict(doc.extra or {}))
