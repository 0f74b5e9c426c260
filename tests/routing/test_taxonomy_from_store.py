"""The router's taxonomy is the one stored in the database (``hotline categories import``), not only the
shipped categories.csv: rule imports accept imported codes, suggestions name categories as stored and count
them under their stored first level, and a running service notices a changed table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web
from click.testing import CliRunner

import hotline
from hotline.appkeys import ENGINE, ROUTER, SERVICE, SETTINGS
from hotline.cli import main
from hotline.config import Settings
from hotline.demo import demo_file
from hotline.directory import import_categories, import_units, parse_units_csv
from routing import store
from routing import web as routing_web
from routing.rules import RuleError, RuleTable, Vocabulary
from routing.service import RoutingService, build_gazetteer
from routing.settings import RoutingSettings
from routing.taxonomy import Taxonomy

DEMO = Path(hotline.__file__).with_name("demo_data")
# A new first level with a new third-level code, 路灯照明 renamed, and 市政设施 moved from 城乡建设 (C01) to it.
CHANGES = ("code,name,parent_code\n"
           "C13,市政公用,\n"
           "C1301,供水供热,C13\n"
           "C130101,集中供热,C1301\n"
           "C0103,市政设施,C13\n"
           "C010302,路灯与照明设施,C0103\n")
RULES = "id,category,lead_unit\n1,C130101,urban\n2,C0103,urban\n"
STREETLIGHT = "小区门口的路灯坏了一个星期了，晚上很黑"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def fill(engine, *categories: str) -> None:
    """The demo city's units and the given category CSVs (in order) in the store."""
    async with engine.begin() as conn:
        await import_units(conn, parse_units_csv(demo_file("units.csv")), now())
        for text in categories:
            await import_categories(conn, text)


def router(engine, tmp_path) -> RoutingService:
    return RoutingService(data_dir=tmp_path, engine=engine, settings=RoutingSettings(reload_check_seconds=0))


# -- the taxonomy itself ----------------------------------------------------------------------------------
def test_taxonomy_from_rows_levels_and_first_level():
    tax = Taxonomy.from_rows([("A", "甲", None), ("A1", "甲一", "A"), ("A11", "甲一一", "A1"), ("B", "乙", None)])
    assert tax.source == "database" and len(tax) == 4
    assert [tax.by_code[c].level for c in ("A", "A1", "A11", "B")] == [1, 2, 3, 1]
    assert tax.level1_code("A11") == "A" and tax.level1_code("甲一一") == "A"
    assert tax.unknown(["A11", "甲", "C"]) == ["C"]
    assert Taxonomy.from_csv().source == "categories.csv"


async def test_store_taxonomy_falls_back_to_the_shipped_csv_while_the_table_is_empty(engine):
    async with engine.connect() as conn:
        empty = await store.load_taxonomy(conn)
    assert empty.source == "categories.csv" and set(empty.by_code) == set(Taxonomy.from_csv().by_code)
    await fill(engine, demo_file("categories.csv"), CHANGES)
    async with engine.connect() as conn:
        stored = await store.load_taxonomy(conn)
        stamp = store.categories_stamp(await store.category_rows(conn))
    assert stored.source == "database" and "C130101" in stored.by_code
    assert stored.by_code["C010302"].name == "路灯与照明设施" and stored.level1_code("C010302") == "C13"
    async with engine.begin() as conn:  # a rename of the same length changes the stamp as well
        await import_categories(conn, "code,name,parent_code\nC1301,供水供气,C13\n")
        assert store.categories_stamp(await store.category_rows(conn)) != stamp


# -- suggestions -------------------------------------------------------------------------------------------
async def test_suggestions_follow_the_stored_taxonomy_and_its_changes(engine, tmp_path):
    await fill(engine, demo_file("categories.csv"))
    service = router(engine, tmp_path)
    before = await service.suggest(STREETLIGHT)
    assert before["category"] == "C010302" and before["category_name"] == "路灯照明"
    assert before["category_level1"]["code"] == "C01"

    async with engine.begin() as conn:  # `hotline categories import` while the service runs
        await import_categories(conn, CHANGES)
    after = await service.suggest(STREETLIGHT)
    assert after["category"] == "C010302" and after["category_name"] == "路灯与照明设施"
    assert after["category_level1"]["code"] == "C13" and after["category_level1"]["name"] == "市政公用"
    assert after["category_level1"]["confidence"] == pytest.approx(after["category_confidence"], abs=0.2)
    assert after["rule"] is not None and not any("不在分类体系" in a for a in after["alerts"])
    assert service.status()["taxonomy"] == {"source": "database", "categories": 69 + 3, "unknown_model_labels": []}


async def test_model_categories_outside_the_stored_taxonomy_are_kept_and_flagged(engine, tmp_path):
    await fill(engine, "code,name,parent_code\nC01,城乡建设,\nC0103,市政设施,C01\nC010302,路灯照明,C0103\n")
    service = router(engine, tmp_path)
    status = await service.reload()
    assert status["taxonomy"]["source"] == "database" and status["taxonomy"]["categories"] == 3
    assert "C0201" in status["taxonomy"]["unknown_model_labels"]
    assert "C010302" not in status["taxonomy"]["unknown_model_labels"]
    result = await service.suggest("公司拖欠三个月工资不发")
    assert result["category"] is None and result["category_name"] == result["scores"]["category"][0][0]
    assert result["category_level1"] is None
    assert any(f"建议的分类“{result['category_name']}”不在分类体系中" in a for a in result["alerts"])
    assert (await service.suggest(STREETLIGHT))["category"] == "C010302"


