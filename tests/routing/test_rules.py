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


def test_a_keywords_cell_of_separators_only_matches_nothing_not_everything():
    """A stored ``|`` (imported before imports refused it) names no keyword: like ``|`` in category, no match."""
    table = RuleTable.from_csv_text("id,keywords,lead_unit\n5,|,housing\n6,,civil\n")
    assert table.match(category="C0201", text="楼下广场舞太吵").rule.id == 6
    assert RuleTable.from_csv_text("id,keywords,lead_unit\n5,公积金||,housing\n").match(
        category=None, text="公积金怎么提取").rule.id == 5  # the keywords it does name still match


@pytest.mark.parametrize("column,value", [
    ("keywords", "|"), ("keywords", "公积金||"), ("keywords", "|公积金"), ("keywords", "公积金| |住房"),
    ("category", "C05|"), ("category", "|"), ("request_type", "投诉||举报"), ("area", "|云湖区"),
    ("intake_line", "12345|"), ("co_units", "urban;;ecology"), ("co_units", ";"), ("co_units", "urban|"),
])
def test_an_import_refuses_a_list_cell_with_an_empty_item(column, value):
    text = f'id,{column},lead_unit\n1,,housing\n2,"{value}",housing\n'
    with pytest.raises(RuleError) as err:
        RuleTable.from_csv_text(text, known_units={"housing", "urban", "ecology"}, vocabulary=vocabulary(),
                                strict=True)
    assert str(err.value).startswith("第 3 行：") and f"（{column}）“{value}”中有空项" in str(err.value)


@pytest.mark.parametrize("column,label,value,separator", [
    ("keywords", "关键词", "公积金、住房公积金", "、"), ("keywords", "关键词", "公积金,住房公积金", ","),
    ("keywords", "关键词", "公积金，住房", "，"), ("keywords", "关键词", "公积金;住房公积金", ";"),
    ("keywords", "关键词", "公积金；住房", "；"), ("category", "分类", "C05,C07", ","),
    ("request_type", "诉求类型", "投诉、举报", "、"), ("intake_line", "热线号码", "12345;12315", ";"),
])
def test_an_import_refuses_other_separators_and_names_the_pipe(column, label, value, separator):
    with pytest.raises(RuleError) as err:
        RuleTable.from_csv_text(f'id,{column},lead_unit\n1,"{value}",housing\n', vocabulary=vocabulary(),
                                strict=True)
    assert str(err.value) == f"第 2 行：{label}（{column}）“{value}”含有“{separator}”；多个值只能用 | 分隔（如 甲|乙）"
    RuleTable.from_csv_text(f'id,{column},lead_unit\n1,"{value}",housing\n')  # stored tables: read as they are


def test_co_units_accept_both_separators_but_not_others():
    table = RuleTable.from_csv_text("id,co_units,lead_unit\n1,urban;ecology|water,housing\n", strict=True)
    assert table.rules[0].co_units == ["urban", "ecology", "water"]
    with pytest.raises(RuleError, match="“urban、ecology”含有“、”；多个值只能用 ; 分隔"):
        RuleTable.from_csv_text("id,co_units,lead_unit\n1,urban、ecology,housing\n", strict=True)


def test_json_lists_are_their_items_in_the_canonical_separator():
    table = RuleTable.from_rows([{"id": 5, "keywords": ["公积金", "住房公积金"], "category": ["C05", "C07"],
                                  "intake_line": [12345, "12315"], "co_units": ["urban", "ecology"],
                                  "lead_unit": "housing", "enabled": True}],
                                known_units={"housing", "urban", "ecology"}, vocabulary=vocabulary(), start=1,
                                strict=True)
    rule = table.rules[0]
    assert (rule.keywords, rule.category, rule.intake_line, rule.co_units) == (
        "公积金|住房公积金", "C05|C07", "12345|12315", ["urban", "ecology"])
    assert table.match(category="C0504", intake_line="12315", text="住房公积金怎么提取").rule.id == 5


@pytest.mark.parametrize("row,message", [
    ({"id": 1, "lead_unit": ["housing", "urban"]}, "第 1 行：主办单位（lead_unit）只能填一个值，不能是列表"),
    ({"id": 1, "lead_unit": "housing", "note": ["a"]}, "第 1 行：备注（note）只能填一个值，不能是列表"),
    ({"id": 1, "lead_unit": "housing", "keywords": ["公积金", ""]}, "第 1 行：关键词（keywords）“公积金|”中有空项"),
    ({"id": 1, "lead_unit": "housing", "keywords": [["公积金"]]}, "第 1 行：关键词（keywords）的列表只能包含文字或数字"),
    ({"id": 1, "lead_unit": "housing", "category": {"code": "C05"}}, "第 1 行：分类（category）的值不能是对象"),
])
def test_json_values_a_column_cannot_hold_are_refused(row, message):
    with pytest.raises(RuleError) as err:
        RuleTable.from_rows([row], start=1, strict=True)
    assert str(err.value).startswith(message)


def test_problems_of_every_row_are_collected_when_asked():
    text = ("id,keywords,lead_unit,enabled\n1,燃气,gas,1\n2,|,housing,1\n3,路灯,nosuch,1\n4,噪音,env,maybe\n"
            "5,停水,water,1,extra\n")
    problems = []
    table = RuleTable.from_csv_text(text, known_units={"gas", "housing", "env", "water"}, strict=True,
                                    problems=problems)
    assert [p.split("：")[0] for p in problems] == ["第 3 行", "第 4 行", "第 5 行", "第 6 行"]
    assert [r.id for r in table.rules] == [1] and table.lines == {1: 2} and table.refused == {2, 3, 4}
    with pytest.raises(RuleError, match="^第 3 行"):  # without a list, the first problem is raised
        RuleTable.from_csv_text(text, known_units={"gas", "housing", "env", "water"}, strict=True)


def test_a_rule_without_conditions_above_others_is_warned_about():
    table = RuleTable.from_csv_text("id,category,keywords,lead_unit,enabled\n1,C05,,hrss,1\n2,,,housing,1\n"
                                    "3,,,@street,1\n4,C07,,health,1\n5,,,civil,0\n6,,,urban,1\n")
    assert table.warnings() == [
        "第 3 行（规则 2）没有任何条件，会匹配所有诉求，排在它后面的 3 条规则永远不会生效（兜底规则请放在最后）"]
    # last, disabled, or only disabled rules below: a fallback, nothing to warn about
    assert RuleTable.from_csv_text("id,category,lead_unit,enabled\n1,C05,hrss,1\n2,,housing,1\n3,C07,x,0\n"
                                   ).warnings() == []
    assert RuleTable.from_csv_text("id,category,lead_unit,enabled\n1,,housing,0\n2,C07,x,1\n").warnings() == []


def test_changes_between_two_tables():
    from routing.rules import changes

    old = RuleTable.from_csv_text("id,category,lead_unit\n1,C01,housing\n2,C02,ecology\n3,C03,transport\n")
    new = RuleTable.from_csv_text("id,category,lead_unit\n3,C03,transport\n1,C01,urban\n4,C04,education\n")
    assert changes(old, new) == {"added": [4], "removed": [2], "changed": [1], "unchanged": 1, "reordered": True}
    assert changes(old, old) == {"added": [], "removed": [], "changed": [], "unchanged": 3, "reordered": False}
