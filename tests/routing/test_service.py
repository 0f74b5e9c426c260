import json
import os
import pickle
import shutil

import pytest
import sqlalchemy as sa

from routing import store
from routing.build_default_model import seed_rows
from routing.classifier import RoutingModel
from routing.rules import RuleTable
from routing.service import RoutingService
from routing.settings import RoutingSettings
from routing.tables import routing_rules

KEYS = {"category", "category_name", "category_confidence", "request_type", "request_type_confidence", "area",
        "lead_unit", "co_units", "confidence", "auto_dispatch", "top3", "rule", "model_version", "emergency",
        "out_of_scope", "sensitive"}


async def test_start_seeds_rules_and_suggests(engine, tmp_path):
    service = RoutingService(data_dir=tmp_path, engine=engine, settings=RoutingSettings(auto_threshold=0.0))
    status = await service.reload()
    assert status["rules"] == len(RuleTable.default().rules)
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(routing_rules))).scalar() == status["rules"]

    out = await service.suggest("东山区松林街道竹园社区门口的垃圾好几天没人清运，臭气熏天", title="垃圾无人清运")
    assert KEYS <= set(out)
    json.dumps(out, ensure_ascii=False)
    assert out["category"].startswith("C09") and out["category_name"]
    assert out["area"]["district"] == "东山区" and out["area"]["community"] == "竹园社区"
    assert out["lead_unit"] == "urban" and out["rule"] == 111
    assert out["top3"][0] == {"unit": "urban", "score": out["confidence"]}
    assert out["auto_dispatch"] is True and out["model_version"] == service.model.version
    assert out["emergency"] is None and out["out_of_scope"] is None and out["sensitive"] is None
    assert out["scores"]["category"][0][0] == out["category"]
    assert out["scores"]["coverage"] > 0.5  # the words that decided it are known: nothing scaled down
    unseen = await service.suggest("无人机航拍审批")  # words no seed row has: far below the default threshold
    assert unseen["scores"]["coverage"] < 0.5 and unseen["category_confidence"] < 0.5


async def test_threshold_emergency_scope_and_sensitive_block_auto_dispatch(tmp_path):
    service = RoutingService(data_dir=tmp_path, settings=RoutingSettings(auto_threshold=1.01))
    out = await service.suggest("北塘区玉河路的路灯坏了一个星期")
    assert out["auto_dispatch"] is False and out["queue"] == "manual" and out["lead_unit"]

    lenient = RoutingService(data_dir=tmp_path, settings=RoutingSettings(auto_threshold=0.0))
    fire = await lenient.suggest("我家楼下的饭店着火了，快来人！")
    assert fire["emergency"]["number"] == "119" and fire["auto_dispatch"] is False
    assert any("119" in a for a in fire["alerts"])
    scope = await lenient.suggest("朋友借了我两万块钱不还，请政府帮我要回来")
    assert scope["out_of_scope"]["code"] == "not_competent" and scope["auto_dispatch"] is False
    mass = await lenient.suggest("几十个工人在工地门口拉横幅集体讨薪")
    assert "群体性事件" in mass["sensitive"]["reasons"]


async def test_area_rule_routes_to_street_office_and_falls_through_without_area(tmp_path):
    service = RoutingService(data_dir=tmp_path, settings=RoutingSettings(auto_threshold=0.0))
    await service.reload()  # no engine: the rule table is the one set here
    service.rules = RuleTable.from_csv_text(
        "id,keywords,lead_unit,co_units\n1,占道,@street,urban\n2,占道,urban,\n")
    out = await service.suggest("高新区新苑街道星光小区门口流动摊贩占道经营，影响通行")
    assert (out["lead_unit"], out["co_units"], out["rule"]) == ("s-gaoxin-xinyuan", ["urban"], 1)
    assert out["top3"] == [{"unit": "s-gaoxin-xinyuan", "score": out["confidence"]}]
    # every category candidate leads to the same unit: its score is their summed probability
    assert out["confidence"] == pytest.approx(sum(p for _, p in out["scores"]["category"]), abs=1e-3)
    out = await service.suggest("门口流动摊贩占道经营，影响通行")
    assert (out["lead_unit"], out["rule"]) == ("urban", 2)
    assert (await service.suggest("流动摊贩影响通行"))["lead_unit"] is None


