"""The semantic search stage: any search backend's best article candidates re-ranked with sentence vectors.

:class:`SemanticSearchIndex` wraps a :class:`~knowledge.search.base.SearchIndex` (embedded or
Elasticsearch) and keeps its contract. Writes go to the wrapped index, and articles are embedded on the
way in (:mod:`knowledge.semantic.store`: only lines whose text changed are embedded again). An article
search (``kinds=("article",)``) asks the wrapped index for its best :data:`DEPTH` candidates and orders
them by

    score / best score + TITLE_WEIGHT * question-line cosine + BODY_WEIGHT * passage cosine

where each cosine is the best of the query's with one of the article's question lines (title lines and FAQ
questions) or passages (body lines), min-max scaled over the candidates. Hits keep the wrapped index's
highlights; their score becomes the best lexical score times their share of the best fused value, so that
scores still fall with rank. Ticket searches, and searches whose candidates are not all embedded yet (an
article saved a moment ago, while its vectors are computed), keep the wrapped index's order.

The weights were chosen on the knowledge base's own questions, never on held-out ones: on the policy Q&A
benchmark (``bench/kb_results.md``) each article's title questions were split in thirds, each third asked
against the article without it, and the weights that maximised recall@1 + recall@5 over those questions,
pooled over the five splits, are the ones below.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import numpy as np

from knowledge.search.base import DocSource, SearchDoc, SearchFilters, SearchIndex, SearchResult
from knowledge.semantic.store import DocLines, DocVectors, DocVectorStore, doc_lines

log = logging.getLogger(__name__)

DEPTH = 30  # candidates re-ranked
# Tokens of the query the encoder reads: a question is 10-30; agent assist sends a ticket's whole text, whose
# first sentences say what it is about, and the encoder's cost grows with its length (~0.3 ms a token).
QUERY_TOKENS = 64
TITLE_WEIGHT = 0.45
BODY_WEIGHT = 0.15


class SemanticSearchIndex(SearchIndex):
    """``inner``'s search with its article candidates re-ranked by ``encoder``'s vectors (see the module)."""

    def __init__(self, inner: SearchIndex, encoder, store: DocVectorStore, *, depth: int = DEPTH,
                 title_weight: float = TITLE_WEIGHT, body_weight: float = BODY_WEIGHT) -> None:
        self.inner, self.encoder, self.store = inner, encoder, store
        self.depth, self.title_weight, self.body_weight = depth, title_weight, body_weight

    def __getattr__(self, name: str):  # tokenizer, synonyms, places, refresh ... are the wrapped index's
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    # -- lifecycle and writes ----------------------------------------------
    async def open(self) -> None:
        await self.inner.open()
        await self.store.open()

    async def close(self) -> None:
        await self.inner.close()

    def use_places(self, places) -> None:
        self.inner.use_places(places)

    def set_synonyms(self, synonyms) -> None:
        self.inner.set_synonyms(synonyms)

    async def upsert(self, docs: Iterable[SearchDoc]) -> int:
        docs = list(docs)
        await self.embed([d for d in docs if d.kind == "article"])
        return await self.inner.upsert(docs)

    async def delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        await self.inner.delete(keys)
        await self.store.forget(k for k in keys if k.startswith("article:"))

    async def count(self) -> int:
        return await self.inner.count()

    async def reindex(self, source: DocSource) -> int:
        async def embedded():
            async for batch in source():
                await self.embed([d for d in batch if d.kind == "article"])
                yield batch

        return await self.inner.reindex(embedded)

    async def embed(self, docs: list[SearchDoc]) -> int:
        """Store the vectors of the articles whose lines changed; returns how many were embedded. When the
        encoder fails, the articles' old vectors are forgotten (their searches fall back to the lexical
        order) and the write goes on: the index must take every change even without the model."""
        if not docs:
            return 0
        stored = await self.store.fingerprints([d.key for d in docs])
        todo: list[tuple[SearchDoc, DocLines, str]] = []
        for doc in docs:
            lines = doc_lines(doc)
            fingerprint = lines.fingerprint(self.encoder.name)
            if stored.get(doc.key) != fingerprint:
                todo.append((doc, lines, fingerprint))
        if not todo:
            return 0
        try:
            vectors = await asyncio.to_thread(self._vectors, todo)
        except Exception:  # noqa: BLE001 - a model failure must not lose the index write
            log.exception("embedding %d articles failed; they are searched without vectors", len(todo))
            await self.store.forget(doc.key for doc, _, _ in todo)
            return 0
        await self.store.put(vectors)
        return len(vectors)

    def _vectors(self, todo) -> list[tuple[str, DocVectors]]:
        out = []
        for doc, lines, fingerprint in todo:
            questions = [self.encoder.embed(q) for q in lines.questions]
            passages = [self.encoder.embed(p, passage=True) for p in lines.passages]
            out.append((doc.key, DocVectors(fingerprint, _matrix(questions, self.store.width),
                                            _matrix(passages, self.store.width))))
        return out

    # -- reads -------------------------------------------------------------
    async def search(self, query: str, filters: SearchFilters | None = None, limit: int = 10) -> SearchResult:
        if filters is None or tuple(filters.kinds) != ("article",):
            return await self.inner.search(query, filters, limit)
        # the query is embedded in a worker thread while the backend searches (ONNX Runtime releases the GIL):
        # the stage then costs about the longer of the two, not their sum
        embedding = asyncio.ensure_future(asyncio.to_thread(self.encoder.embed, query, False, QUERY_TOKENS))
        try:
            result = await self.inner.search(query, filters, max(limit, self.depth))
            hits = result.hits
            if len(hits) < 2:
                return SearchResult(hits[:limit], result.total)
            await self.store.refresh()
            vectors = [self.store.get(h.key) for h in hits]
            if any(v is None for v in vectors):
                return SearchResult(hits[:limit], result.total)
            try:
                q = await embedding
            except Exception:  # noqa: BLE001 - a model failure must not fail the search
                log.exception("embedding the query failed; answered in the lexical order")
                return SearchResult(hits[:limit], result.total)
        finally:
            if not embedding.done():
                embedding.cancel()  # not needed after all; the thread finishes on its own
        fused = fuse([h.score for h in hits], [_best(v.questions, q) for v in vectors],
                     [_best(v.passages, q) for v in vectors], self.title_weight, self.body_weight)
        order = np.argsort(-fused, kind="stable")[:limit]
        best_lexical, best_fused = hits[0].score, float(fused[order[0]]) or 1.0
        ranked = []
        for i in order:
            hit = hits[int(i)]
            hit.score = best_lexical * float(fused[i]) / best_fused
            ranked.append(hit)
        return SearchResult(ranked, result.total)


def fuse(scores, questions, passages, title_weight: float = TITLE_WEIGHT,
         body_weight: float = BODY_WEIGHT) -> np.ndarray:
    """The fused value of each candidate (see the module); ``scores`` best first."""
    scores = np.asarray(scores, dtype=np.float64)
    lexical = scores / scores[0] if scores[0] > 0 else scores
    return lexical + title_weight * _scaled(questions) + body_weight * _scaled(passages)


def _scaled(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    spread = values.max() - values.min()
    return (values - values.min()) / spread if spread > 0 else np.zeros_like(values)


def _best(matrix: np.ndarray, q: np.ndarray) -> float:
    return float((matrix.astype(np.float32) @ q).max()) if len(matrix) else 0.0


def _matrix(rows: list[np.ndarray], width: int) -> np.ndarray:
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, width), dtype=np.float32)
