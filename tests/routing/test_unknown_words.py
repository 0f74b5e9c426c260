"""The unknown-word guard: a text made of words the model never saw gets a low category confidence."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from routing.classifier import COVERAGE_FULL, RoutingModel, evaluate

ROWS = [  # pre-segmented, so the test does not depend on jieba's dictionary
    ("养老院 护理 收费 贵", "elderly"), ("护理员 态度 差 老人", "elderly"), ("老人 护理 补贴 申请", "elderly"),
    ("养老院 护工 负责 老人", "elderly"), ("居家 护理 服务 预约", "elderly"), ("护理 费用 报销 老人", "elderly"),
    ("小区 停电 三天", "power"), ("电费 贵 电表 不准", "power"), ("供电局 抢修 慢 停电", "power"),
    ("停电 通知 供电局", "power"), ("电表 计量 不准", "power"), ("线路 老化 跳闸 停电", "power"),
    ("自来水 停水 两天", "water"), ("水管 爆裂 漏水", "water"), ("水费 多收 自来水", "water"),
    ("自来水 发黄 浑浊", "water"), ("停水 通知 自来水", "water"), ("水压 低 停水", "water"),
]


@pytest.fixture(scope="module")
def model() -> RoutingModel:
    return RoutingModel.train([t for t, _ in ROWS], [c for _, c in ROWS], user_words=["凤凰街道"])


def test_unknown_words_get_a_low_confidence_but_the_same_label(model):
    text = "护照 签证 证件"  # no known word; 护 and 证 are known only as characters (护理)
    guarded, raw = model.predict(text)["category"], model.predict_docs(model.prepare([text]), guard=False)[0]["category"]
    assert guarded["coverage"] == 0.0 == raw["coverage"]
    assert guarded["label"] == raw["label"]
    assert [label for label, _ in guarded["top"]] == [label for label, _ in raw["top"]]
    assert guarded["confidence"] < 0.5 and guarded["confidence"] <= raw["confidence"]


def test_known_words_are_not_affected(model):
    for text in ("养老院 护理 贵", "停电 供电局 抢修", "自来水 停水 水压"):
        guarded = model.predict(text)["category"]
        raw = model.predict_docs(model.prepare([text]), guard=False)[0]["category"]
        assert guarded["coverage"] == 1.0
        assert guarded == raw
        assert guarded["confidence"] > 0.5


def test_coverage_weighs_known_and_unknown_words_by_distinctiveness(model):
    vocab, weight, unknown = model._distinctiveness()
    w = weight[vocab["停电"]]
    assert w > 0 and unknown > 0
    assert model.coverage("停电 护照") == pytest.approx(w / (w + unknown))
    assert model.coverage("停电 护照 护照") == model.coverage("停电 护照")  # each distinct word counts once
    # user-dictionary words (place names) and words without a Chinese character are left out
    assert model.coverage("凤凰街道 停电 2024 abc") == 1.0
    assert model.coverage("") == 0.0 and model.coverage("凤凰街道") == 0.0
    # a partly known text is scaled by coverage / COVERAGE_FULL, labels and their order kept
    doc = "停电 护照 签证 证件"
    cov = model.coverage(doc)
    assert cov < COVERAGE_FULL
    guarded, raw = model.predict_docs([doc])[0]["category"], model.predict_docs([doc], guard=False)[0]["category"]
    assert guarded["label"] == raw["label"] == "power"
    assert guarded["confidence"] == pytest.approx(raw["confidence"] * cov / COVERAGE_FULL)
    assert [p for _, p in guarded["top"]] == pytest.approx([p * cov / COVERAGE_FULL for _, p in raw["top"]])


def test_generic_words_weigh_less_than_topical_ones(model):
    vocab, weight, _ = model._distinctiveness()
    assert weight[vocab["停电"]] > weight[vocab["通知"]]  # 通知 occurs under power and water alike


def test_labels_and_evaluation_do_not_change(model):
    texts = ["护照 签证", "养老院 护理", "停电 护照", "水管 护照 签证 证件"]
    docs = model.prepare(texts)
    assert model.predict_labels(docs) == [o["category"]["label"] for o in model.predict_docs(docs)]
    assert [o["category"]["label"] for o in model.predict_docs(docs)] == \
        [o["category"]["label"] for o in model.predict_docs(docs, guard=False)]
    guarded = [o["category"]["label"] for o in model.predict_docs(docs)]
    assert evaluate(model, texts, ["elderly"] * 4)["accuracy"] == guarded.count("elderly") / 4


def test_guard_works_with_a_single_example_label_and_after_save_load(model, tmp_path):
    rows = ROWS + [("燃气 泄漏", "gas")]  # one example: the head falls back to logistic regression
    small = RoutingModel.train([t for t, _ in rows], [c for _, c in rows])
    assert small.category.fallback is not None
    assert small.predict("护照 签证 证件")["category"]["confidence"] == 0.0
    assert small.predict("燃气 泄漏")["category"]["coverage"] == 1.0
    loaded = RoutingModel.load(model.save(tmp_path / "m.pkl"))
    assert loaded.predict("停电 护照")["category"] == model.predict("停电 护照")["category"]


def test_default_model_unknown_topics_stay_below_auto_dispatch(default_model):
    for text in ("彩票中奖了怎么领奖", "商标注册的流程是什么", "保险公司拒绝理赔"):
        cat = default_model.predict(text)["category"]
        assert cat["coverage"] < COVERAGE_FULL and cat["confidence"] < 0.5, (text, cat)


def test_default_model_everyday_cases_barely_lose_confidence(default_model):
    with open(Path(__file__).with_name("everyday_cases.csv"), encoding="utf-8", newline="") as fh:
        texts = [r["text"] for r in csv.DictReader(fh)]
    docs = default_model.prepare(texts)
    guarded = np.array([o["category"]["confidence"] for o in default_model.predict_docs(docs)])
    raw = np.array([o["category"]["confidence"] for o in default_model.predict_docs(docs, guard=False)])
    assert (guarded <= raw + 1e-12).all()
    assert (guarded == raw).mean() >= 0.85  # most everyday requests are fully covered
    assert (raw >= 0.75).sum() - (guarded >= 0.75).sum() <= 3
