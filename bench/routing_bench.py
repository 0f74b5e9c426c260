"""Routing benchmark: this project's classifier beside TF-IDF + LinearSVC, in one run.

    python bench/routing_bench.py [--shared PATH] [--folds 5] [--json]

Uses the 2020 泰迪杯 data in ../shared/data/taidi2020 (not shipped with the
project). Prints, for both pipelines:
  * k-fold cross-validated macro-F1 / accuracy on 附件2_train_segmented.csv (8,264 rows), twice:
    grouped (near-duplicate messages, word TF-IDF cosine >= 0.8, always fall in the same fold; the honest
    figure: about 900 rows have such a twin) and plain stratified (the figure earlier runs reported);
  * macro-F1 on the raw labelled sample (示例数据_附件2_sample.csv, 451 rows) after removing
    from training every segmented row that duplicates a sample message (the sample is part of 附件2),
    and on those removed rows in their segmented form ("twins");
  * whole-pipeline throughput on the raw unlabelled set (测试数据, 2,801 long messages):
    segmentation + features + prediction, as texts per CPU-second (per core) and per wall-clock
    second. Measured as a service runs: a fresh process loads the trained model from its file,
    warms up on 50 messages, then times the whole set three times (best pass reported), one
    thread. The single cold pass inside this long-running benchmark process is reported too
    (``in_bench_process``); it runs slower after the cross-validation than any service would.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing.build_default_model import seed_rows  # noqa: E402
from routing.classifier import RoutingModel  # noqa: E402
from routing.segment import Segmenter  # noqa: E402

csv.field_size_limit(sys.maxsize)


def read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


class Baseline:
    """Plain TF-IDF + LinearSVC over jieba tokens (the issue's reference point)."""

    def __init__(self) -> None:
        self.seg = Segmenter()
        self.pipe = make_pipeline(TfidfVectorizer(token_pattern=r"(?u)\S+", lowercase=False), LinearSVC())

    def fit(self, texts, labels):
        self.pipe.fit([self.seg.prepare(t) for t in texts], labels)
        return self

    def predict(self, texts):
        return list(self.pipe.predict([self.seg.prepare(t) for t in texts]))


class Ours:
    def fit(self, texts, labels):
        seed = seed_rows()  # the request-type head learns from the project's seed set, as `routing train` does
        self.model = RoutingModel.train(texts, labels, type_examples=([r["text"] for r in seed],
                                                                      [r["request_type"] for r in seed]))
        return self

    def predict(self, texts):
        return self.model.predict_labels(self.model.prepare(texts))


def scores(y, p) -> dict:
    return {"macro_f1": round(float(f1_score(y, p, average="macro")), 4), "accuracy": round(float(accuracy_score(y, p)), 4)}


def near_duplicate_groups(texts, threshold=0.8) -> np.ndarray:
    """A group id per text: texts linked by word TF-IDF cosine >= threshold (transitively) share one."""
    seg = Segmenter()
    X = TfidfVectorizer(token_pattern=r"(?u)\S+", lowercase=False).fit_transform([seg.prepare(t) for t in texts])
    rows, cols = [], []
    for start in range(0, X.shape[0], 1000):  # in slices: the full similarity matrix is dense-ish
        sim = (X[start:start + 1000] @ X.T).tocoo()
        keep = (sim.data >= threshold) & (sim.row + start != sim.col)
        rows.append(sim.row[keep] + start)
        cols.append(sim.col[keep])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = sp.coo_matrix((np.ones(len(r)), (r, c)), shape=(X.shape[0], X.shape[0]))
    return connected_components(graph, directed=False)[1]


def cross_validate(make, texts, labels, folds: int, groups=None) -> dict:
    y = np.array(labels)
    per_fold = []
    split = (StratifiedGroupKFold(folds, shuffle=True, random_state=0).split(texts, y, groups) if groups is not None
             else StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, y))
    for tr, te in split:
        model = make().fit([texts[i] for i in tr], list(y[tr]))
        per_fold.append(scores(list(y[te]), model.predict([texts[i] for i in te])))
        print(f"  fold {len(per_fold)}: {per_fold[-1]}", file=sys.stderr, flush=True)
    f1s = [f["macro_f1"] for f in per_fold]
    return {"macro_f1": round(statistics.mean(f1s), 4), "macro_f1_std": round(statistics.pstdev(f1s), 4),
            "accuracy": round(statistics.mean(f["accuracy"] for f in per_fold), 4), "folds": per_fold}