async def test_request_type_recorded_by_a_person_wins_over_the_model_for_rules(tmp_path):
    service = RoutingService(data_dir=tmp_path, settings=RoutingSettings(auto_threshold=0.0))
    await service.reload()
    service.rules = RuleTable.from_csv_text("id,request_type,lead_unit\n1,举报,police\n2,,urban\n")
    text = "我要举报东山区幸福路有人违规搭建彩钢棚"
    predicted = await service.suggest(text)
    assert (predicted["request_type"], predicted["lead_unit"]) == ("举报", "police")
    assert predicted["request_type_confidence"] < 1.0
    recorded = await service.suggest(text, request_type="咨询")
    assert (recorded["request_type"], recorded["request_type_confidence"], recorded["lead_unit"]) == ("咨询", 1.0, "urban")
    # the model's own view stays in the audited scores
    assert recorded["scores"]["request_type"][0][0] == "举报"


async def test_hot_swap_when_a_new_model_is_activated(tmp_path):
    settings = RoutingSettings(reload_check_seconds=0)
    service = RoutingService(data_dir=tmp_path, settings=settings)
    first = await service.suggest("小区停水了")
    rows = seed_rows()
    model = RoutingModel.train([r["text"] for r in rows], [r["category"][:3] for r in rows])
    path = model.save(store.models_dir(tmp_path) / f"{model.version}.pkl")
    store.activate_file(tmp_path, path)
    os.utime(store.active_pointer(tmp_path), (1, 1))  # a distinct mtime even on coarse filesystems
    second = await service.suggest("小区停水了")
    assert first["model_version"] != second["model_version"] == model.version
    assert second["category"] == "C08"
    assert service.status()["model_path"] == str(path)


async def test_rule_table_changed_elsewhere_is_picked_up(engine, tmp_path):
    service = RoutingService(data_dir=tmp_path, engine=engine, settings=RoutingSettings(reload_check_seconds=0))
    await service.reload()
    assert (await service.suggest("公司拖欠三个月工资"))["lead_unit"] == "hrss"
    async with engine.begin() as conn:  # what `hotline routing rules import` does in another process
        await store.replace_rules(conn, RuleTable.from_csv_text("id,lead_unit\n1,platform\n"), actor="cli")
    out = await service.suggest("公司拖欠三个月工资")
    assert (out["lead_unit"], out["rule"]) == ("platform", 1)


