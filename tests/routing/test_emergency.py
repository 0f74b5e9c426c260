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


def test_liveness_cues_are_local_to_the_trigger():
    """A dated past fire stays past even when the letter says 现在 about something else."""
    assert DETECTOR.detect("2019年3月8日晚上，小区车库起火，烧了十几辆车。现在物业还不给说法") is None
    assert DETECTOR.detect("2019年3月8日车库起过火。现在3栋楼下又着火了，正在烧，快来人")["number"] == "119"


def test_trigger_must_be_a_whole_word():
    from routing.liveness import is_whole_word

    assert not is_whole_word("开发商严重伤害了业主", 4, 6)  # 重伤 inside 严重|伤害
    assert not is_whole_word("引狼入室的竟是他们", 2, 4)  # the tail of an idiom
    assert is_whole_word("有人食物中毒了", 4, 6)  # 食物中毒 is still 中毒
    assert is_whole_word("有人在我家门口撬锁", 7, 8)  # a one-character verb starting 撬锁


def test_a_long_letter_needs_a_now_anchor_next_to_the_trigger():
    letter = ("尊敬的领导：我们小区的消防通道长期被占用，物业不管，我们多次投诉都没有结果。" * 4
              + "小区里有人打架，保安也不来。")
    assert len(letter) > 150 and DETECTOR.detect(letter) is None
    live = letter + "现在楼下有人拿刀砍人，还在砍，快来人！"
    assert DETECTOR.detect(live)["number"] == "110"


def test_smoke_without_flames_in_a_pollution_complaint_is_not_a_fire():
    assert DETECTOR.detect("楼顶一直冒烟，影响周边居民，窗户都不敢开") is None
    assert DETECTOR.detect("楼顶在冒烟，能看到火苗")["number"] == "119"