# -- rule imports ----------------------------------------------------------------------------------------
async def test_rule_vocabulary_comes_from_the_stored_taxonomy(engine):
    await fill(engine, demo_file("categories.csv"))
    gazetteer = build_gazetteer(RoutingSettings())
    async with engine.connect() as conn:
        vocabulary = Vocabulary.of(await store.load_taxonomy(conn), gazetteer)
    with pytest.raises(RuleError, match="第 2 行：未知的分类代码 C130101"):
        RuleTable.from_csv_text(RULES, vocabulary=vocabulary)
    async with engine.begin() as conn:
        await import_categories(conn, CHANGES)
        vocabulary = Vocabulary.of(await store.load_taxonomy(conn), gazetteer)
    assert [r.category for r in RuleTable.from_csv_text(RULES, vocabulary=vocabulary).rules] == ["C130101", "C0103"]


@pytest.fixture
def cli_store(store_url, tmp_path, monkeypatch):
    """CLI arguments for the test store: its data dir (SQLite) or HOTLINE_DATABASE_URL (PostgreSQL)."""
    if store_url.startswith("sqlite"):
        monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
        assert Path(store_url.split("///", 1)[1]) == tmp_path / "hotline.db"
    else:
        monkeypatch.setenv("HOTLINE_DATABASE_URL", store_url)
    return ["--data-dir", str(tmp_path)]


def hotline_cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_rule_import_accepts_a_code_from_hotline_categories_import(cli_store, tmp_path):
    assert hotline_cli("units", "import", DEMO / "units.csv", *cli_store).exit_code == 0
    assert hotline_cli("categories", "import", DEMO / "categories.csv", *cli_store).exit_code == 0
    rules = tmp_path / "rules.csv"
    rules.write_text(RULES, encoding="utf-8")
    res = hotline_cli("routing", "rules", "import", rules, *cli_store)
    assert res.exit_code == 2 and "第 2 行：未知的分类代码 C130101" in res.stderr

    changes = tmp_path / "categories.csv"
    changes.write_text(CHANGES, encoding="utf-8")
    assert hotline_cli("categories", "import", changes, *cli_store).exit_code == 0
    res = hotline_cli("routing", "rules", "import", rules, *cli_store)
    assert res.exit_code == 0, res.output
    exported = hotline_cli("routing", "rules", "export", *cli_store).stdout
    assert exported.splitlines()[1:] == ["1,C130101,,,,,urban,,1,", "2,C0103,,,,,urban,,1,"]


@web.middleware
async def as_admin(request, handler):
    request["user"] = SimpleNamespace(role="admin", username="admin1")
    return await handler(request)


class Listeners:
    def add_listener(self, fn):
        pass


async def test_api_rule_import_and_status_follow_the_stored_taxonomy(aiohttp_client, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_ROUTING_RELOAD_CHECK_SECONDS", "0")
    await fill(engine, demo_file("categories.csv"))
    app = web.Application(middlewares=[as_admin])
    app[SETTINGS], app[ENGINE], app[SERVICE] = Settings(data_dir=tmp_path), engine, Listeners()
    routing_web.setup(app)
    client = await aiohttp_client(app)
    csv_headers = {"Content-Type": "text/csv"}

    resp = await client.put("/api/v1/routing/rules", data=RULES.encode(), headers=csv_headers)
    assert resp.status == 400 and "第 2 行：未知的分类代码 C130101" in (await resp.json())["error"]["message"]

    async with engine.begin() as conn:  # imported elsewhere (the CLI) while the service runs
        await import_categories(conn, CHANGES)
    resp = await client.put("/api/v1/routing/rules", data=RULES.encode(), headers=csv_headers)
    assert resp.status == 200, await resp.text()
    status = await (await client.get("/api/v1/routing/status")).json()
    assert status["taxonomy"]["source"] == "database" and status["taxonomy"]["categories"] == 69 + 3
    assert client.app[ROUTER].taxonomy.by_code["C010302"].name == "路灯与照明设施"
    resp = await client.put("/api/v1/routing/rules", json={"rules": [{"id": 1, "category": "C130101",
                                                                      "lead_unit": "urban"}]})
    assert resp.status == 200, await resp.text()
    suggestion = await (await client.post("/api/v1/routing/suggest", json={"text": STREETLIGHT})).json()
    assert suggestion["category_name"] == "路灯与照明设施" and suggestion["category_level1"]["code"] == "C13"


def test_train_with_a_data_dir_checks_labels_against_the_stored_taxonomy(cli_store, tmp_path):
    import csv

    from routing.build_default_model import seed_rows

    data = tmp_path / "history.csv"
    with open(data, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["内容", "分类"])
        for i, r in enumerate(seed_rows()):
            w.writerow([r["text"], "C130101" if i % 10 == 0 else r["category"][:3]])
    changes = tmp_path / "categories.csv"
    changes.write_text(CHANGES, encoding="utf-8")
    assert hotline_cli("categories", "import", DEMO / "categories.csv", *cli_store).exit_code == 0
    assert hotline_cli("categories", "import", changes, *cli_store).exit_code == 0
    args = ("routing", "train", "--data", data, "--text-col", "内容", "--label-col", "分类", "--out", tmp_path / "m.pkl")
    res = hotline_cli(*args)
    assert res.exit_code == 0 and "1 个分类标签不在分类体系（categories.csv）中：C130101" in res.stderr
    res = hotline_cli(*args, *cli_store)
    assert res.exit_code == 0, res.output
    assert "警告" not in res.stderr
