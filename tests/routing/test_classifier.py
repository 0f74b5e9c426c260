import csv
import random

import numpy as np
import pytest

from routing.build_default_model import seed_rows
from routing.classifier import (MODEL_FORMAT, REQUEST_TYPES, TITLE_TOKENS, TITLE_WEIGHT, Features, LegacyFeatures,
                                RoutingModel, TextHead, analyze, evaluate, identity, metrics, title_doc)
from tests.routing.conftest import SHARED


def test_analyze_has_words_and_bigrams():
    assert analyze("物业 乱收 停车费") == ["物业", "乱收", "停车费", "物业 乱收", "乱收 停车费"]


def test_features_add_character_ngrams_across_word_boundaries():
    feats = Features(title_tokens=0).fit(["物业 停车费", "路灯 不亮"])
    assert feats.title_words is None and feats.title_chars is None
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


def test_title_doc_keeps_the_first_tokens():
    assert title_doc("a b c d e", 3) == "a b c"
    assert title_doc("a  b", 3) == "a b"
    assert title_doc("", 3) == ""
    assert title_doc(" ".join(map(str, range(30)))) == " ".join(map(str, range(TITLE_TOKENS)))


def test_title_block_covers_only_the_first_tokens_as_a_separate_weighted_block():
    feats = Features(title_tokens=2, title_weight=0.5).fit(["物业 停车费 路灯 不亮", "噪音 扰民 工地 夜间"])
    assert set(feats.title_words.vocabulary_) == {"物业", "停车费", "物业 停车费", "噪音", "扰民", "噪音 扰民"}
    assert "路灯" in feats.words.vocabulary_ and "路灯" not in feats.title_words.vocabulary_
    assert "灯" in feats.chars.vocabulary_ and "灯" not in feats.title_chars.vocabulary_
    sizes = [len(v.vocabulary_) for v in (feats.words, feats.chars, feats.title_words, feats.title_chars)]
    X = feats.transform(["物业 停车费 路灯 不亮", "物业 停车费 工地 夜间", "停车费 物业 路灯 不亮"]).toarray()
    assert X.shape == (3, sum(sizes))
    full, title = X[:, :sizes[0] + sizes[1]], X[:, sizes[0] + sizes[1]:]
    assert not np.allclose(full[0], full[1])  # the rest of the text differs ...
    assert np.allclose(title[0], title[1])  # ... but the first two tokens are the same: identical title block
    assert title[2].any() and not np.allclose(title[0], title[2])  # other first two tokens: another title block
    assert np.allclose(title[0, :sizes[2]], feats.title_words.transform(["物业 停车费"]).toarray()[0] * 0.5)
    # each sub-block is L2-normalised; the two title sub-blocks are scaled by the weight: 1 + 1 + 0.25 + 0.25
    assert np.isclose((X[0] ** 2).sum(), 2.5, atol=1e-5)
    assert np.isclose((title[0] ** 2).sum(), 2 * 0.5 ** 2, atol=1e-5)


def test_title_block_is_on_by_default_with_the_chosen_settings(default_model):
    assert (TITLE_TOKENS, TITLE_WEIGHT) == (12, 0.5)
    feats = Features()
    assert (feats.title_tokens, feats.title_weight) == (TITLE_TOKENS, TITLE_WEIGHT)
    vec = default_model.vectorizer  # the shipped model was rebuilt with the title block
    assert (vec.title_tokens, vec.title_weight) == (TITLE_TOKENS, TITLE_WEIGHT)
    n = sum(len(v.vocabulary_) for v in (vec.words, vec.chars, vec.title_words, vec.title_chars))
    assert default_model.category.coef.shape[1] == n
    assert vec.transform(default_model.prepare(["小区门口垃圾堆积如山好几天没人清运"])).shape == (1, n)


def test_trained_model_uses_the_title_block(tmp_path):
    rows = seed_rows()
    model = RoutingModel.train([r["text"] for r in rows], [r["category"][:3] for r in rows])
    vec = model.vectorizer
    n_full = len(vec.words.vocabulary_) + len(vec.chars.vocabulary_)
    assert len(vec.title_words.vocabulary_) > 0 and model.category.coef.shape[1] > n_full
    weights = np.abs(model.category.coef[:, n_full:])
    assert weights.sum() > 0  # the head learned weights on the title block
    loaded = RoutingModel.load(model.save(tmp_path / "m.pkl"))
    docs = model.prepare([r["text"] for r in rows[:20]])
    assert np.allclose(loaded.category.predict_proba(loaded.vectorizer.transform(docs)),
                       model.category.predict_proba(model.vectorizer.transform(docs)))


def test_format4_model_files_still_load_without_title_block(tmp_path):
    """Models trained before the title block (format 4) load and predict exactly as before."""
    import pickle

    rows = seed_rows()
    texts, labels = [r["text"] for r in rows], [r["category"][:3] for r in rows]
    new = RoutingModel.train(texts, labels)
    old_features = Features(title_tokens=0)
    for name in ("title_tokens", "title_weight", "title_words", "title_chars"):  # as a format-4 Features pickled
        delattr(old_features, name)
    docs = new.prepare(texts)
    old_features.words, old_features.chars = new.vectorizer.words, new.vectorizer.chars  # already fitted
    n_full = len(old_features.words.vocabulary_) + len(old_features.chars.vocabulary_)
    path = tmp_path / "v4.pkl"
    path.write_bytes(pickle.dumps({"format": 4, "version": "routing-v4", "meta": {}, "user_words": [],
                                   "vectorizer": old_features, "category": None, "request_type": None}))
    state = pickle.loads(path.read_bytes())
    assert state["vectorizer"].title_tokens == 0 and state["vectorizer"].title_words is None
    X = state["vectorizer"].transform(docs)
    assert X.shape == (len(docs), n_full)
    head = TextHead().fit(X, labels)
    state["category"] = head
    path.write_bytes(pickle.dumps(state))
    model = RoutingModel.load(path)
    assert model.version == "routing-v4" and model.vectorizer.title_tokens == 0
    assert np.allclose(model.category.predict_proba(model.vectorizer.transform(docs)), head.predict_proba(X))
    assert model.predict(texts[0])["category"]["label"] == labels[0]


def test_load_refuses_a_newer_format_with_a_clear_message(tmp_path):
    import pickle

    path = tmp_path / "future.pkl"
    path.write_bytes(pickle.dumps({"format": MODEL_FORMAT + 1, "version": "routing-future"}))
    with pytest.raises(ValueError, match=f"格式 {MODEL_FORMAT + 1}"):
        RoutingModel.load(path)


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
    svm = LinearSVC(C=model.category.C, class_weight="balanced", random_state=0)
    ref = CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False).fit(X, labels)
    probe = model.vectorizer.transform(model.prepare(["路灯坏了", "公积金怎么提取", rows[3]["text"], "没有意义的话"]))
    assert model.category.classes == list(ref.classes_)
    assert np.allclose(model.category.predict_proba(probe), ref.predict_proba(probe), atol=1e-4)