async def test_unloadable_active_model_keeps_the_old_one_without_retrying(tmp_path, monkeypatch):
    service = RoutingService(data_dir=tmp_path, settings=RoutingSettings(reload_check_seconds=0))
    first = await service.suggest("小区停水了")
    folder = store.models_dir(tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    data = store.DEFAULT_MODEL.read_bytes()
    (folder / "broken.pkl").write_bytes(data[: len(data) // 2])  # a truncated copy
    store.active_pointer(tmp_path).write_text("broken.pkl", encoding="utf-8")  # not through activate_file
    os.utime(store.active_pointer(tmp_path), (1, 1))
    second = await service.suggest("小区停水了")
    assert second["model_version"] == first["model_version"] == service.model.version
    assert "broken.pkl" in service.status()["model_error"]

    calls = []
    real = service._load_model
    monkeypatch.setattr(service, "_load_model", lambda path: calls.append(path) or real(path))
    await service.suggest("小区停水了")
    await service.suggest("小区停水了")
    assert calls == []  # the failed pointer state is remembered: no new attempt on every ticket

    shutil.copy(store.DEFAULT_MODEL, folder / "good.pkl")  # the next activation is picked up again
    store.activate_file(tmp_path, folder / "good.pkl")
    os.utime(store.active_pointer(tmp_path), (2, 2))
    await service.suggest("小区停水了")
    assert calls == [folder / "good.pkl"]
    assert service.status()["model_error"] is None and service.status()["model_path"] == str(folder / "good.pkl")


async def test_activation_refuses_a_model_file_that_does_not_load(tmp_path):
    folder = store.models_dir(tmp_path)
    folder.mkdir(parents=True)
    good = folder / "good.pkl"
    shutil.copy(store.DEFAULT_MODEL, good)
    store.activate_file(tmp_path, good)
    (folder / "truncated.pkl").write_bytes(good.read_bytes()[:1000])
    (folder / "other.pkl").write_bytes(pickle.dumps({"format": 99}))
    for name in ("truncated.pkl", "other.pkl", "missing.pkl"):
        with pytest.raises(store.ModelFileError, match="模型文件无法加载"):
            store.activate_file(tmp_path, folder / name)
        assert store.active_model_path(tmp_path) == good
    with pytest.raises(store.ModelFileError, match="模型目录"):
        store.activate_file(tmp_path, store.DEFAULT_MODEL)


async def test_rule_import_landing_during_a_reload_is_picked_up_next_time(engine, tmp_path):
    service = RoutingService(data_dir=tmp_path, engine=engine, settings=RoutingSettings(reload_check_seconds=0))
    await service.reload()
    assert (await service.suggest("公司拖欠三个月工资"))["lead_unit"] == "hrss"
    real, imported = service._rules_state, []

    async def import_then_stamp():
        if not imported:  # another process imports rules while this reload is under way
            imported.append(True)
            async with engine.begin() as conn:
                await store.replace_rules(conn, RuleTable.from_csv_text("id,lead_unit\n1,platform\n"), actor="cli")
        return await real()

    service._rules_state = import_then_stamp
    await service.reload()
    out = await service.suggest("公司拖欠三个月工资")
    assert imported and (out["lead_unit"], out["rule"]) == ("platform", 1)


async def test_active_naming_a_missing_file_keeps_the_model_in_use(tmp_path):
    service = RoutingService(data_dir=tmp_path, settings=RoutingSettings(reload_check_seconds=0))
    folder = store.models_dir(tmp_path)
    folder.mkdir(parents=True)
    rows = seed_rows()
    model = RoutingModel.train([r["text"] for r in rows], [r["category"][:3] for r in rows])
    store.activate_file(tmp_path, model.save(folder / "mine.pkl"))
    assert (await service.suggest("小区停水了"))["model_version"] == model.version
    (folder / "mine.pkl").unlink()  # deleted, or ACTIVE edited by hand to a wrong name
    store.active_pointer(tmp_path).write_text("mine-typo.pkl", encoding="utf-8")
    os.utime(store.active_pointer(tmp_path), (1, 1))
    out = await service.suggest("小区停水了")
    assert out["model_version"] == model.version  # not silently swapped for the shipped default
    assert "mine-typo.pkl" in service.status()["model_error"]


@pytest.mark.parametrize("content", ["missing.pkl", "broken.pkl", ""])
async def test_start_with_an_unusable_active_model_falls_back_to_the_default(tmp_path, content):
    folder = store.models_dir(tmp_path)
    folder.mkdir(parents=True)
    (folder / "broken.pkl").write_bytes(store.DEFAULT_MODEL.read_bytes()[:1000])
    store.active_pointer(tmp_path).write_text(content, encoding="utf-8")
    service = RoutingService(data_dir=tmp_path)
    status = await service.reload()  # the service still starts
    assert status["model_version"].startswith("default-")
    assert (await service.suggest("小区停水了"))["category"]
    if content:
        assert content in status["model_error"]


async def test_traditional_characters_route_like_simplified(tmp_path):
    service = RoutingService(data_dir=tmp_path, settings=RoutingSettings(auto_threshold=0.0))
    simplified = await service.suggest("东山区松林街道竹园社区门口的垃圾好几天没人清运，臭气熏天", title="垃圾无人清运")
    traditional = await service.suggest("東山區松林街道竹園社區門口的垃圾好幾天沒人清運，臭氣熏天", title="垃圾無人清運")
    for key in ("category", "request_type", "lead_unit", "confidence"):
        assert traditional[key] == simplified[key]
    assert traditional["area"]["district"] == "东山区" and traditional["area"]["community"] == "竹园社区"
    fire = await service.suggest("我家樓下的飯店著火了，快來人！")
    assert fire["emergency"]["number"] == "119"


async def test_area_span_counts_positions_in_the_text_not_the_title(tmp_path):
    service = RoutingService(data_dir=tmp_path)
    text = "东山区凤凰路路灯坏了"
    area = (await service.suggest(text, title="东山区路灯"))["area"]
    assert area["address"] == "云州市东山区凤凰街道凤凰山社区凤凰路"
    assert text[slice(*area["span"])] == "东山区凤凰路"
    text = "凤凰路路灯坏了"  # the district is named in the title only: the span is clipped to the text
    area = (await service.suggest(text, title="东山区"))["area"]
    assert area["district"] == "东山区" and text[slice(*area["span"])] == "凤凰路"
    area = (await service.suggest("路灯坏了好几天", title="凤凰路路灯"))["area"]  # named in the title only
    assert area["address"] == "云州市东山区凤凰街道凤凰山社区凤凰路" and area["span"] is None
