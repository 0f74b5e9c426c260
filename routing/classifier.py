"""The text classifier: jieba tokens -> word + character n-gram TF-IDF (full text and title) -> calibrated linear model.

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
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.svm import LinearSVC

from routing.calibration import calibration
from routing.segment import CJK_RE, Segmenter

MODEL_FORMAT = 5  # 5: Features with the title block; 4: Features without it (still loads); 3: LegacyFeatures
REQUEST_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")

Progress = Callable[[Iterable[str]], Iterable[str]]


def analyze(doc: str) -> list[str]:
    """Word features of a segmented doc (space-separated tokens): words and word bigrams."""
    words = doc.split()
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def char_text(doc: str) -> str:
    """The tokens of a segmented doc joined without spaces, for character n-grams across word boundaries."""
    return doc.replace(" ", "")


# The title block: the word and character blocks computed again over only the first TITLE_TOKENS tokens of a doc,
# each L2-normalised, scaled by TITLE_WEIGHT and stacked beside the full-text blocks. A message starts with its
# title (留言主题 before 留言详情; the service puts a ticket's title first), which names the matter more plainly
# than the detail, and the weight lets the model lean on it without drowning the rest.
# Chosen on 泰迪杯 2020 附件2 (8,264 messages) by grouped CV over TITLE_TOKENS in {8, 12, 16} x TITLE_WEIGHT in
# {0.3, 0.5, 0.7} (uncalibrated SVM); the choice procedure was validated by a nested check (inner grouped 3-fold CV
# inside each outer grouped fold): see bench/routing_results.md, "Title block".
TITLE_TOKENS = 12
TITLE_WEIGHT = 0.5


def title_doc(doc: str, tokens: int = TITLE_TOKENS) -> str:
    """The first ``tokens`` tokens of a segmented doc (space-joined), i.e. roughly the message's title."""
    return " ".join(doc.split(maxsplit=tokens)[:tokens])


def identity(features: list[str]) -> list[str]:
    return features  # the analyzer of format-3 model files (see LegacyFeatures)


class Features:
    """TF-IDF blocks over a segmented doc, each L2-normalised, side by side.

    * words and word bigrams (:func:`analyze`);
    * characters, character bigrams and trigrams over the joined tokens (:func:`char_text`), so a
      different segmentation of the same text (public corpora are segmented by others) still matches;
    * the title block: both of the above over the first ``title_tokens`` tokens only (:func:`title_doc`),
      scaled by ``title_weight``. ``title_tokens=0`` leaves it out (format-4 model files have none).

    ``transform`` takes what :meth:`RoutingModel.prepare` returns (space-joined tokens).
    """

    def __init__(self, max_words: int = 400_000, max_chars: int = 400_000, *, title_tokens: int = TITLE_TOKENS,
                 title_weight: float = TITLE_WEIGHT) -> None:
        self.words = self._word_vectorizer(max_words)
        self.chars = self._char_vectorizer(max_chars)
        self.title_tokens = title_tokens
        self.title_weight = title_weight
        self.title_words = self._word_vectorizer(max_words) if title_tokens else None
        self.title_chars = self._char_vectorizer(max_chars) if title_tokens else None

    @staticmethod
    def _word_vectorizer(cap: int) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer=analyze, lowercase=False, sublinear_tf=True, max_features=cap, dtype=np.float32)

    @staticmethod
    def _char_vectorizer(cap: int) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=False, sublinear_tf=True,
                               max_features=cap, dtype=np.float32)

    def __setstate__(self, state: dict) -> None:
        # format-4 model files pickled Features without the title block: they keep working without it
        state.setdefault("title_tokens", 0)
        state.setdefault("title_weight", 0.0)
        state.setdefault("title_words", None)
        state.setdefault("title_chars", None)
        self.__dict__.update(state)

    def fit(self, docs: Sequence[str]) -> "Features":
        self.words.fit(docs)
        self.chars.fit([char_text(d) for d in docs])
        if self.title_tokens:
            titles = [title_doc(d, self.title_tokens) for d in docs]
            self.title_words.fit(titles)
            self.title_chars.fit([char_text(t) for t in titles])
        return self

    def transform(self, docs: Sequence[str]):
        blocks = [self.words.transform(docs), self.chars.transform([char_text(d) for d in docs])]
        if self.title_tokens:
            titles = [title_doc(d, self.title_tokens) for d in docs]
            blocks += [self.title_words.transform(titles) * self.title_weight,
                       self.title_chars.transform([char_text(t) for t in titles]) * self.title_weight]
        return sp.hstack(blocks, format="csr")


