"""Knowledge search benchmark: the embedded ranker beside plain BM25 (and SQLite FTS5), in one run.

    python bench/kb_bench.py [--shared PATH] [--splits 5] [--size 100000] [--queries 500] [--json]

1. Retrieval quality on ../shared/data/ncp_policy_qa (not shipped with the project):
   for each split (seeded), 20 % of the questions are held out; every document id
   becomes one article made of the remaining questions and answers of that
   document; held-out questions are the queries, their document id the gold
   article (questions whose document has no article left are skipped, as the
   evaluate CLI does). Reported per ranker: recall@1, recall@5, MRR, ms/query.
   Two ways of building the same articles, both in every split:
     * rows - the rows' "question answer" texts as the body, no title (as before);
     * faq  - the same body, with the document's remaining questions as the title
              (one per line: an FAQ article's questions; ``kb evaluate --title-col``).
   Rankers, all computed in this run on the same splits:
     * embedded  - this project's EmbeddedSearchIndex (jieba words + char bigrams,
                   BM25 k1=1.2 b=0.9 each, max-normalised and summed), full search path;
     * bm25      - plain BM25 (k1=1.2, b=0.75) over jieba search-mode tokens;
     * fts5      - SQLite FTS5 bm25() over the same jieba search-mode tokens (OR query);
     * semantic  - the embedded index with the optional semantic stage (``knowledge.semantic``:
                   multilingual-e5-small re-ranks the best 30 articles), when ``hotline[semantic]``
                   is installed (``--no-semantic`` skips it). Every distinct line is embedded once per
                   run and reused across splits and forms (the product embeds each once, too).
2. Chatbot: milliseconds per ``Chatbot.respond()`` on the shipped 云州市 demo knowledge
   base with a SQLite store (search, coverage check, dialogue state and log
   writes included): the budget is WeChat's 5-second passive-reply window.
3. Latency at scale: ``--size`` synthetic articles (words drawn from jieba's
   dictionary by frequency, ~200 characters each) in a memory-only embedded
   index; p50/p95/p99 of ``search()`` (with highlighting, with and without a
   status filter) over ``--queries`` queries taken from random articles, and the
   same for plain BM25 and FTS5 as peers. With the semantic stage: the same queries through it, after a
   pass that embeds the articles among their candidates (in the product a job embeds every article when
   it is saved; embedding all 100,000 synthetic articles would take hours and change nothing in a query's
   cost, which is the query's embedding plus the candidates' stored vectors).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import json
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.evaluate import ARTICLES, article_text, build_bm25, build_embedded, evaluate  # noqa: E402
from knowledge.search.base import SearchDoc, SearchFilters  # noqa: E402
from knowledge.search.embedded import EmbeddedSearchIndex  # noqa: E402
from knowledge.tokenize import Tokenizer  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Fts5:
    """SQLite FTS5 over pre-tokenized (space-joined jieba) text: the other embedded candidate."""

    def __init__(self, ids: list[str], tokens: list[list[str]], tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, body, tokenize='unicode61')")
        self.db.executemany("INSERT INTO docs(id, body) VALUES (?, ?)",
                            ((i, " ".join(t)) for i, t in zip(ids, tokens)))
        self.db.commit()

    async def rank(self, query: str) -> list[str]:
        terms = {t.replace('"', "") for t in self.tokenizer.plain_words(query)}
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)
        rows = self.db.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10", (match,))
        return [r[0] for r in rows]


def splits(rows: list[dict], count: int):
    for seed in range(count):
        shuffled = list(rows)
        random.Random(seed).shuffle(shuffled)
        cut = int(len(shuffled) * 0.8)
        kept, held = shuffled[:cut], shuffled[cut:]
        grouped: dict[str, list[str]] = collections.OrderedDict()
        questions: dict[str, list[str]] = {}
        for r in kept:
            grouped.setdefault(r["docid"], []).append(f"{r['question']} {r['answer']}")
            if r["question"] not in questions.setdefault(r["docid"], []):
                questions[r["docid"]].append(r["question"])
        rows_articles = collections.OrderedDict((k, ("", "\n".join(v))) for k, v in grouped.items())
        faq_articles = collections.OrderedDict((k, ("\n".join(questions[k]), "\n".join(v))) for k, v in grouped.items())
        yield seed, {"rows": rows_articles, "faq": faq_articles}, [(r["question"], r["docid"]) for r in held]


RANKERS = ("embedded", "bm25", "fts5", "semantic")
MODELS = Path.home() / ".cache" / "hotline-bench"  # the int8 model file, built once


class CachedEncoder:
    """The product's encoder with a memo: a split's articles repeat the lines of the other splits."""

    def __init__(self, encoder) -> None:
        self.encoder, self.name, self.memo = encoder, encoder.name, {}

    def embed(self, text: str, passage: bool = False, max_tokens: int = 254):
        key = (text, passage, max_tokens)
        if key not in self.memo:
            self.memo[key] = self.encoder.embed(text, passage, max_tokens)
        return self.memo[key]


def semantic_encoder(enabled: bool):
    """The cached e5 encoder, or None when disabled or ``hotline[semantic]`` is not installed."""
    if not enabled:
        return None
    from knowledge.semantic import SemanticUnavailable, make_encoder

    try:
        return CachedEncoder(make_encoder(MODELS))
    except SemanticUnavailable as exc:
        log(f"{exc}: skipping the semantic stage")
        return None


async def quality(shared: Path, count: int, encoder=None) -> dict:
    path = shared / "ncp_policy_qa" / "NCPPolicies_train.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    per_split = []
    for seed, built, queries in splits(rows, count):
        result = {"seed": seed, "articles": len(built["rows"])}
        for form, articles in built.items():
            index = await build_embedded(articles)

            async def rank(query: str, index=index) -> list[str]:
                return [h.ref_id for h in (await index.search(query, limit=10)).hits]

            tokens = [index.tokenizer.plain_words(article_text(a)) for a in articles.values()]
            fts = Fts5(list(articles), tokens, index.tokenizer)
            for name, ranker in (("embedded", rank), ("bm25", build_bm25(articles, index.tokenizer, tokens)),
                                 ("fts5", fts.rank)):
                result[f"{form}_{name}"] = (await evaluate(name, ranker, queries, set(articles))).as_json()
            if encoder is not None:
                from knowledge.semantic import wrap

                log(f"split {seed}, {form}: embedding for the semantic stage")
                semantic = wrap(index, None, encoder=encoder)
                await semantic.embed([SearchDoc(kind="article", ref_id=k, title=t, body=b)
                                      for k, (t, b) in articles.items()])

                async def semantic_rank(query: str, semantic=semantic) -> list[str]:
                    return [h.ref_id for h in (await semantic.search(query, ARTICLES, limit=10)).hits]

                result[f"{form}_semantic"] = (await evaluate("semantic", semantic_rank, queries,
                                                             set(articles))).as_json()
        log(f"split {seed}: " + "  ".join(
            f"{n} r@1={result[n]['recall_at_1']:.3f} r@5={result[n]['recall_at_5']:.3f}"
            for n in result if n.endswith(RANKERS)))
        per_split.append(result)
    mean = {}
    for name in (n for n in per_split[0] if n.endswith(RANKERS)):
        mean[name] = {k: round(statistics.mean(s[name][k] for s in per_split), 4)
                      for k in ("recall_at_1", "recall_at_5", "mrr", "ms_per_query", "p95_ms")}
    return {"splits": per_split, "mean": mean, "queries_per_split": per_split[0]["rows_embedded"]["queries"]}


def synthetic_articles(tokenizer: Tokenizer, size: int, seed: int = 1) -> list[str]:
    freq = tokenizer._jieba.FREQ  # noqa: SLF001 - the dictionary is our word source
    words = [w for w, f in freq.items() if f > 50 and 2 <= len(w) <= 4 and all("\u4e00" <= c <= "\u9fff" for c in w)]
    weights = np.array([freq[w] for w in words], dtype=np.float64) ** 0.5
    weights /= weights.sum()
    rng = np.random.default_rng(seed)
    lengths = rng.integers(50, 90, size=size)
    picks = rng.choice(len(words), size=int(lengths.sum()), p=weights)
    commas = rng.random(int(lengths.sum())) < 0.12
    out, pos = [], 0
    for n in lengths:
        out.append("".join(words[i] + ("，" if c else "") for i, c in zip(picks[pos:pos + n], commas[pos:pos + n])) + "。")
        pos += n
    return out


def pct(values: list[float]) -> dict:
    return {"p50_ms": round(float(np.percentile(values, 50)), 2), "p95_ms": round(float(np.percentile(values, 95)), 2),
            "p99_ms": round(float(np.percentile(values, 99)), 2), "mean_ms": round(float(np.mean(values)), 2)}


async def timed(call, queries: list[str]) -> dict:
    """Percentiles of ``await call(query)`` over the queries, in milliseconds."""
    times = []
    for q in queries:
        t = time.perf_counter()
        await call(q)
        times.append((time.perf_counter() - t) * 1000)
    return pct(times)


async def latency(size: int, n_queries: int, encoder=None) -> dict:
    tokenizer = Tokenizer()
    t0 = time.perf_counter()
    texts = synthetic_articles(tokenizer, size)
    log(f"generated {size} synthetic articles in {time.perf_counter() - t0:.1f}s")
    statuses = ("published", "draft", "expired")
    docs = [SearchDoc(kind="article", ref_id=str(i), title=t[:12], body=t, status=statuses[i % 3])
            for i, t in enumerate(texts)]
    index = EmbeddedSearchIndex(None, tokenizer=tokenizer)
    await index.open()

    def source():
        async def gen():
            for i in range(0, len(docs), 5000):
                log(f"indexing {min(i + 5000, len(docs))}/{len(docs)}")
                yield docs[i:i + 5000]
        return gen

    t0 = time.perf_counter()
    await index.reindex(source())
    build_s = time.perf_counter() - t0
    rng = random.Random(2)
    queries = []
    for _ in range(n_queries):
        text = texts[rng.randrange(size)]
        start = rng.randrange(max(1, len(text) - 16))
        queries.append(text[start:start + rng.randint(6, 16)])
    result = {"articles": size, "queries": n_queries, "build_seconds": round(build_s, 1)}
    for name, filters in (("embedded", None), ("embedded_status_filter", SearchFilters(status=("published",)))):
        result[name] = await timed(lambda q, filters=filters: index.search(q, filters, limit=10), queries)
        log(f"{name}: {result[name]}")
    if encoder is not None:
        result.update(await semantic_latency(index, queries, encoder))
    ids = [d.ref_id for d in docs]
    articles = collections.OrderedDict((i, ("", t)) for i, t in zip(ids, texts))
    log("tokenizing for the BM25 and FTS5 peers")
    tokens = [tokenizer.plain_words(t) for t in texts]
    bm25 = build_bm25(articles, tokenizer, tokens)
    result["bm25"] = await timed(bm25, queries)
    log(f"bm25: {result['bm25']}")
    fts = Fts5(ids, tokens, tokenizer)
    result["fts5"] = await timed(fts.rank, queries)
    log(f"fts5: {result['fts5']}")
    return result


async def semantic_latency(index: EmbeddedSearchIndex, queries: list[str], encoder) -> dict:
    """The queries through the semantic stage, after embedding the articles among their candidates."""
    from knowledge.semantic import wrap
    from knowledge.semantic.rerank import DEPTH

    semantic = wrap(index, None, encoder=encoder.encoder)  # no memo: every query is embedded anew
    out = {}
    for name, filters in (("semantic", ARTICLES), ("semantic_status_filter",
                                                    SearchFilters(kinds=("article",), status=("published",)))):
        keys = set()
        for q in queries:
            keys.update(h.key for h in (await index.search(q, filters, limit=DEPTH)).hits)
        todo = [index._docs[k].doc for k in keys if semantic.store.get(k) is None]  # noqa: SLF001
        log(f"{name}: embedding the {len(todo)} articles among the candidates (not timed)")
        for i in range(0, len(todo), 500):  # two threads at a time: the encoder releases the GIL
            await asyncio.gather(semantic.embed(todo[i:i + 250]), semantic.embed(todo[i + 250:i + 500]))
            log(f"  embedded {min(i + 500, len(todo))}/{len(todo)}")
        out[name] = await timed(lambda q, filters=filters: semantic.search(q, filters, limit=10), queries)
        log(f"{name}: {out[name]}")
    return out


async def chatbot_latency(rounds: int = 5) -> dict:
    """ms per Chatbot.respond() over a fixed list of citizen questions on the demo knowledge base."""
    import datetime as dt
    import tempfile
    from dataclasses import dataclass

    import sqlalchemy as sa

    from hotline.clock import SystemClock
    from hotline.db import make_engine
    from hotline.messages import Identity, InboundMessage
    from hotline.migrate import upgrade
    from hotline.tables import units
    from knowledge.articles import ArticleService
    from knowledge.chatbot import Chatbot
    from knowledge.dialogue import DbDialogueStore
    from hotline.demo import demo_file
    from hotline.directory import import_categories
    from knowledge.data import DEMO_ARTICLES
    from knowledge.importer import Columns, import_file

    @dataclass
    class Editor:
        username: str = "bench"
        role: str = "admin"
        unit_id: int | None = None

    questions = ["灵活就业人员怎么交社保", "有用", "公积金租房能提取吗", "孩子上小学要准备什么材料", "燃气泄漏怎么办",
                 "没用", "停水了怎么办", "异地就医怎么备案", "出租车绕路去哪投诉", "楼下烧烤油烟太大", "医保", "取消"]
    clock = SystemClock()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp}/hotline.db")
        await upgrade(engine)
        with (ROOT / "hotline" / "demo_data" / "units.csv").open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        async with engine.begin() as conn:
            await conn.execute(sa.insert(units), [
                {"code": r["code"], "name": r["name"], "kind": r["kind"], "contacts": [], "notify_channels": [],
                 "active": True, "created_at": clock.now()} for r in rows])
            await import_categories(conn, demo_file("categories.csv"))  # articles' categories must exist
        index = EmbeddedSearchIndex(engine)
        await index.open()
        await import_file(ArticleService(engine, clock, index=index), Editor(), DEMO_ARTICLES,
                          Columns("id", "title", "body", "category", "unit", "keywords"))
        bot = Chatbot(engine=engine, index=index, service=None, store=DbDialogueStore(engine, clock), clock=clock)
        index.tokenizer.tagged("")  # the part-of-speech table, loaded at startup by the app
        times = []
        for r in range(rounds):
            for i, text in enumerate(questions):
                message = InboundMessage(channel="wechat", external_id=f"b{r}-{i}",
                                         sender=Identity(kind="wechat", value=f"user{r}"), text=text,
                                         received_at=dt.datetime.now(dt.timezone.utc))
                t = time.perf_counter()
                await bot.respond(message)
                times.append((time.perf_counter() - t) * 1000)
        await engine.dispose()
    result = {"responses": len(times), **pct(times), "max_ms": round(max(times), 2)}
    log(f"chatbot: {result}")
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--no-semantic", action="store_true", help="skip the optional semantic stage")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    encoder = semantic_encoder(not args.no_semantic)
    out: dict = {}
    if (args.shared / "ncp_policy_qa").is_dir():
        out["quality"] = await quality(args.shared, args.splits, encoder)
    else:
        log(f"{args.shared}/ncp_policy_qa not found: skipping the quality comparison")
    out["chatbot"] = await chatbot_latency()
    out["latency"] = await latency(args.size, args.queries, encoder)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if "quality" in out:
        q = out["quality"]
        print(f"ncp_policy_qa, {args.splits} held-out splits (20 %), ~{q['queries_per_split']} queries each, mean:")
        for name, m in q["mean"].items():
            print(f"  {name:14s} recall@1={m['recall_at_1']:.3f} recall@5={m['recall_at_5']:.3f} "
                  f"mrr={m['mrr']:.3f} ms/query={m['ms_per_query']:.2f}")
    c = out["chatbot"]
    print(f"chatbot respond() on the demo KB, SQLite store ({c['responses']} messages): "
          f"p50={c['p50_ms']}ms p95={c['p95_ms']}ms max={c['max_ms']}ms (WeChat allows 5000ms)")
    lat = out["latency"]
    print(f"latency at {lat['articles']} synthetic articles ({lat['queries']} queries; build {lat['build_seconds']}s):")
    for name in ("embedded", "embedded_status_filter", "semantic", "semantic_status_filter", "bm25", "fts5"):
        if name not in lat:
            continue
        m = lat[name]
        print(f"  {name:24s} p50={m['p50_ms']}ms p95={m['p95_ms']}ms p99={m['p99_ms']}ms")


if __name__ == "__main__":
    asyncio.run(main())
