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


@pytest.mark.parametrize("stored, written, masked", [
    ("+8613912345678", "13912345678", "139****5678"),
    ("+862388123456", "023-88123456", "023****56"),      # the trunk 0 back, as the text shows it
    ("+861088886666", "010 8888 6666", "010****66"),     # Beijing: national 10…, still no mobile
    ("+8657187654321", "0571-87654321", "0571****21"),
])
def test_a_stored_number_is_masked_as_the_same_number_written_in_text(stored, written, masked):
    from hotline.identity import mask_phone

    assert mask_phone(stored) == masked == mask_phones_in_text(written)


def test_a_title_is_never_cut_inside_a_number():
    from hotline.identity import clip

    text = "楼下饭店油烟太大了熏得家里没法开窗我电话13912345678请回电"
    assert clip(text, 30) == "楼下饭店油烟太大了熏得家里没法开窗我电话"
    assert clip("物业电话139 0000 1111打不通", 10) == "物业电话"
    assert clip("3栋502室漏水", 5) == "3栋502"  # not cut inside: the run ends there
    assert clip("路灯不亮", 30) == "路灯不亮"


def test_units_see_a_title_cut_from_the_masked_text():
    from hotline.views import masked_title

    text = "楼下饭店油烟太大了熏得家里没法开窗我电话13912345678请回电"
    assert masked_title(text[:30], text) == "楼下饭店油烟太大了熏得家里没法开窗我电话139****567"
    # a title written apart from the text, cut by an older version inside a number
    assert masked_title("物业电话13900", "物业不管事") == "物业电话139**"
    assert masked_title("3栋502漏水", "楼上漏水") == "3栋502漏水"
