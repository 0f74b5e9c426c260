import pytest

from routing.sensitive import SensitivityChecker

CHECK = SensitivityChecker()


@pytest.mark.parametrize("text,reason", [
    ("几十个工人在工地门口拉横幅集体讨薪", "群体性事件"),
    ("全体业主明天要去区政府集体上访", "群体性事件"),
    ("上百户居民家里停水三天了", "涉及人数众多"),
    ("这件事已经上了热搜，记者也来采访了", "媒体关注"),
    ("老板不给钱他扬言要跳楼讨薪", "极端行为风险"),
])
def test_flags(text, reason):
    assert reason in CHECK.check(text)["reasons"]


@pytest.mark.parametrize("text", ["楼上装修噪音太大", "我家路灯坏了", "12号楼3单元漏水", "2020年的社保怎么补缴",
                                  "楼上装修天天用冲击钻，吵得受不了", "有人乱停车堵门，我家车开不出去",
                                  "小区门口车辆乱停放堵路"])
def test_ordinary_requests_are_not_flagged(text):
    assert CHECK.check(text) is None