def make_features() -> Features:
    return Features()


class LegacyFeatures:
    """Format-3 model files: one TF-IDF over words, word bigrams and characters inside words."""

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.vectorizer = vectorizer

    @staticmethod
    def analyze(doc: str) -> list[str]:
        words = doc.split()
        feats = analyze(doc)
        for w in words:
            feats += ["#" + c for c in w]
            feats += ["#" + w[i:i + 2] for i in range(len(w) - 1)] if len(w) >= 3 else []
            feats += ["#" + w[i:i + 3] for i in range(len(w) - 2)] if len(w) >= 4 else []
        return feats

    def transform(self, docs: Sequence[str]):
        return self.vectorizer.transform([self.analyze(d) for d in docs])


class TextHead:
    """One prediction target: a sigmoid-calibrated linear SVM over the model's shared features.

    After fitting, the SVM weights and the per-class sigmoid parameters are kept
    as plain arrays so that prediction is one sparse product (sklearn's own
    calibrated predict costs milliseconds of input checks per class and call).
    """

    def __init__(self, *, C: float = 2.0) -> None:
        self.C = C
        self.classes: list[str] = []
        self.coef: np.ndarray | None = None
        self.intercept: np.ndarray | None = None
        self.sig_a: np.ndarray | None = None
        self.sig_b: np.ndarray | None = None
        self.fallback = None  # LogisticRegression when a label has a single example

    def fit(self, X, labels: Sequence[str]) -> "TextHead":
        counts = Counter(labels)
        if len(counts) < 2:
            raise ValueError("training data needs at least two different labels")
        folds = min(5, min(counts.values()))
        if folds < 2:
            self.fallback = LogisticRegression(C=20.0, max_iter=2000).fit(X, list(labels))
            self.classes = [str(c) for c in self.fallback.classes_]
            return self
        # liblinear's dual solver shuffles: a fixed seed makes training repeatable (same data, same model)
        svm = LinearSVC(C=self.C, class_weight="balanced", random_state=0)
        clf = CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False).fit(X, list(labels))
        fitted = clf.calibrated_classifiers_[0]
        self.classes = [str(c) for c in clf.classes_]
        self.coef = np.asarray(fitted.estimator.coef_, dtype=np.float32)
        self.intercept = np.asarray(fitted.estimator.intercept_, dtype=np.float32)
        self.sig_a = np.array([c.a_ for c in fitted.calibrators], dtype=np.float64)
        self.sig_b = np.array([c.b_ for c in fitted.calibrators], dtype=np.float64)
        return self

    def predict_proba(self, X) -> np.ndarray:
        if self.fallback is not None:
            return self.fallback.predict_proba(X)
        d = np.asarray(X @ self.coef.T, dtype=np.float64) + self.intercept
        p = 1.0 / (1.0 + np.exp(d * self.sig_a + self.sig_b))
        if len(self.classes) == 2:  # binary SVM: one decision value, one calibrator for the positive class
            return np.column_stack([1.0 - p[:, 0], p[:, 0]])
        total = p.sum(axis=1, keepdims=True)
        return np.divide(p, total, out=np.full_like(p, 1.0 / len(self.classes)), where=total > 0)


# Unknown-word guard (see RoutingModel.coverage). The character n-grams let the model route a word it never saw
# as a word (饭馆 like 饭店), but they also carry a text whose distinctive words are all new to it wherever a
# character happens to point (护照 -> 养老服务 through 护 in 护理, at 0.72). So the category confidence is scaled
# by min(1, coverage / COVERAGE_FULL): a text whose known words carry less than half of its word weight gets a
# proportionally lower confidence, i.e. is left to a person. The label is never changed.
# Chosen on tests/routing/everyday_cases.csv (auto-dispatch count must barely move) and 25 requests on topics the
# seed set does not cover: see bench/routing_results.md, "Unknown words: confidence guard and seed rows".
COVERAGE_FULL = 0.5
UNKNOWN_WORD_QUANTILE = 0.75  # an unseen word weighs like a known word at this quantile of distinctiveness


