import csv

import pytest

from routing.rules import RuleError, RuleTable
from routing.taxonomy import DEFAULT_CATEGORIES

UNITS_CSV = DEFAULT_CATEGORIES.with_name("units.csv")

TABLE = """id,category,request_type,area,intake_line,keywords,lead_unit,co_units,enabled,note
1,,,,12315,,market,,1,consumer line
2,C0803,,,,,gas,,1,gas
3,C010202,,,,,@street,housing,1,property: street first
4,C010202,,,,,housing,,1,property: fallback
5,C0203,,d-yunhu,,广场舞,police,@district,1,square dance in Yunhu
6,C02,投诉|举报,,,,ecology,,1,environment complaints
7,C99,,,,,platform,,0,disabled
"""

AREA = {"district": "云湖区", "district_code": "d-yunhu", "street": "湖滨街道", "street_code": "s-yunhu-hubin"}


@pytest.fixture
def table():
    return RuleTable.from_csv_text(TABLE)


def test_first_match_wins(table):
    m = table.match(category="C0803", intake_line="12315")
    assert (m.rule.id, m.lead_unit) == (1, "market")
    assert table.match(category="C080301", intake_line="12345").lead_unit == "gas"


def test_area_unit_rule_falls_through_without_area(table):
    m = table.match(category="C010202", area=AREA)
    assert (m.rule.id, m.lead_unit, m.co_units) == (3, "s-yunhu-hubin", ["housing"])
    assert table.match(category="C010202", area=None).rule.id == 4


def test_keywords_area_and_request_type(table):
    m = table.match(category="C0203", request_type="投诉", area=AREA, text="每晚广场舞太吵")
    assert (m.rule.id, m.lead_unit, m.co_units) == (5, "police", ["d-yunhu"])
    assert table.match(category="C0203", request_type="投诉", area=AREA, text="工厂噪音").rule.id == 6
    assert table.match(category="C0203", request_type="咨询", area=AREA, text="工厂噪音") is None


def test_disabled_rule_and_no_match(table):
    assert table.match(category="C99") is None
    assert table.match(category=None) is None


def test_csv_roundtrip(table):
    again = RuleTable.from_csv_text(table.to_csv_text())
    assert [r.to_row() for r in again.rules] == [r.to_row() for r in table.rules]


@pytest.mark.parametrize("text,message", [
    ("id,lead_unit\n1,housing\n1,gas\n", "重复"),
    ("id,lead_unit\nx,housing\n", "整数"),
    ("id,category,lead_unit\n1,C01,\n", "主办单位"),
    ("id,lead_unit\n1,nosuchunit\n", "未知的单位"),
    ("id,category\n1,C01\n", "lead_unit"),
])
def test_invalid_tables_are_rejected_in_chinese(text, message):
    with pytest.raises(RuleError, match=message):
        RuleTable.from_csv_text(text, known_units={"housing", "gas"})


def test_default_table_uses_known_units_and_categories():
    units = {r["code"] for r in csv.DictReader(open(UNITS_CSV, encoding="utf-8"))}
    cats = {r["code"] for r in csv.DictReader(open(DEFAULT_CATEGORIES, encoding="utf-8"))}
    table = RuleTable.from_csv_text(RuleTable.default().to_csv_text(), known_units=units)
    for rule in table.rules:
        for code in filter(None, rule.category.split("|")):
            assert code in cats, code
    # every first-level category except 其他 has a unit
    for first in sorted(c for c in cats if len(c) == 3 and c != "C99"):
        assert table.match(category=first) is not None, first


@pytest.mark.parametrize("value", ["0", "FALSE", "False", "No", "否", " false "])
def test_disabled_spelled_as_excel_or_json_writes_it(value):
    table = RuleTable.from_rows([{"id": "1", "lead_unit": "platform", "enabled": value}])
    assert table.rules[0].enabled is False and table.match(category="C01") is None


def test_keywords_match_latin_letters_in_any_case():
    table = RuleTable.from_csv_text("id,keywords,lead_unit\n1,KTV|WiFi,police\n")
    assert table.match(category=None, text="楼下ktv唱歌到凌晨").lead_unit == "police"
    assert table.match(category=None, text="公园的wifi连不上").lead_unit == "police"


