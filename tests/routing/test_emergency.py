import csv
from pathlib import Path

import pytest

from routing.emergency import EmergencyDetector

CASES = list(csv.DictReader(open(Path(__file__).with_name("emergency_cases.csv"), encoding="utf-8")))
DETECTOR = EmergencyDetector()


def test_labelled_set_is_large_and_has_hard_negatives():
    assert len(CASES) >= 100
    assert sum(1 for c in CASES if c["number"]) >= 50
    assert sum(1 for c in CASES if c["note"].startswith("hard-negative")) >= 30
    assert {c["number"] for c in CASES if c["number"]} == {"110", "119", "120"}


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:14] for c in CASES])
def test_labelled_case(case):
    got = DETECTOR.detect(case["text"])
    assert (got["number"] if got else "") == case["number"], got


def test_result_carries_reason_and_evidence():
    got = DETECTOR.detect("小区燃气管道被挖断了，正在往外喷气")
    assert got["number"] == "119" and got["reason"] == "燃气泄漏" and got["evidence"]


def test_no_ordinary_seed_message_is_an_emergency():
    """The 800 everyday requests of the seed set are hard negatives too (e.g. 消防通道被车辆堵死)."""
    from routing.build_default_model import seed_rows

    flagged = [r["text"] for r in seed_rows() if DETECTOR.detect(r["text"])]
    assert flagged == []


@pytest.mark.parametrize("text,number,reason", [
    ("电梯卡在两层楼中间，里面有老人", "119", "人员被困"),  # lift rescue is 119, like 电梯困人
    ("我家老人走失了，到现在还没找到", "110", "老人或儿童走失"),
    ("我被人骗了5万块钱，刚转的账", "110", "正在发生的诈骗"),  # the police can still freeze the transfer
    ("河里有人溺水了", "119", "溺水"),  # water rescue is 119 (120 alongside), not 人员被困
    ("有人被困在电梯里", "119", "人员被困"),
])
def test_new_rules_report_number_and_reason(text, number, reason):
    got = DETECTOR.detect(text)
    assert (got["number"], got["reason"]) == (number, reason) and got["evidence"]


def test_a_rumour_question_is_not_a_report_but_the_same_event_reported_is():
    assert DETECTOR.detect("听说有人跳楼，是真的吗") is None
    assert DETECTOR.detect("有人要跳楼，快来")["number"] == "110"


def test_fraud_needs_a_sign_it_has_just_happened():
    """Asking where to report a fraud is a consultation; with the money just gone it is a 110 transfer."""
    assert DETECTOR.detect("被骗了应该去哪里报案？") is None
    assert DETECTOR.detect("去年被骗了两万块钱，想问能不能追回") is None
    assert DETECTOR.detect("我刚被骗了，应该去哪里报案？")["number"] == "110"


def test_someone_pulled_out_of_the_water_needs_first_aid_not_a_water_rescue():
    got = DETECTOR.detect("溺水的孩子刚救上来，没有呼吸了")
    assert (got["number"], got["reason"]) == ("120", "医疗急救")
    assert DETECTOR.detect("有人落水了，已经被救上来了，人没事") is None
