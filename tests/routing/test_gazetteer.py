import pytest

from routing.gazetteer import Gazetteer
from tests.routing.conftest import SHARED


@pytest.fixture(scope="module")
def demo():
    return Gazetteer.demo()


def test_deepest_area_with_address_and_span(demo):
    text = "我住在云湖区湖滨路12号翠湖花园3栋，楼下噪音很大"
    area = demo.extract(text)
    assert (area["district"], area["street"], area["community"]) == ("云湖区", "湖滨街道", "湖滨社区")
    assert area["district_code"] == "d-yunhu" and area["street_code"] == "s-yunhu-hubin"
    assert area["address"] == "云州市云湖区湖滨街道湖滨社区湖滨路12号翠湖花园3栋"
    start, end = area["span"]
    assert text[start:end] == "云湖区湖滨路12号翠湖花园3栋"


def test_community_and_village_levels(demo):
    area = demo.extract("西江区桃源镇桃花村5组道路坑洼")
    assert area["level"] == "community" and area["community"] == "桃花村" and area["street"] == "桃源镇"
    assert area["address"] == "云州市西江区桃源镇桃花村5组"


def test_ambiguous_road_resolved_by_district(demo):
    assert demo.extract("北塘区人民路有个井盖坏了")["district"] == "北塘区"
    assert demo.extract("云湖区人民路有个井盖坏了")["district"] == "云湖区"


def test_alias_and_no_match(demo):
    assert demo.extract("云州软件园门口占道经营")["district"] == "高新区"
    assert demo.extract("今天天气很好") is None


def test_name_list_loader_guesses_levels(tmp_path):
    f = tmp_path / "names.txt"
    f.write_text("A3区 ns\n雨花街道\n望月湖社区\n麓山名苑\n", encoding="utf-8")
    gaz = Gazetteer.from_name_list(f)
    assert gaz.extract("雨花街道有问题")["street"] == "雨花街道"
    assert gaz.extract("望月湖社区门口")["community"] == "望月湖社区"
    assert gaz.extract("麓山名苑物业")["level"] == "place"


def test_china_admin_divisions():
    gaz = Gazetteer.from_admin_divisions(SHARED / "admin_divisions_cn")
    area = gaz.extract("北京市东城区东华门街道附近施工噪音")
    assert (area["province"], area["district"], area["street"]) == ("北京市", "东城区", "东华门街道")
    assert area["street_code"] == "110101001"


def test_flat_taidi_place_list_fills_levels_from_other_matches():
    gaz = Gazetteer.from_name_list(SHARED / "taidi2020" / "gazetteer" / "泰迪杯地名词典.txt")
    area = gaz.extract("A市A1区苑小区位于A1区火炬路，物业违规收停车费")
    assert (area["city"], area["district"], area["span"]) == ("A市", "A1区", [0, 5])
    area = gaz.extract("A7县星沙街道的路灯坏了")
    assert area["district"] == "A7县" and area["address"] == "A7县"


def test_unknown_level_in_a_configured_csv_names_file_line_and_levels(tmp_path):
    f = tmp_path / "places.csv"
    f.write_text("code,name,level,parent_code,aliases\nd-a,甲区,district,,\ns-a,乙街道,街道,d-a,\n", encoding="utf-8")
    with pytest.raises(ValueError) as info:
        Gazetteer.from_csv(f)
    message = str(info.value)
    assert str(f) in message and "第 3 行" in message and "街道" in message
    assert "district" in message and "street" in message and "community" in message


def test_address_keeps_place_names_that_contain_an_admin_alias(demo):
    # the city's alias 云州 is part of these place names: it must not be cut out of them
    assert demo.extract("云州市高新区云州软件园3号楼漏水")["address"] == "云州市高新区科创街道创业社区云州软件园3号楼"
    assert demo.extract("我在云州市第一人民医院门口")["address"] == "云州市云湖区清水街道云州市第一人民医院"


def test_address_drops_a_whole_admin_alias_and_is_not_extended_into_street_lamps(demo):
    text = "湖滨街道办反映路灯坏了"
    area = demo.extract(text)
    assert area["address"] == "云州市云湖区湖滨街道"
    assert text[slice(*area["span"])] == "湖滨街道办"
    assert demo.extract("湖滨社区小区路灯坏了")["address"] == "云州市云湖区湖滨街道湖滨社区"
    assert demo.extract("松林路路面坑洼")["address"] == "云州市东山区松林街道松林社区松林路"


def test_names_with_traditional_characters_match_normalised_text():
    from hotline.textnorm import normalise

    gaz = Gazetteer()
    district = gaz.add("A5区", "district", "a5")
    gaz.add("明昇壹城", "community", "mingsheng", district)  # an estate's registered name keeps 昇
    for text in ("A5区明昇壹城小区门口积水", "A5区明升壹城小区门口积水"):
        area = gaz.extract(normalise(text))
        assert area["community"] == "明昇壹城" and area["district"] == "A5区"
        start, end = area["span"]
        assert text[start:end] == text[:7]  # offsets are valid in the citizen's own text


@pytest.mark.parametrize("text", ["东山区的路灯坏了，在凤凰路", "东山区的路灯坏了很多天了，晚上很黑，在凤凰路",
                                  "我住东山区，单位在西城区凤凰路", "东山区有人说凤凰路"])
def test_address_is_the_admin_chain_and_the_place_never_the_words_between(demo, text):
    area = demo.extract(text)
    assert area["address"] == "云州市东山区凤凰街道凤凰山社区凤凰路"
    start, end = area["span"]
    assert text[start:end].startswith("东山区") and text[start:end].endswith("凤凰路")


def test_address_keeps_details_that_lead_up_to_the_place_without_a_gap(demo):
    assert demo.extract("云湖区湖滨街道湖滨路5号漏水")["address"] == "云州市云湖区湖滨街道湖滨社区湖滨路5号"
    text = "东山区路灯。东山区凤凰路路灯坏了"  # a district named twice: the span starts at the mention before the place
    area = demo.extract(text)
    assert area["address"] == "云州市东山区凤凰街道凤凰山社区凤凰路" and text[slice(*area["span"])] == "东山区凤凰路"


@pytest.mark.parametrize(("text", "district", "address"), [
    # 人民路 lies in 云湖区 and 北塘区; the citizen named 西江区: the district they named wins
    ("西江区桃源大道与人民路路口的红绿灯坏了", "西江区", "云州市西江区桃源大道"),
    ("西江区人民路有个井盖丢了", "西江区", "云州市西江区人民路"),
    # a place in a district the citizen also named is theirs, whichever was named first
    ("我住东山区，单位在北塘区人民路", "北塘区", "云州市北塘区玉河街道人民路"),
    ("云湖区人民路路灯坏了", "云湖区", "云州市云湖区清水街道人民路"),
])
def test_a_place_in_another_district_does_not_override_the_district_named(demo, text, district, address):
    area = demo.extract(text)
    assert (area["district"], area["address"]) == (district, address)
