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
    assert got["reason"] == EXCLUSIONS["in_litigation"]


def test_no_ordinary_seed_message_is_out_of_scope():
    from routing.build_default_model import seed_rows

    assert [r["text"] for r in seed_rows() if CHECKER.check(r["text"])] == []


@pytest.mark.parametrize("text", ["停水了", "没电了", "漏水", "着火了"])
def test_a_short_real_request_has_substance(text):
    assert CHECKER.check(text) is None


@pytest.mark.parametrize("text", ["", "  ", "你好", "喂", "123", "嗯嗯", "。。", "谢谢"])
def test_greetings_and_noise_have_no_substance(text):
    assert CHECKER.check(text)["code"] == "no_substance"


def test_every_code_the_checker_can_suggest_is_a_reject_reason():
    """An agent can pass the router's suggestion straight to the ticket's ``reject`` action."""
    from hotline.lifecycle import REJECT_REASONS
    from routing.scope import RULES

    codes = {r.code for r in RULES} | {c["code"] for c in CASES if c["code"]}
    assert codes <= set(REJECT_REASONS) and len(REJECT_REASONS) == 7
    for text in ("你好", "朋友借了我两万块钱不还，请政府帮我要回来", "我已经向法院起诉了开发商"):
        got = CHECKER.check(text)
        assert got["reason"] == REJECT_REASONS[got["code"]]
