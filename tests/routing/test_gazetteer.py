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


# -- generic words, flat lists, admin divisions -----------------------------------------------------------------
@pytest.fixture(scope="module")
def china():
    return Gazetteer.from_admin_divisions(SHARED / "admin_divisions_cn")


@pytest.mark.parametrize(("name", "generic"), [
    ("小区", True), ("社区", True), ("新区", True), ("园区", True), ("城区", True), ("街道", True), ("村", True),
    ("本市", True), ("东区", True), ("A区", True), ("3区", True), ("广场", True),
    ("云湖区", False), ("A3区", False), ("A市", False), ("和县", False), ("乌镇", False), ("南湖新村", False),
])
def test_generic_words_are_not_names(name, generic):
    from routing.gazetteer import is_generic

    assert is_generic(name) is generic


def test_name_list_skips_generic_words_and_transit_lines(tmp_path):
    f = tmp_path / "names.txt"
    f.write_text("小区 ns\n社区\n新区\n街道\n村\nB区\n青松县\n地铁2号线\n15路公交车\n解放一路\n", encoding="utf-8")
    gaz = Gazetteer.from_name_list(f)
    assert set(gaz.names()) == {"青松县", "解放一路"}
    assert gaz.extract("我们小区门口新区管委会旁边的街道很脏") is None
    area = gaz.extract("青松县的地铁2号线站口积水，坐15路公交车也不方便")
    assert area["district"] == "青松县" and area["address"] == "青松县"


def test_name_list_line_may_name_the_level(tmp_path):
    # a flat list cannot tell a county-level city (浏阳市) from a prefecture by its suffix; the line can say it
    f = tmp_path / "names.txt"
    f.write_text("长沙市\n浏阳市 district\n宁乡市\n", encoding="utf-8")
    gaz = Gazetteer.from_name_list(f)
    area = gaz.extract("长沙市浏阳市集里街道路灯坏了")
    assert (area["city"], area["district"]) == ("长沙市", "浏阳市")
    assert gaz.extract("宁乡市的路灯坏了")["city"] == "宁乡市"  # untagged: guessed from 市


def test_admin_divisions_type_county_level_cities_as_districts(china):
    area = china.extract("浏阳市的路灯坏了")
    assert (area["province"], area["city"], area["district"]) == ("湖南省", "长沙市", "浏阳市")


@pytest.mark.parametrize("text", ["街道办事处不作为", "城区的路灯坏了", "郊区有人烧秸秆", "东区的小区停水了"])
def test_admin_divisions_generic_names_are_matched_only_with_their_parent(china, text):
    assert china.extract(text) is None


def test_admin_divisions_generic_name_after_its_parent(china):
    area = china.extract("阳泉市城区的路灯坏了")
    assert (area["city"], area["district"], area["address"]) == ("阳泉市", "城区", "山西省阳泉市城区")
    gaz = Gazetteer()
    city = gaz.add("青州市", "city", "qz", aliases=["青州"])
    gaz.add("新区", "district", "qz-new", city, aliases=["市区"])  # a generic alias is dropped
    assert gaz.extract("新区的路灯坏了") is None and gaz.extract("市区的路灯坏了") is None
    assert gaz.extract("青州新区的路灯坏了")["district"] == "新区"


def test_estate_block_is_not_a_district(tmp_path):
    f = tmp_path / "names.txt"
    f.write_text("Q市\nB3区\nB7县\n", encoding="utf-8")
    gaz = Gazetteer.from_name_list(f)
    area = gaz.extract("Q市锦绣华庭B3区2栋楼顶漏水")  # block B3区 of the estate 锦绣华庭
    assert area["district"] is None and area["city"] == "Q市"
    assert gaz.extract("翠竹苑B7县12栋电梯坏了") is None
    assert gaz.extract("B3区锦绣路2号门口积水")["district"] == "B3区"
    assert gaz.extract("我住在B3区2栋")["district"] == "B3区"  # no estate name before it


@pytest.mark.parametrize(("text", "address"), [
    ("青松县县城内道路坑洼", "青松县"),
    ("青松县单行线马路两边乱停车", "青松县"),
    ("青松县政府东门至江南路段飙车", "青松县"),
    ("青松县流动摊贩临街摆摊", "青松县"),
    ("青松县向阳路12号门口积水", "青松县向阳路12号"),
])
def test_guessed_road_names_are_no_common_nouns(tmp_path, text, address):
    f = tmp_path / "names.txt"
    f.write_text("青松县\n", encoding="utf-8")
    assert Gazetteer.from_name_list(f).extract(text)["address"] == address


