"""The shipped default model on short, colloquial everyday requests (issue 5).

``everyday_cases.csv`` holds short citizen requests written for this test, each with the category the
hotline expects (the deepest code the model predicts) and the request type. They are kept apart from
``routing/data/seed_train.csv``: no case text may occur in a seed row, so the figures below measure how
the seed set generalises, not what it memorised.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from routing.build_default_model import seed_rows
from routing.classifier import REQUEST_TYPES
from routing.taxonomy import Taxonomy

CASES = Path(__file__).with_name("everyday_cases.csv")

# Measured on the shipped model when it was rebuilt (2026-12-07, unknown-word seed rows): 151/170 = 0.888 exact,
# 153/170 = 0.900 at the first level (the model before: 139/170 = 0.818 and 0.835; on the first 159 cases
# 140/159 = 0.881 and 0.893, before 138/159 = 0.868 and 0.881; before the seed set was first extended:
# 125/159 = 0.786 and 0.818). Thresholds sit a little below.
MIN_ACCURACY = 0.84
MIN_LEVEL1_ACCURACY = 0.85

# Plain everyday requests that must land in the expected category.
MUST_ROUTE = {
    "电梯坏了": "C010202",
    "电梯坏了好几天了": "C010202",
    "楼里电梯坏了没人修": "C010202",
    "电梯老是卡人，吓死了": "C010202",
    "电梯停运了，老人上不了楼": "C010202",
    "路灯不亮": "C010302",
    "楼上天天半夜装修太吵": "C0203",
    "公司三个月没发工资": "C050201",
    "医保卡怎么异地报销": "C050102",
    "出租车拒载": "C030102",
    "打车师傅故意绕路": "C030102",
    "中介费收得太多了": "C010203",
    # misroutes found by exploratory testing (2026-12-07): topics the seed set had no words for
    "有人在卖假证，电话贴满了电线杆": "C1001",
    "快递驿站把我的快递弄丢了": "C060101",
    "法院立案怎么立": "C99",
    "护照怎么办理": "C1001",
    "准生证在哪里办": "C0703",
    "我们小区门口路灯全都不亮": "C010302",
}


def load_cases() -> list[dict]:
    with open(CASES, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def squash(text: str) -> str:
    """Text without punctuation or spaces, for comparing case and seed texts."""
    return re.sub(r"[^\w]", "", text)


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    return load_cases()


@pytest.fixture(scope="module")
def predicted(default_model, cases) -> list[str]:
    return default_model.predict_labels(default_model.prepare([c["text"] for c in cases]))


def test_cases_are_well_formed_and_cover_every_first_level_category(cases, default_model):
    assert len(cases) >= 120
    texts = [c["text"] for c in cases]
    assert len(set(texts)) == len(texts)
    assert all(4 <= len(t) <= 40 for t in texts)
    assert {c["request_type"] for c in cases} <= set(REQUEST_TYPES)
    assert {c["category"] for c in cases} <= set(default_model.category.classes)
    tax = Taxonomy.from_csv()
    seed_firsts = {tax.level1_code(r["category"]) for r in seed_rows()}
    assert seed_firsts <= {tax.level1_code(c["category"]) for c in cases}
    assert set(MUST_ROUTE) <= set(texts)


def test_no_case_text_occurs_in_the_seed_set(cases):
    seeds = [squash(r["text"]) for r in seed_rows()]
    leaked = [c["text"] for c in cases if any(squash(c["text"]) in s for s in seeds)]
    assert leaked == []


def test_accuracy_on_everyday_cases(cases, predicted):
    hits = sum(p == c["category"] for p, c in zip(predicted, cases))
    misses = [(c["text"], c["category"], p) for p, c in zip(predicted, cases) if p != c["category"]]
    assert hits / len(cases) >= MIN_ACCURACY, misses


def test_first_level_accuracy_on_everyday_cases(cases, predicted):
    tax = Taxonomy.from_csv()
    hits = sum(tax.level1_code(p) == tax.level1_code(c["category"]) for p, c in zip(predicted, cases))
    assert hits / len(cases) >= MIN_LEVEL1_ACCURACY


@pytest.mark.parametrize("text,expected", sorted(MUST_ROUTE.items()))
def test_must_route_cases(default_model, text, expected):
    assert default_model.predict(text)["category"]["label"] == expected