def overlapping_rows(train_texts, sample_texts, threshold=0.8) -> set[int]:
    """Indexes of training rows that are (near) copies of a sample message: word TF-IDF cosine >= threshold."""
    seg = Segmenter()
    vec = TfidfVectorizer(token_pattern=r"(?u)\S+", lowercase=False)
    a = vec.fit_transform([seg.prepare(t) for t in train_texts])
    b = vec.transform([seg.prepare(t) for t in sample_texts])
    sim = (b @ a.T).tocsr()
    hits = set()
    for i in range(sim.shape[0]):
        row = sim.getrow(i)
        hits.update(int(j) for j, v in zip(row.indices, row.data) if v >= threshold)
    return hits


def throughput(predict_one_batch, texts) -> dict:
    cpu, wall = time.process_time(), time.perf_counter()
    predict_one_batch(texts)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"texts_per_cpu_second": round(len(texts) / cpu, 1), "texts_per_wall_second": round(len(texts) / wall, 1)}


def fresh_process_throughput(kind: str, model, texts: list[str]) -> dict:
    """Throughput in a new process that loads ``model`` from a file, as the service does (see ``measure``)."""
    with tempfile.TemporaryDirectory() as tmp:
        model_path, texts_path = Path(tmp) / "model.pkl", Path(tmp) / "texts.json"
        if kind == "ours":
            model.save(model_path)
        else:  # the fitted sklearn pipeline (the segmenter holds a lock and is made anew in the child)
            with open(model_path, "wb") as fh:
                pickle.dump(model.pipe, fh)
        texts_path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        out = subprocess.run([sys.executable, __file__, "--measure", kind, str(model_path), str(texts_path)],
                             capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(kind: str, model_path: str, texts_path: str) -> None:
    """The child of :func:`fresh_process_throughput`: load, warm up on 50 texts, best of 3 timed passes."""
    texts = json.loads(Path(texts_path).read_text(encoding="utf-8"))
    if kind == "ours":
        model = RoutingModel.load(model_path)

        def predict(ts):
            return model.predict_docs(model.prepare(ts))
    else:
        baseline = Baseline()
        with open(model_path, "rb") as fh:
            baseline.pipe = pickle.load(fh)
        predict = baseline.predict
    predict(texts[:50])
    passes = [throughput(predict, texts) for _ in range(3)]
    print(json.dumps(max(passes, key=lambda p: p["texts_per_cpu_second"])))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(ROOT / ".." / "shared" / "data" / "taidi2020"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--measure", nargs=3, metavar=("KIND", "MODEL", "TEXTS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        measure(*args.measure)
        return
    data = Path(args.shared)
    if not (data / "附件2_train_segmented.csv").exists():
        sys.exit(f"错误：找不到泰迪杯数据目录 {data}（用 --shared 指定）")

    train = read(data / "附件2_train_segmented.csv")
    texts, labels = [r["分词文本"] for r in train], [r["一级标签"] for r in train]
    sample = read(data / "示例数据_附件2_sample.csv")
    s_texts, s_labels = [f"{r['留言主题']} {r['留言详情']}" for r in sample], [r["一级分类"] for r in sample]
    unlabelled = read(data / "测试数据_2801_unlabelled.csv")
    u_texts = [f"{r['留言主题']} {r['留言详情']}" for r in unlabelled]

    result = {"data": {"train_rows": len(texts), "sample_rows": len(s_texts), "throughput_rows": len(u_texts),
                       "throughput_mean_chars": round(statistics.mean(len(t) for t in u_texts), 1)}}
    groups = near_duplicate_groups(texts)
    result["data"]["train_rows_with_near_duplicates"] = int((np.bincount(groups)[groups] > 1).sum())
    for name, make in (("tfidf_linearsvc", Baseline), ("hotline_routing", Ours)):
        print(f"{name}: {args.folds}-fold cross-validation, near-duplicates grouped", file=sys.stderr, flush=True)
        result[name] = {"cv_grouped": cross_validate(make, texts, labels, args.folds, groups)}
        print(f"{name}: {args.folds}-fold cross-validation, plain stratified", file=sys.stderr, flush=True)
        result[name]["cv"] = cross_validate(make, texts, labels, args.folds)

    overlap = overlapping_rows(texts, s_texts)
    keep = [i for i in range(len(texts)) if i not in overlap]
    result["data"]["train_rows_removed_as_sample_duplicates"] = len(overlap)
    for name, make in (("tfidf_linearsvc", Baseline), ("hotline_routing", Ours)):
        print(f"{name}: raw sample + throughput", file=sys.stderr, flush=True)
        model = make().fit([texts[i] for i in keep], [labels[i] for i in keep])
        result[name]["raw_sample"] = scores(s_labels, model.predict(s_texts))
        twins = sorted(overlap)  # the same messages in their segmented training form, for comparison
        result[name]["sample_twins_segmented"] = scores([labels[i] for i in twins], model.predict([texts[i] for i in twins]))
        print(f"{name}: throughput in a fresh process", file=sys.stderr, flush=True)
        if name == "hotline_routing":  # the whole service path: both heads (category + request type)
            ours = model.model
            result[name]["throughput"] = fresh_process_throughput("ours", ours, u_texts)
            result[name]["throughput"]["in_bench_process"] = throughput(
                lambda ts: ours.predict_docs(ours.prepare(ts)), u_texts)
        else:
            result[name]["throughput"] = fresh_process_throughput("baseline", model, u_texts)
            result[name]["throughput"]["in_bench_process"] = throughput(model.predict, u_texts)

    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(f"\n泰迪杯 2020 附件2: {len(texts)} rows, 7 classes; raw sample {len(s_texts)} rows "
          f"({len(overlap)} duplicate training rows removed); throughput on {len(u_texts)} raw messages "
          f"(mean {result['data']['throughput_mean_chars']} chars)")
    print(f"{'pipeline':<18}{'grouped CV F1':>15}{'acc':>8}{'plain CV F1':>15}{'acc':>8}{'raw-sample F1':>15}"
          f"{'twins F1':>10}{'texts/CPU-s':>13}{'texts/wall-s':>14}{'in bench process':>18}")
    for name in ("tfidf_linearsvc", "hotline_routing"):
        r = result[name]
        g, c = r["cv_grouped"], r["cv"]
        print(f"{name:<18}{g['macro_f1']:>9} ±{g['macro_f1_std']:<4}{g['accuracy']:>8}"
              f"{c['macro_f1']:>9} ±{c['macro_f1_std']:<4}{c['accuracy']:>8}"
              f"{r['raw_sample']['macro_f1']:>15}{r['sample_twins_segmented']['macro_f1']:>10}"
              f"{r['throughput']['texts_per_cpu_second']:>13}"
              f"{r['throughput']['texts_per_wall_second']:>14}"
              f"{r['throughput']['in_bench_process']['texts_per_cpu_second']:>18}")
    print(f"grouped CV: {result['data']['train_rows_with_near_duplicates']} rows have a near-duplicate "
          "(word TF-IDF cosine >= 0.8); each such group stays in one fold")
    print("texts/CPU-s: a fresh process loads the model file, warms up on 50 messages, best of 3 passes; "
          "in bench process: one cold pass in this process, after the cross-validation")
    print("raw-sample F1: trained without the sample's duplicates, tested on the raw sample; twins F1: the same model "
          "on those duplicates in their segmented form (how hard these messages are, independent of raw-text handling)")
    print("issue reference: TF-IDF + LinearSVC 0.927 macro-F1 on the organisers' held-out split; target >= 0.95, >= 300 texts/s per core")


if __name__ == "__main__":
    main()