def test_rows_without_an_id_are_numbered_after_every_given_id_and_keep_their_place():
    table = RuleTable.from_csv_text("id,keywords,lead_unit\n1,燃气,gas\n,路灯,urban\n2,噪音,env\n,停水,water\n")
    assert [(r.id, r.keywords) for r in table.rules] == [(1, "燃气"), (3, "路灯"), (2, "噪音"), (4, "停水")]
    assert table.match(category=None, request_type="投诉", area=None, intake_line="12345",
                       text="路灯和噪音").lead_unit == "urban"  # first match wins in table order


def vocabulary():
    """What the router can match: its taxonomy and gazetteer, as RoutingService loads them."""
    from routing.rules import Vocabulary
    from routing.gazetteer import build_gazetteer
    from routing.settings import RoutingSettings
    from routing.taxonomy import Taxonomy

    return Vocabulary.of(Taxonomy.from_csv(), build_gazetteer(RoutingSettings()))


@pytest.mark.parametrize("column,value,message", [
    ("category", "C98", "第 3 行：未知的分类代码 C98"),
    ("category", "C02|C0299", "第 3 行：未知的分类代码 C0299"),
    ("request_type", "咨询X", "第 3 行：未知的诉求类型 咨询X"),
    ("request_type", "投诉|咨询X", "第 3 行：未知的诉求类型 咨询X"),
    ("area", "火星区", "第 3 行：未知的区域 火星区"),
    ("intake_line", "99999", "第 3 行：未知的热线号码 99999"),
])
def test_values_no_ticket_can_have_are_rejected_with_the_row(column, value, message):
    text = f"id,{column},lead_unit\n1,,housing\n2,{value},housing\n"
    with pytest.raises(RuleError) as err:
        RuleTable.from_csv_text(text, known_units={"housing"}, vocabulary=vocabulary())
    assert str(err.value).startswith(message)
    RuleTable.from_csv_text(text)  # without a vocabulary (stored tables) nothing is checked


def test_values_the_router_produces_are_accepted():
    text = ("id,category,request_type,area,intake_line,lead_unit\n"
            "1,C99|C0201,投诉|举报,云湖区|d-yunhu|s-yunhu-hubin,12345|mayor,housing\n")
    assert len(RuleTable.from_csv_text(text, vocabulary=vocabulary()).rules) == 1


def test_default_table_passes_the_import_checks():
    units = {r["code"] for r in csv.DictReader(open(UNITS_CSV, encoding="utf-8"))}
    table = RuleTable.from_csv_text(RuleTable.default().to_csv_text(), known_units=units, vocabulary=vocabulary())
    assert table.to_csv_text() == RuleTable.default().to_csv_text()


@pytest.mark.parametrize("text,message", [
    ("id,catgory,lead_unit\n1,C0401,education\n", "第 1 行（表头）：未知字段 catgory（可用：id、category、"),
    ("id,category,lead_unit,category\n1,C04,education,C05\n", "第 1 行（表头）：字段 category 重复"),
    ("id,lead_unit,note\n1,education,x\n2,education,x,extra,more\n", "第 3 行：单元格比表头多（多出：extra、more）"),
    ("id,lead_unit,\n1,education,C04\n", "第 2 行：有值的单元格所在列没有列名"),
])
def test_csv_columns_the_table_does_not_have_are_refused(text, message):
    with pytest.raises(RuleError) as err:
        RuleTable.from_csv_text(text)
    assert str(err.value).startswith(message)


def test_empty_trailing_cells_from_excel_are_accepted():
    table = RuleTable.from_csv_text("id,lead_unit,note,\n1,education,x,,\n")
    assert [r.to_row()["note"] for r in table.rules] == ["x"]


@pytest.mark.parametrize("value,enabled", [
    *[(v, True) for v in ("", "1", "true", "TRUE", "yes", "Y", "on", "是", "启用")],
    *[(v, False) for v in ("0", "false", "No", "n", "OFF", "否", "停用", "禁用")],
])
def test_enabled_spellings(value, enabled):
    table = RuleTable.from_csv_text(f"id,lead_unit,enabled\n1,education,{value}\n")
    assert table.rules[0].enabled is enabled


@pytest.mark.parametrize("value", ["2", "maybe", "关闭?", "-"])
def test_unknown_enabled_spelling_is_refused_with_the_line(value):
    with pytest.raises(RuleError) as err:
        RuleTable.from_csv_text(f"id,lead_unit,enabled\n1,education,1\n2,education,{value}\n")
    assert str(err.value).startswith(f"第 3 行：无法识别的启用值 {value}")
