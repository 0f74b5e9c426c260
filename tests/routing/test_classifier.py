import csv
import random

import numpy as np
import pytest

from routing.build_default_model import seed_rows
from routing.classifier import (REQUEST_TYPES, Features, LegacyFeatures, RoutingModel, TextHead, analyze, evaluate,
                                identity, metrics)
from tests.routing.conftest import SHARED


def test_analyze_has_words_and_bigrams():
    assert analyze("物业 乱收 停车费") == ["物业", "乱收", "停车费", "物业 乱收", "乱收 停车费"]


def test_features_add_character_ngrams_across_word_boundaries():
    feats = Features().fit(["物业 停车费", "路灯 不亮"])
    assert {"物业", "物业 停车费"} <= set(feats.words.vocabulary_)
    n_words = len(feats.words.vocabulary_)
    assert {"物", "停车", "业停", "业停车"} <= set(feats.chars.vocabulary_)  # "业停" spans the two words
    X = feats.transform(["物业 停车费", "物 业停车费", "停车费 物业"])
    assert X.shape == (3, n_words + len(feats.chars.vocabulary_))
    chars = X[:, n_words:].toarray()
    assert np.allclose(chars[0], chars[1])  # another segmentation of the same text: identical character block
    assert not np.allclose(chars[0], chars[2])  # same words, other order: "业停" is missing
    assert np.allclose(X[0].multiply(X[0]).sum(), 2.0)  # each block L2-normalised
    assert X[0, :n_words].nnz == 3 and X[1, :n_words].nnz == 0  # the word block knows only the trained words


def test_format3_model_files_still_load(tmp_path):
    """Models trained before the character block (format 3) keep working after an upgrade."""
    import pickle

    from sklearn.feature_extraction.text import TfidfVectorizer

    rows = seed_rows()
    docs = [" ".join(r["text"]) for r in rows]  # one token per character is enough here
    labels = [r["category"][:3] for r in rows]
    vec = TfidfVectorizer(analyzer=identity, lowercase=False).fit([LegacyFeatures.analyze(d) for d in docs])
    head = TextHead().fit(vec.transform([LegacyFeatures.analyze(d) for d in docs]), labels)
    path = tmp_path / "old.pkl"
    path.write_bytes(pickle.dumps({"format": 3, "version": "routing-old", "meta": {}, "user_words": [],
                                   "vectorizer": vec, "category": head, "request_type": None}))
    model = RoutingModel.load(path)
    assert model.version == "routing-old" and isinstance(model.vectorizer, LegacyFeatures)
    assert model.predict(rows[0]["text"])["category"]["label"] == labels[0]


def test_default_model_predicts_category_and_type_with_probabilities(default_model):
    out = default_model.predict("公司拖欠我们三个月工资，老板跑了", top=3)
    cat, typ = out["category"], out["request_type"]
    assert cat["label"].startswith("C05")
    assert 0 < cat["confidence"] <= 1 and len(cat["top"]) == 3
    assert [p for _, p in cat["top"]] == sorted((p for _, p in cat["top"]), reverse=True)
    assert typ["label"] in REQUEST_TYPES
    assert default_model.predict("请问公积金提取需要什么材料")["request_type"]["label"] == "咨询"


def test_probabilities_sum_to_one(default_model):
    docs = default_model.prepare(["路灯不亮", "医院乱收费", "小区停水"])
    proba = default_model.category.predict_proba(default_model.vectorizer.transform(docs))
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_seed_set_covers_taxonomy_and_request_types():
    rows = seed_rows()
    assert len(rows) >= 200
    assert {r["request_type"] for r in rows} == set(REQUEST_TYPES)
    firsts = {r["category"][:3] for r in rows}
    assert len(firsts) >= 13


def test_save_load_roundtrip_and_raw_or_segmented_input(tmp_path):
    rows = seed_rows()
    model = RoutingModel.train([r["text"] for r in rows], [r["category"][:3] for r in rows])
    assert model.request_type is None
    path = model.save(tmp_path / "m.pkl")
    loaded = RoutingModel.load(path)
    assert loaded.version == model.version
    raw = "小区门口垃圾堆积如山好几天没人清运"
    assert loaded.predict(raw)["category"]["label"] == model.predict(raw)["category"]["label"] == "C09"
    segmented = "小区 门口 垃圾 堆积如山 好几天 没人 清运"
    assert loaded.predict(segmented)["category"]["label"] == "C09"


def test_training_needs_two_labels():
    with pytest.raises(ValueError):
        TextHead().fit([["a"], ["b"]], ["x", "x"])


def test_load_rejects_other_files(tmp_path):
    bad = tmp_path / "x.pkl"
    import pickle

    bad.write_bytes(pickle.dumps({"hello": 1}))
    with pytest.raises(ValueError):
        RoutingModel.load(bad)


def test_metrics_shape():
    m = metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert m["accuracy"] == 0.75
    assert m["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert m["macro_f1"] == round((0.6667 + 0.8) / 2, 4)


def test_real_messages_subsample():
    """A small, fast check on the real 泰迪杯 data: 1,400 segmented rows to train, 350 others to test."""
    path = SHARED / "taidi2020" / "附件2_train_segmented.csv"
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    random.Random(7).shuffle(rows)
    train, test = rows[:1400], rows[1400:1750]
    model = RoutingModel.train([r["分词文本"] for r in train], [r["一级标签"] for r in train])
    result = evaluate(model, [r["分词文本"] for r in test], [r["一级标签"] for r in test])
    assert result["macro_f1"] >= 0.8
    assert set(result["per_class"]) == {r["一级标签"] for r in rows}
    assert result["texts_per_second"] > 0


@pytest.mark.parametrize("binary", [False, True])
def test_fast_calibrated_probabilities_equal_sklearn(binary):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    rows = seed_rows()
    labels = [("C01" if r["category"].startswith("C01") else "other") if binary else r["category"][:3] for r in rows]
    model = RoutingModel.train([r["text"] for r in rows], labels)
    X = model.vectorizer.transform(model.prepare([r["text"] for r in rows]))
    folds = min(5, min(labels.count(x) for x in set(labels)))
    ref = CalibratedClassifierCV(LinearSVC(C=model.category.C, class_weight="balanced"), method="sigmoid", cv=folds,
                                 ensemble=False).fit(X, labels)
    probe = model.vectorizer.transform(model.prepare(["路灯坏了", "公积金怎么提取", rows[3]["text"], "没有意义的话"]))
    assert model.category.classes == list(ref.classes_)
    assert np.allclose(model.category.predict_proba(probe), ref.predict_proba(probe), atol=1e-4)