# -- the demo gazetteer next to a configured one ---------------------------------------------------------------------
def test_demo_gazetteer_can_be_left_out_when_a_real_city_is_configured(tmp_path):
    from routing.gazetteer import build_gazetteer
    from routing.settings import RoutingSettings

    f = tmp_path / "names.txt"
    f.write_text("青松县\n", encoding="utf-8")
    both = build_gazetteer(RoutingSettings(place_names_txt=f))
    assert both.extract("南湖路油烟扰民")["city"] == "云州市" and both.extract("青松县停水")["district"] == "青松县"
    own = build_gazetteer(RoutingSettings(place_names_txt=f, demo_gazetteer=False))
    assert own.extract("南湖路油烟扰民") is None and own.extract("青松县停水")["district"] == "青松县"
    assert build_gazetteer(RoutingSettings(demo_gazetteer=False)).extract("云湖区停水") is None


def test_demo_setting_from_the_environment(monkeypatch):
    from routing.settings import RoutingSettings

    monkeypatch.setenv("HOTLINE_ROUTING_DEMO_GAZETTEER", "false")
    assert RoutingSettings().demo_gazetteer is False
    monkeypatch.delenv("HOTLINE_ROUTING_DEMO_GAZETTEER")
    assert RoutingSettings().demo_gazetteer is True


def test_a_place_of_another_city_is_out_when_that_city_area_is_named(tmp_path):
    # the demo's 南湖路 is not the 南湖路 of a configured city's district named elsewhere in the text
    f = tmp_path / "names.txt"
    f.write_text("青松县\n", encoding="utf-8")
    gaz = Gazetteer.from_name_list(f, into=Gazetteer.demo())
    assert gaz.extract("青松县的事。晚上南湖路油烟扰民")["district"] == "青松县"


# -- the demo city: ambiguity, evidence, matching ----------------------------------------------------------------
def test_an_ambiguous_place_gives_no_district_without_evidence(demo):
    text = "昨晚人民路上井盖丢了"
    area = demo.extract(text)
    assert (area["city"], area["district"], area["street"]) == ("云州市", None, None)
    assert area["level"] == "place" and area["address"] == "云州市人民路"
    assert text[slice(*area["span"])] == "人民路"


def test_an_ambiguous_place_is_resolved_by_a_neighbouring_place(demo):
    # 杏林小区 lies in 清水街道 of 云湖区, as does one of the two 人民路
    area = demo.extract("人民路靠近杏林小区那段井盖丢了")
    assert (area["district"], area["street"]) == ("云湖区", "清水街道")


def test_a_district_named_elsewhere_does_not_override_a_place(demo):
    area = demo.extract("我住荷塘家园，平时在东山区上班，荷塘家园停电一整天了")
    assert (area["district"], area["address"]) == ("南岭区", "云州市南岭区南湖街道荷塘社区荷塘家园")
    # named right before the place, in the same clause, the district still wins
    area = demo.extract("西江区凤凰路有个井盖丢了")
    assert (area["district"], area["address"]) == ("西江区", "云州市西江区凤凰路")


def test_the_place_mentioned_most_wins(demo):
    area = demo.extract("松林路的车都绕到江滨大道了，江滨大道整天堵")
    assert (area["district"], area["address"]) == ("西江区", "云州市西江区江滨街道江滨社区江滨大道")
    assert demo.extract("松林路的车都绕到江滨大道了")["district"] == "东山区"  # once each: the first


def test_matching_prefers_the_split_that_covers_more(demo):
    text = "我在云州市一医院看病排队三小时"
    area = demo.extract(text)
    assert (area["city"], area["district"], area["street"]) == ("云州市", "云湖区", "清水街道")
    assert text[slice(*area["span"])] == "云州市一医院"


def test_a_name_is_not_the_start_of_a_longer_word(demo):
    assert demo.extract("小区旁边的市民广场舞音响太吵") is None
    assert demo.extract("市民广场有人摆摊")["district"] == "云湖区"


def test_address_keeps_the_place_after_de(demo):
    text = "高新区的人民路路灯不亮"
    area = demo.extract(text)
    assert (area["district"], area["address"]) == ("高新区", "云州市高新区人民路")
    assert text[slice(*area["span"])] == "高新区的人民路"