def new_version(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    return "routing-" + now.strftime("%Y%m%dT%H%M%S%f")[:-3]


class RoutingModel:
    """Shared features, a category head, a request-type head, and the segmenter dictionary they were trained with."""

    def __init__(self, vectorizer: Features | LegacyFeatures, category: TextHead, request_type: TextHead | None = None, *,
                 user_words: Sequence[str] = (), version: str | None = None, meta: dict | None = None) -> None:
        self.vectorizer = vectorizer
        self.category = category
        self.request_type = request_type
        self.user_words = list(user_words)
        self.version = version or new_version()
        self.meta = dict(meta or {})
        self._segmenter: Segmenter | None = None
        self._word_weights: tuple[dict[str, int], np.ndarray, float] | None = None
        self._user_word_set: frozenset[str] = frozenset()

    # -- segmentation -------------------------------------------------
    @property
    def segmenter(self) -> Segmenter:
        if self._segmenter is None:
            self._segmenter = Segmenter(self.user_words)
        return self._segmenter

    def prepare(self, texts: Iterable[str], progress: Progress | None = None) -> list[str]:
        """Segment texts into docs (space-joined routing tokens), the input of ``vectorizer.transform``."""
        seg = self.segmenter
        items = progress(texts) if progress else texts
        return [seg.prepare(t) for t in items]

    # -- training -----------------------------------------------------
    @classmethod
    def train(cls, texts: Sequence[str], categories: Sequence[str], request_types: Sequence[str] | None = None, *,
              type_examples: tuple[Sequence[str], Sequence[str]] | None = None, user_words: Sequence[str] = (),
              progress: Progress | None = None, C: float = 2.0, meta: dict | None = None) -> "RoutingModel":
        """Train on raw or pre-segmented texts.

        The request-type head learns from ``request_types`` when given (rows with a valid type),
        otherwise from ``type_examples`` (texts, types), e.g. the project's seed set.
        """
        model = cls(make_features(), TextHead(C=C), None, user_words=user_words, meta=meta)
        docs = model.prepare(texts, progress)
        type_docs, types, extra_docs = [], [], []
        if request_types is not None:
            pairs = [(d, t) for d, t in zip(docs, request_types) if t in REQUEST_TYPES]
            type_docs, types = [d for d, _ in pairs], [t for _, t in pairs]
        if len(set(types)) < 2 and type_examples is not None:
            extra = [(t, k) for t, k in zip(*type_examples) if k in REQUEST_TYPES]
            type_docs, types = model.prepare([t for t, _ in extra]), [k for _, k in extra]
            extra_docs = type_docs
        model.vectorizer.fit(docs + extra_docs)
        model.category.fit(model.vectorizer.transform(docs), categories)
        if len(set(types)) >= 2:
            model.request_type = TextHead(C=C).fit(model.vectorizer.transform(type_docs), types)
        model.meta.setdefault("trained_rows", len(docs))
        model.meta.setdefault("labels", dict(Counter(categories)))
        return model

    # -- prediction ---------------------------------------------------
    def predict_labels(self, docs: Sequence[str]) -> list[str]:
        """The most likely category label of each prepared doc."""
        classes = np.array(self.category.classes)
        return list(classes[self.category.predict_proba(self.vectorizer.transform(docs)).argmax(axis=1)])

    def predict_docs(self, docs: Sequence[str], top: int = 3, *, guard: bool = True) -> list[dict[str, Any]]:
        """Predictions for prepared docs: best label, its probability and the top labels per head.

        The category head's entry also has ``coverage`` (:meth:`coverage`); with ``guard`` its probabilities
        (``confidence`` and ``top``) are scaled by ``min(1, coverage / COVERAGE_FULL)``, so a text made of
        words the model never saw is not suggested with a high confidence. The labels and their order never change.
        """
        X = self.vectorizer.transform(docs)
        out: list[dict[str, Any]] = [{} for _ in docs]
        for name, head in (("category", self.category), ("request_type", self.request_type)):
            if head is None:
                for o in out:
                    o[name] = None
                continue
            proba, classes = head.predict_proba(X), head.classes
            for o, row, doc in zip(out, proba, docs):
                order = np.argsort(-row)[:top]
                scale, extra = 1.0, {}
                if name == "category":
                    cov = self.coverage(doc)
                    scale = min(1.0, cov / COVERAGE_FULL) if guard else 1.0
                    extra = {"coverage": round(cov, 4)}
                o[name] = {"label": classes[order[0]], "confidence": float(row[order[0]]) * scale,
                           "top": [(classes[i], float(row[i]) * scale) for i in order]} | extra
        return out

    # -- unknown-word guard -------------------------------------------
    def _distinctiveness(self) -> tuple[dict[str, int], np.ndarray, float]:
        """Word -> column, each column's distinctiveness, and the weight of an unseen word (computed once).

        A word's distinctiveness is how strongly the category head leans on it: its largest coefficient over
        the categories (a binary head: the coefficient's magnitude), not below 0. Generic words (办理, 怎么办,
        多少) get little, topical ones (物业, 路灯, 公积金) much. An unseen word weighs like a known word at the
        UNKNOWN_WORD_QUANTILE of that figure over the known single words.
        """
        if self._word_weights is None:
            vec = self.vectorizer.words if isinstance(self.vectorizer, Features) else self.vectorizer.vectorizer
            vocab = {t: int(j) for t, j in vec.vocabulary_.items() if " " not in t and not t.startswith("#")}
            head = self.category
            coef = head.fallback.coef_ if head.fallback is not None else head.coef
            coef = np.asarray(coef, dtype=np.float64)
            weight = np.abs(coef[0]) if coef.shape[0] == 1 else coef.max(axis=0)
            weight = np.maximum(weight, 0.0)
            cols = np.fromiter(vocab.values(), dtype=np.int64, count=len(vocab))
            unknown = float(np.quantile(weight[cols], UNKNOWN_WORD_QUANTILE)) if len(cols) else 1.0
            self._word_weights = (vocab, weight, unknown)
        return self._word_weights

    def coverage(self, doc: str) -> float:
        """The distinctiveness-weighted share of a prepared doc's words that the model knows, 0..1.

        Each distinct Chinese word counts once: a known word with its distinctiveness (:meth:`_distinctiveness`),
        an unseen one with the unseen-word weight. Words of the segmenter's user dictionaries the model never saw
        (place names from the gazetteer, domain terms) and words without a Chinese character (numbers, Latin
        letters) are left out. A doc with no weight at all (no words, or only those left out) has coverage 0.
        """
        vocab, weight, unknown = self._distinctiveness()
        if len(self._user_word_set) != len(self.segmenter.user_words):  # words are only ever added
            self._user_word_set = frozenset(self.segmenter.user_words)
        user_words = self._user_word_set
        known = total = 0.0
        for token in dict.fromkeys(doc.split()):
            col = vocab.get(token)
            if col is not None:
                known += weight[col]
                total += weight[col]
            elif token not in user_words and CJK_RE.search(token):
                total += unknown
        return float(known / total) if total > 0 else 0.0

    def predict(self, text: str, top: int = 3) -> dict[str, Any]:
        return self.predict_docs(self.prepare([text]), top)[0]

    # -- persistence --------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {"format": MODEL_FORMAT, "version": self.version, "meta": self.meta, "user_words": self.user_words,
                 "vectorizer": self.vectorizer, "category": self.category, "request_type": self.request_type}
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
        if not isinstance(state, dict) or not isinstance(state.get("format"), int) or state["format"] < 3:
            raise ValueError(f"不是分拨模型文件：{path}")
        if state["format"] > MODEL_FORMAT:
            raise ValueError(f"模型文件格式 {state['format']} 比本程序支持的格式 {MODEL_FORMAT} 新，请升级后再加载：{path}")
        # format 4 unpickles as Features without a title block (Features.__setstate__); format 3 had one vectorizer
        vectorizer = state["vectorizer"] if state["format"] >= 4 else LegacyFeatures(state["vectorizer"])
        return cls(vectorizer, state["category"], state["request_type"], user_words=state["user_words"],
                   version=state["version"], meta=state["meta"])


def evaluate(model: RoutingModel, texts: Sequence[str], labels: Sequence[str],
             progress: Progress | None = None, label_map: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Category-head figures on labelled texts; throughput covers segmentation and prediction.

    ``label_map`` maps the data's and the model's labels before comparing (e.g. both to the first category level).
    """
    model.segmenter.prepare("预热")  # load the dictionary before the clock starts
    start, cpu = time.perf_counter(), time.process_time()
    docs = model.prepare(texts, progress)
    suggested = [p["category"] for p in model.predict_docs(docs, top=1)]  # as the service suggests: guard included
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    predicted = [p["label"] for p in suggested]
    if label_map is not None:
        labels, predicted = [label_map(x) for x in labels], [label_map(x) for x in predicted]
    right = [a == b for a, b in zip(labels, predicted)]
    return metrics(labels, predicted) | {
        "texts_per_second": round(len(texts) / elapsed, 1) if elapsed else None,
        "texts_per_cpu_second": round(len(texts) / cpu, 1) if cpu else None,  # per core, whatever else runs
        "calibration": calibration([p["confidence"] for p in suggested], right),
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
