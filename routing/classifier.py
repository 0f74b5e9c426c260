"""The text classifier: jieba tokens -> word + character TF-IDF -> calibrated linear model.

A :class:`RoutingModel` bundles one :class:`TextHead` per target (the ticket
category and, when the training data has it, the request type), the user
dictionary words the segmenter used, a version string and training metadata.
It is saved as one versioned pickle file.
"""

from __future__ import annotations

import datetime as dt
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from routing.segment import Segmenter

MODEL_FORMAT = 1
REQUEST_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")

Progress = Callable[[Iterable[str]], Iterable[str]]


def make_features(*, word_ngrams=(1, 2), char_ngrams=(1, 3), max_features=200_000) -> FeatureUnion:
    """Word n-grams over jieba tokens plus character n-grams inside tokens."""
    word = TfidfVectorizer(token_pattern=r"(?u)\S+", lowercase=False, ngram_range=word_ngrams,
                           sublinear_tf=True, min_df=1, max_features=max_features, dtype=np.float32)
    char = TfidfVectorizer(analyzer="char_wb", lowercase=False, ngram_range=char_ngrams,
                           sublinear_tf=True, min_df=1, max_features=max_features, dtype=np.float32)
    return FeatureUnion([("word", word), ("char", char)])


class TextHead:
    """One prediction target with calibrated probabilities over its labels."""

    def __init__(self, *, C: float = 0.5, word_ngrams=(1, 2), char_ngrams=(1, 3), max_features=200_000) -> None:
        self.params = dict(word_ngrams=word_ngrams, char_ngrams=char_ngrams, max_features=max_features)
        self.C = C
        self.pipeline: Pipeline | None = None

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    def fit(self, docs: Sequence[str], labels: Sequence[str]) -> "TextHead":
        counts = Counter(labels)
        if len(counts) < 2:
            raise ValueError("training data needs at least two different labels")
        folds = min(5, min(counts.values()))
        if folds >= 2:
            # Sigmoid-calibrated SVM; ensemble=False keeps one model (small, fast to predict).
            clf = CalibratedClassifierCV(LinearSVC(C=self.C), method="sigmoid", cv=folds, ensemble=False)
        else:
            clf = LogisticRegression(C=20.0, max_iter=2000)
        self.pipeline = Pipeline([("features", make_features(**self.params)), ("clf", clf)])
        self.pipeline.fit(list(docs), list(labels))
        return self

    def predict_proba(self, docs: Sequence[str]) -> np.ndarray:
        return self.pipeline.predict_proba(list(docs))

    def predict(self, docs: Sequence[str]) -> list[str]:
        classes = np.array(self.classes)
        return list(classes[self.predict_proba(docs).argmax(axis=1)])


def new_version(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    return "routing-" + now.strftime("%Y%m%dT%H%M%S%f")[:-3]


class RoutingModel:
    """Category and request-type heads plus the segmenter dictionary they were trained with."""

    def __init__(self, category: TextHead, request_type: TextHead | None = None, *,
                 user_words: Sequence[str] = (), version: str | None = None, meta: dict | None = None) -> None:
        self.category = category
        self.request_type = request_type
        self.user_words = list(user_words)
        self.version = version or new_version()
        self.meta = dict(meta or {})
        self._segmenter: Segmenter | None = None

    # -- segmentation -------------------------------------------------
    @property
    def segmenter(self) -> Segmenter:
        if self._segmenter is None:
            self._segmenter = Segmenter(self.user_words)
        return self._segmenter

    def prepare(self, texts: Iterable[str], progress: Progress | None = None) -> list[str]:
        seg = self.segmenter
        items = progress(texts) if progress else texts
        return [seg.prepare(t) for t in items]

    # -- training -----------------------------------------------------
    @classmethod
    def train(cls, texts: Sequence[str], categories: Sequence[str], request_types: Sequence[str] | None = None, *,
              user_words: Sequence[str] = (), progress: Progress | None = None, C: float = 0.5,
              fallback_type_head: TextHead | None = None, meta: dict | None = None) -> "RoutingModel":
        """Train on raw or pre-segmented texts. Without request types, ``fallback_type_head`` is kept."""
        model = cls(TextHead(C=C), None, user_words=user_words, meta=meta)
        docs = model.prepare(texts, progress)
        model.category.fit(docs, categories)
        type_head = fallback_type_head
        if request_types is not None:
            pairs = [(d, t) for d, t in zip(docs, request_types) if t in REQUEST_TYPES]
            if len({t for _, t in pairs}) >= 2:
                type_head = TextHead(C=C).fit([d for d, _ in pairs], [t for _, t in pairs])
        model.request_type = type_head
        model.meta.setdefault("trained_rows", len(docs))
        model.meta.setdefault("labels", dict(Counter(categories)))
        return model

    # -- prediction ---------------------------------------------------
    def predict_docs(self, docs: Sequence[str], top: int = 3) -> list[dict[str, Any]]:
        """Predictions for prepared docs: best label, its probability and the top labels per head."""
        heads = {"category": self.category, "request_type": self.request_type}
        out: list[dict[str, Any]] = [{} for _ in docs]
        for name, head in heads.items():
            if head is None:
                for o in out:
                    o[name] = None
                continue
            proba = head.predict_proba(docs)
            classes = head.classes
            for o, row in zip(out, proba):
                order = np.argsort(-row)[:top]
                o[name] = {"label": classes[order[0]], "confidence": float(row[order[0]]),
                           "top": [(classes[i], float(row[i])) for i in order]}
        return out

    def predict(self, text: str, top: int = 3) -> dict[str, Any]:
        return self.predict_docs([self.segmenter.prepare(text)], top)[0]

    # -- persistence --------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {"format": MODEL_FORMAT, "version": self.version, "meta": self.meta, "user_words": self.user_words,
                 "category": self.category, "request_type": self.request_type}
        tmp = path.with_suffix(path.suffix + ".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "RoutingModel":
        """Load a model file. Model files are trusted artefacts (pickle): only load your own."""
        with open(path, "rb") as fh:
            state = pickle.load(fh)
        if not isinstance(state, dict) or state.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a routing model file: {path}")
        return cls(state["category"], state["request_type"], user_words=state["user_words"],
                   version=state["version"], meta=state["meta"])


def evaluate(model: RoutingModel, texts: Sequence[str], labels: Sequence[str],
             progress: Progress | None = None) -> dict[str, Any]:
    """Category-head figures on labelled texts; throughput covers segmentation and prediction."""
    start = time.perf_counter()
    docs = model.prepare(texts, progress)
    predicted = model.category.predict(docs)
    elapsed = time.perf_counter() - start
    return metrics(labels, predicted) | {"texts_per_second": round(len(texts) / elapsed, 1) if elapsed else None,
                                         "model_version": model.version}


def metrics(labels: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    names = sorted(set(labels) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(labels, predicted, labels=names, zero_division=0)
    return {
        "n": len(labels),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "macro_f1": round(float(np.mean(f)), 4) if names else 0.0,
        "per_class": {names[i]: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                                 "f1": round(float(f[i]), 4), "support": int(s[i])} for i in range(len(names))},
    }
