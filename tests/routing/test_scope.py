import csv
from pathlib import Path

import pytest

from routing.scope import EXCLUSIONS, ScopeChecker

CASES = list(csv.DictReader(open(Path(__file__).with_name("scope_cases.csv"), encoding="utf-8")))
CHECKER = ScopeChecker()


def test_labelled_set_covers_all_seven_exclusions_and_hard_negatives():
    assert len(CASES) >= 100
    assert {c["code"] for c in CASES if c["code"]} == set(EXCLUSIONS)
    assert sum(1 for c in CASES if c["note"].startswith("hard-negative")) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:14] for c in CASES])
def test_labelled_case(case):
    got = CHECKER.check(case["text"])
    assert (got["code"] if got else "") == case["code"], got


def test_reason_is_chinese_text():
    got = CHECKER.check("我已经向法院起诉了开发商")
    assert got["reason"] == EXCLUSIONS["litigation"]


def test_no_ordinary_seed_message_is_out_of_scope():
    from routing.build_default_model import seed_rows

    assert [r["text"] for r in seed_rows() if CHECKER.check(r["text"])] == []
