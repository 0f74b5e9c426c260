"""Retrieval evaluation: recall@1/@5, MRR and time per query for a ranker over (articles, queries).

Articles come from a CSV/JSONL with an id column and one or more text columns;
rows sharing an id are joined into one article (e.g. several answers from one
policy document). An optional title column gives the article's title: the
distinct titles of its rows, one per line (an FAQ article's questions), ranked
as titles are in the product (:func:`knowledge.search.base.doc_text`). Queries
whose gold id has no article, and blank queries, are skipped and counted; when no query is left the
evaluation is refused (:func:`require_usable`).
"""

from __future__ import annotations

import csv
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.search.base import SearchFilters

ARTICLES = SearchFilters(kinds=("article",))  # what the evaluation searches: every document is an article


class InputError(ValueError):
    """Bad user input (missing file or column); the message is user-facing Chinese."""


def read_rows(path: str | Path) -> Iterable[dict]:
    return (row for _, row in numbered_rows(path))


def numbered_rows(path: str | Path) -> Iterable[tuple[int, Any]]:
    """``(number, row)`` for each row of a UTF-8 CSV or JSONL file (:func:`rows_in`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"文件不存在：{path}")
    try:
        yield from rows_in(path, "utf-8-sig")
    except UnicodeDecodeError:  # e.g. a CSV saved by Excel as GBK
        raise InputError(f"文件必须是 UTF-8 编码：{path.name}") from None


def rows_in(path: Path, encoding: str) -> Iterable[tuple[int, Any]]:
    """``(number, row)`` for each row of a CSV or JSONL file read in ``encoding`` (UnicodeDecodeError when it
    is not that encoding).

    A CSV row is numbered as a spreadsheet shows it: the header is row 1, so the first data row is 2
    (blank lines count, a line break inside a quoted cell does not); a JSONL row by its line in the file.
    Header names are stripped; short rows are padded with None, extra cells go under None (as csv.DictReader).
    """
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open(encoding=encoding) as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except json.JSONDecodeError:
                        raise InputError(f"{path.name} 第 {number} 行不是合法的 JSON") from None
        return
    with path.open(encoding=encoding, newline="") as fh:
        header: list[str] | None = None
        for number, record in enumerate(csv.reader(fh), 1):
            if header is None:
                header = [h.strip() for h in record] or None
            elif record:
                row: dict = dict(zip(header, record))
                row.update((name, None) for name in header[len(record):])
                if len(record) > len(header):
                    row[None] = record[len(header):]
                yield number, row


def require_columns(row: dict, columns: Sequence[str], path) -> None:
    if not isinstance(row, dict):  # a JSONL line holding a list, a number ...
        raise InputError(f"{Path(path).name} 的每一行都必须是 JSON 对象")
    missing = [c for c in columns if c not in row]
    if missing:
        raise InputError(f"{Path(path).name} 缺少列：{', '.join(missing)}（已有列：{', '.join(row)}）")


def load_articles(path, id_col: str, text_cols: Sequence[str],
                  title_col: str | None = None) -> "OrderedDict[str, tuple[str, str]]":
    """Article id -> (title, body): rows sharing an id joined, titles deduplicated, one per line."""
    bodies: OrderedDict[str, list[str]] = OrderedDict()
    titles: dict[str, list[str]] = {}
    for row in read_rows(path):
        require_columns(row, [id_col, *text_cols, *([title_col] if title_col else [])], path)
        key = str(row[id_col])
        bodies.setdefault(key, []).append(" ".join(str(row.get(c) or "") for c in text_cols).strip())
        title = str(row.get(title_col) or "").strip() if title_col else ""
        if title and title not in titles.setdefault(key, []):
            titles[key].append(title)
    if not bodies:
        raise InputError(f"{Path(path).name} 没有数据行")
    return OrderedDict((k, ("\n".join(titles.get(k, [])), "\n".join(v))) for k, v in bodies.items())


def article_text(article: tuple[str, str]) -> str:
    """An article's whole text (title, then body) for rankers without fields (the BM25 baseline)."""
    return "\n".join(p for p in article if p)


def load_queries(path, query_col: str, gold_col: str) -> list[tuple[str, str]]:
    out = []
    for row in read_rows(path):
        require_columns(row, [query_col, gold_col], path)
        out.append((str(row[query_col]), str(row[gold_col])))
    if not out:
        raise InputError(f"{Path(path).name} 没有数据行")
    return out


def usable_queries(queries: Sequence[tuple[str, str]], known_ids: set[str]) -> list[tuple[str, str]]:
    """The queries that can be evaluated: not blank, and with a gold id among the articles."""
    return [(q, g) for q, g in queries if q.strip() and g in known_ids]


