import csv
from pathlib import Path

import pytest

from routing.sensitive import MANY_PEOPLE, SensitivityChecker, chinese_number, head_count

CHECK = SensitivityChecker()
CASES = list(csv.DictReader(open(Path(__file__).with_name("sensitive_cases.csv"), encoding="utf-8")))


def test_labelled_set_has_positives_for_every_reason_and_hard_negatives():
    assert len(CASES) >= 40
    assert {c["reason"] for c in CASES if c["reason"]} == {"群体性事件", "涉及人数众多", "媒体关注", "极端行为风险"}
    assert sum(1 for c in CASES if c["note"].startswith("hard-negative")) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:14] for c in CASES])
def test_labelled_case(case):
    got = CHECK.check(case["text"])
    if case["reason"]:
        assert got is not None and case["reason"] in got["reasons"], got
    else:
        assert got is None, got


@pytest.mark.parametrize("text,reason", [
    ("几十个工人在工地门口拉横幅集体讨薪", "群体性事件"),
    ("全体业主明天要去区政府集体上访", "群体性事件"),
    ("上百户居民家里停水三天了", "涉及人数众多"),
    ("这件事已经上了热搜，记者也来采访了", "媒体关注"),
    ("老板不给钱他扬言要跳楼讨薪", "极端行为风险"),
    # head counts at or above the threshold (dozens of people or households)
    ("我们小区三十多户业主都没拿到房产证", "涉及人数众多"),
    ("50人以上联名反映小区规划变更", "涉及人数众多"),
    ("一百二十位业主要求开发商退房", "涉及人数众多"),
    ("二三十个家长在学校门口等说法", "涉及人数众多"),
    ("1000多户居民停电一整天", "涉及人数众多"),
    ("30户居民的燃气表被物业停用", "涉及人数众多"),
    ("几十户居民反映自来水发黄", "涉及人数众多"),
    # explicit collective action or media, whatever the count
    ("十几个村民聚集在镇政府门口要说法", "群体性事件"),
    ("业主聚集在售楼处要求退房", "群体性事件"),
    ("工人们堵路讨薪", "群体性事件"),
    ("这事已经被媒体曝光了", "媒体关注"),
])
def test_flags(text, reason):
    assert reason in CHECK.check(text)["reasons"]


@pytest.mark.parametrize("text", ["楼上装修噪音太大", "我家路灯坏了", "12号楼3单元漏水", "2020年的社保怎么补缴",
                                  "楼上装修天天用冲击钻，吵得受不了", "有人乱停车堵门，我家车开不出去",
                                  "小区门口车辆乱停放堵路",
                                  # counts below the threshold, and numbers that are not head counts
                                  "我们楼10户居民家里停水了", "12户业主的车位被占", "十几户居民反映路灯不亮",
                                  "二十多户的燃气表不走字", "29户人家的暖气不热", "三户人家共用一个水表",
                                  "考试成绩前50名怎么公示", "第30名考生要求复核成绩", "孩子5个月了打什么疫苗",
                                  "网购被骗了300人民币", "30个车位被外来车辆占了", "户型图上写的120平方米",
                                  "很多人聚集在广场跳舞，噪音很大"])
def test_ordinary_requests_are_not_flagged(text):
    assert CHECK.check(text) is None


@pytest.mark.parametrize("text,number", [("35", 35), ("十", 10), ("十五", 15), ("三十五", 35), ("一百二十", 120),
                                         ("两百", 200), ("一千五百", 1500), ("10万", 100000), ("二三十", 30)])
def test_chinese_number(text, number):
    assert chinese_number(text) == number


def test_head_count_takes_the_largest_count_of_people():
    assert head_count("3名工人受伤，其中40多名工人被拖欠工资") == 40
    assert head_count("12号楼3单元") == 0
    assert head_count(f"{MANY_PEOPLE - 1}户") < MANY_PEOPLE <= head_count(f"{MANY_PEOPLE}户")
