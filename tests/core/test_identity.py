"""Masking what citizens write into free text before unit users see it (hotline.identity)."""

from __future__ import annotations

import pytest

from hotline.identity import mask_phones_in_text


@pytest.mark.parametrize("text, masked", [
    ("联系电话：13912345678", "联系电话：139****5678"),
    ("+86 139-1234-5678 或 0086 13912345678", "139****5678 或 139****5678"),
    ("联系电话：057187654321", "联系电话：0571****21"),
    ("座机 0571-87654321，(023) 8889 6666", "座机 0571****21，023****66"),
    ("身份证号330106199001011234，他的11010519491231002X", "身份证号330106********1234，他的110105********002X"),
    ("手机１３９８７６５４３２１，备用139.8765.4322", "手机139****4321，备用139****4322"),
    ("座机87654321，电话：8765-4321", "座机****21，电话：****21"),
    ("老身份证110105491231002", "老身份证110105******002"),
])
def test_phone_and_identity_numbers_are_masked(text, masked):
    assert mask_phones_in_text(text) == masked


@pytest.mark.parametrize("text", [
    "工单2026120700008的答复", "2024-05-06打过12345", "罚款12345678元", "订单号20261207123456789", "邮编310000",
])
def test_other_numbers_are_left_alone(text):
    assert mask_phones_in_text(text) == text