def require_usable(queries: Sequence[tuple[str, str]], known_ids: set[str]) -> None:
    """InputError when no query can be evaluated (metrics of 0 would read as a real miss)."""
    if usable_queries(queries, known_ids):
        return
    missing = sum(1 for _, g in queries if g not in known_ids)
    blank = sum(1 for q, g in queries if g in known_ids and not q.strip())
    reasons = ([f"{missing} 条的标准答案编号在文章中找不到"] if missing else []) + \
        ([f"{blank} 条查询为空"] if blank else [])
    raise InputError("没有可评测的查询：" + "，".join(reasons))


@dataclass
class Metrics:
    name: str
    queries: int
    skipped: int
    recall_at_1: float
    recall_at_5: float
    mrr: float
    ms_per_query: float
    p95_ms: float

    def as_json(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


async def evaluate(name: str, rank: Callable[[str], Awaitable[Sequence[str]]], queries: Sequence[tuple[str, str]],
                   known_ids: set[str], progress: Callable[[int], None] | None = None) -> Metrics:
    """``await rank(query)`` returns article ids best first (at least 10 when available); blank queries and
    those whose gold id is not in ``known_ids`` are skipped."""
    kept = usable_queries(queries, known_ids)
    r1 = r5 = rr = 0.0
    times = []
    for i, (query, gold) in enumerate(kept):
        t0 = time.perf_counter()
        ranked = list(await rank(query))[:10]
        times.append((time.perf_counter() - t0) * 1000)
        if gold in ranked:
            pos = ranked.index(gold)
            r1 += pos == 0
            r5 += pos < 5
            rr += 1 / (pos + 1)
        if progress and (i + 1) % 100 == 0:
            progress(i + 1)
    n = max(len(kept), 1)
    return Metrics(name, len(kept), len(queries) - len(kept), r1 / n, r5 / n, rr / n,
                   float(np.mean(times)) if times else 0.0,
                   float(np.percentile(times, 95)) if times else 0.0)


async def build_embedded(articles: "OrderedDict[str, tuple[str, str]]", log: Callable[[str], None] | None = None,
                         places=None, semantic: Path | None = None):
    """A memory-only embedded index over ``articles`` (id -> (title, body)): the product's own ranking code;
    with the semantic stage (:mod:`knowledge.semantic`, its model file built in the directory ``semantic``)
    when that is given. Search it with ``ARTICLES`` as filters: the semantic stage re-ranks article searches."""
    from knowledge.search.base import SearchDoc
    from knowledge.search.embedded import EmbeddedSearchIndex

    index = EmbeddedSearchIndex(None, places=places)
    batch = 1000
    if semantic is not None:
        from knowledge.semantic import wrap

        index, batch = wrap(index, None, semantic), 100  # embedding is slow: finer progress
    await index.open()
    docs = [SearchDoc(kind="article", ref_id=k, title=title, body=body) for k, (title, body) in articles.items()]
    await index.reindex(_one_source(docs, log, batch))
    return index


def _one_source(docs, log, batch: int = 1000):
    async def source():
        for i in range(0, len(docs), batch):
            if log:
                log(f"建立索引：{min(i + batch, len(docs))}/{len(docs)}")
            yield docs[i:i + batch]
    return source


def build_bm25(articles: "OrderedDict[str, tuple[str, str]]", tokenizer, tokens: list[list[str]] | None = None):
    """Plain BM25 (k1=1.2, b=0.75) over jieba search-mode tokens: the baseline.

    ``tokens`` may give the articles' tokens already made (the benchmark shares them with FTS5).
    """
    from knowledge.search.ranker import BM25, top_k

    ids = list(articles)
    bm25 = BM25(tokens if tokens is not None else [tokenizer.plain_words(article_text(a)) for a in articles.values()])

    async def rank(query: str) -> list[str]:
        return [ids[i] for i in top_k(bm25.scores(tokenizer.plain_words(query)), 10)]

    return rank


async def run_evaluation(articles_path, id_col: str, text_cols: Sequence[str], queries_path, query_col: str,
                         gold_col: str, *, title_col: str | None = None, baseline: bool = True,
                         log: Callable[[str], None] | None = None, semantic: Path | None = None) -> dict:
    """The product's ranking (with the semantic stage when ``semantic``, its model directory, is given)
    and, with ``baseline``, plain BM25 on the same articles and queries."""
    articles = load_articles(articles_path, id_col, text_cols, title_col)
    queries = load_queries(queries_path, query_col, gold_col)
    require_usable(queries, set(articles))
    from knowledge.places import configured_places

    index = await build_embedded(articles, log, places=configured_places(), semantic=semantic)

    async def rank(query: str) -> list[str]:
        return [h.ref_id for h in (await index.search(query, ARTICLES, limit=10)).hits]

    progress = (lambda n: log(f"评测查询：{n}/{len(queries)}")) if log else None
    ours = await evaluate("embedded", rank, queries, set(articles), progress)
    result = {**ours.as_json(), "articles": len(articles), "semantic": semantic is not None}
    if baseline:
        result["bm25"] = (await evaluate("bm25", build_bm25(articles, index.tokenizer), queries,
                                         set(articles))).as_json()
    return result
