"""Stored sentence vectors of knowledge articles, one row per article, kept in memory for the query path.

An article's vectors are its *question lines* (title lines and the FAQ questions its body starts lines with,
embedded as queries) and its *passages* (body lines, embedded as passages), float16 in the database table
``kb_doc_vectors`` (migration 0016) so that every process (web, workers) shares what one of them computed.
``fingerprint`` names the lines and the model they were embedded with: an article whose text is unchanged
is never embedded again, not even by a full reindex. ``seq`` (microseconds) lets each process pick up the
rows other processes wrote (:meth:`DocVectorStore.refresh`), as the embedded search index does.

Without an engine the store lives in memory only (``hotline kb evaluate``, benchmarks).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import replace_rows
from knowledge.search.base import SearchDoc, faq_questions
from knowledge.semantic.tables import kb_doc_vectors

MAX_QUESTIONS = 100  # question lines embedded per article
MAX_PASSAGES = 200  # body lines embedded per article
REFRESH_SECONDS = 2.0  # how often a process looks for vectors another process stored
BATCH = 200


@dataclass(frozen=True)
class DocLines:
    """What of a document is embedded: question lines as queries, passages as passages."""

    questions: tuple[str, ...]
    passages: tuple[str, ...]

    def fingerprint(self, model: str) -> str:
        text = "\x1e".join([model, "\x1f".join(self.questions), "\x1f".join(self.passages)])
        return hashlib.sha1(text.encode("utf-8")).hexdigest()


def doc_lines(doc: SearchDoc) -> DocLines:
    """An article's title lines and FAQ questions (in that order, each once), and its non-empty body lines;
    an article without a body line has its title as its passage."""
    questions = [line.strip() for line in (doc.title or "").split("\n") if line.strip()]
    questions += [q for q in faq_questions(doc) if q not in questions]
    passages = [line.strip() for line in (doc.body or "").split("\n") if line.strip()]
    if not passages and questions:
        passages = [" ".join(questions)]
    return DocLines(tuple(dict.fromkeys(questions))[:MAX_QUESTIONS], tuple(passages[:MAX_PASSAGES]))


@dataclass(frozen=True)
class DocVectors:
    fingerprint: str
    questions: np.ndarray  # [n, width], L2-normalised rows (float16 once stored)
    passages: np.ndarray


def _pack(matrix: np.ndarray) -> bytes:
    return np.ascontiguousarray(matrix, dtype=np.float16).tobytes()


def _unpack(blob: bytes, width: int) -> np.ndarray:
    """float16 rows, kept so in memory (half the size; a query converts only its candidates')."""
    return np.frombuffer(blob, dtype=np.float16).reshape(-1, width)


class DocVectorStore:
    """Article vectors by search key, in memory, backed by ``kb_doc_vectors`` when an engine is given."""

    def __init__(self, engine: AsyncEngine | None, width: int) -> None:
        self.engine, self.width = engine, width
        self._docs: dict[str, DocVectors] = {}
        self._last_seq = 0
        self._last_refresh = 0.0

    async def open(self) -> None:
        await self.refresh(force=True)

    def get(self, key: str) -> DocVectors | None:
        """The document's vectors; None when it has none (never embedded, or forgotten)."""
        found = self._docs.get(key)
        return found if found is not None and found.fingerprint else None

    async def fingerprints(self, keys: Sequence[str]) -> dict[str, str]:
        """The stored fingerprint of each of ``keys`` that has a row, read from the database (a writer, such
        as a worker's per-job index, needs no more than these to know what to embed)."""
        if self.engine is None:
            return {k: self._docs[k].fingerprint for k in keys if k in self._docs}
        out: dict[str, str] = {}
        async with self.engine.connect() as conn:
            for i in range(0, len(keys), BATCH):
                query = sa.select(kb_doc_vectors.c.key, kb_doc_vectors.c.fingerprint).where(
                    kb_doc_vectors.c.key.in_(keys[i:i + BATCH]))
                out.update({r.key: r.fingerprint for r in await conn.execute(query)})
        return out

    def __len__(self) -> int:
        return len(self._docs)

    async def refresh(self, force: bool = False) -> None:
        """Load the rows stored since the last look (by this process or another)."""
        if self.engine is None or (not force and time.monotonic() - self._last_refresh < REFRESH_SECONDS):
            return
        self._last_refresh = time.monotonic()
        query = sa.select(kb_doc_vectors).where(kb_doc_vectors.c.seq > self._last_seq).order_by(kb_doc_vectors.c.seq)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        for r in rows:
            self._docs[r["key"]] = DocVectors(r["fingerprint"], _unpack(r["questions"], self.width),
                                              _unpack(r["passages"], self.width))
            self._last_seq = max(self._last_seq, r["seq"])

    async def put(self, entries: Sequence[tuple[str, DocVectors]]) -> None:
        if not entries:
            return
        if self.engine is not None:
            seq = time.time_ns() // 1000
            rows = [{"key": key, "fingerprint": v.fingerprint, "questions": _pack(v.questions),
                     "passages": _pack(v.passages), "seq": seq} for key, v in entries]
            async with self.engine.begin() as conn:
                await replace_rows(conn, kb_doc_vectors, rows, batch=BATCH)
        for key, v in entries:  # what was stored, at the precision it was stored with
            self._docs[key] = DocVectors(v.fingerprint, _unpack(_pack(v.questions), self.width),
                                         _unpack(_pack(v.passages), self.width))

    async def forget(self, keys: Iterable[str]) -> None:
        """No vectors for these documents (deleted, or changed and not embedded): an empty row, not a deleted
        one, so that every process's :meth:`refresh` drops what it held for them."""
        empty = np.zeros((0, self.width), dtype=np.float32)
        await self.put([(key, DocVectors("", empty, empty)) for key in dict.fromkeys(keys)])
