"""Automatic removal of personal data before publication."""

from __future__ import annotations

import pytest

from channels.mailbox.redact import redact


@pytest.mark.parametrize("text,gone,kept", [
    ("身份证330106198801011234，请核实", "330106198801011234", "[身份证号已隐去]"),
    ("身份证号33010619880101123X。", "33010619880101123X", "[身份证号已隐去]"),
    ("电话13812345678或+86 138 1234 5678", "1234", "[电话已隐去]"),
    ("座机0571-87654321", "87654321", "[电话已隐去]"),
    ("邮箱a.b@qq.com", "a.b@qq.com", "邮箱[邮箱已隐去]"),
    ("家住文三路138号", "138号", "文三路[门牌号已隐去]"),
    ("春波小区3幢2单元501室", "501", "[详细地址已隐去]"),
    ("我叫王堃，想咨询", "王堃", "我叫某某"),
    ("感谢李女士和王警官", "李女士", "某女士和某警官"),
])
def test_personal_data_is_removed(text, gone, kept):
    out = redact(text)
    assert gone not in out and kept in out


def test_known_names_and_ordinary_numbers():
    out = redact("张喆反映：工地噪音。张喆 2026年11月23日，罚款3000000元，第12345号文件", ["张喆"])
    assert "张喆" not in out and out.startswith("某某反映")
    assert "2026年11月23日" in out and "3000000元" in out and "12345号文件" in out
