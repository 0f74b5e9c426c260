import datetime as dt

import pytest
import sqlalchemy as sa

from routing.build_default_model import seed_rows
from routing.classifier import RoutingModel
from routing.retrain import Example, load_history, retrain, split
from routing.tables import routing_corrections
from routing.taxonomy import Taxonomy
from tests.routing.conftest import insert_categories, insert_ticket, insert_unit


async def test_history_prefers_dispatcher_corrections(engine):
    async with engine.begin() as conn:
        cats = await insert_categories(conn)
        unit = await insert_unit(conn, "ecology")
        t1 = await insert_ticket(conn, "广场舞音响太吵", number="H1", category_id=cats["C0203"], lead_unit_id=unit)
        await insert_ticket(conn, "工厂排污", number="H2", category_id=cats["C0202"], lead_unit_id=unit)
        await insert_ticket(conn, "未分拨", number="H3", category_id=cats["C0202"])
        await conn.execute(sa.insert(routing_corrections).values(
            ticket_id=t1, kind="dispatch", text="广场舞音响太吵", category="C1001", request_type="投诉",
            lead_unit="police", actor="d1", created_at=dt.datetime.now(dt.timezone.utc)))
    history = sorted(await load_history(engine), key=lambda e: e.text)
    assert [(e.text, e.category) for e in history] == [("工厂排污", "C0202"), ("广场舞音响太吵", "C1001")]


def test_split_is_stratified_and_keeps_singletons_in_training():
    examples = [Example(f"t{i}", "A") for i in range(10)] + [Example("s", "B")]
    train, test = split(examples, 0.2)
    assert len(test) == 2 and all(e.category == "A" for e in test)
    assert {e.text for e in train} | {e.text for e in test} == {e.text for e in examples}


def test_retrain_reports_both_models_on_the_same_slice(default_model):
    history = [Example(r["text"], r["category"], r["request_type"]) for r in seed_rows()]
    new, report = retrain(history, default_model, Taxonomy.from_csv(), holdout=0.25)
    assert report["held_out_rows"] + report["train_rows"] == len(history)
    assert report["new"]["n"] == report["current"]["n"] == report["held_out_rows"]
    assert report["current"]["model_version"] == default_model.version != new.version
    assert report["not_worse"] == (report["new"]["macro_f1"] >= report["current"]["macro_f1"])
    assert report["held_out_sufficient"] is True and report["held_out_classes"] == 13  # enough to decide on
    assert isinstance(new, RoutingModel) and new.request_type is not None


async def test_history_keeps_only_labels_a_person_set_or_confirmed(engine):
    """A category the router suggested and nobody looked at would favour the current model."""
    from hotline.tables import ticket_events

    now = dt.datetime.now(dt.timezone.utc)
    async with engine.begin() as conn:
        cats = await insert_categories(conn)
        unit = await insert_unit(conn, "ecology")

        async def ticket(text, number, code, suggested, dispatched_by=None):
            tid = await insert_ticket(conn, text, number=number, category_id=cats[code], lead_unit_id=unit,
                                      routing={"category": suggested, "lead_unit": "ecology"})
            if dispatched_by:
                await conn.execute(sa.insert(ticket_events).values(
                    ticket_id=tid, action="dispatch", from_state="new", to_state="dispatched", actor=dispatched_by,
                    data={"lead_unit": "ecology", "category": code}, at=now))

        await ticket("只有路由器的建议", "R1", "C0203", "C0203")
        await ticket("系统自动派单", "R2", "C0203", "C0203", dispatched_by="system")
        await ticket("派单员确认了分类", "P1", "C0203", "C0203", dispatched_by="d1")
        await ticket("受理时改了分类", "P2", "C0202", "C0203")
        await insert_ticket(conn, "没有路由建议", number="P3", category_id=cats["C0202"], lead_unit_id=unit)
    history = sorted((e.text, e.category) for e in await load_history(engine))
    assert history == sorted([("派单员确认了分类", "C0203"), ("受理时改了分类", "C0202"), ("没有路由建议", "C0202")])


def test_retrain_with_an_empty_held_out_slice_says_how_many_are_needed(default_model):
    history = [Example(f"诉求{i}", f"C0{i % 5 + 1}") for i in range(10)]  # 2 per category: none held out
    with pytest.raises(ValueError, match="至少要有一个分类有 3 条"):
        retrain(history, default_model, Taxonomy.from_csv(), holdout=0.2)


def test_retrain_says_whether_the_held_out_slice_can_decide_an_activation(default_model):
    from routing.retrain import MIN_HELD_OUT_CLASSES, MIN_HELD_OUT_ROWS

    rows = seed_rows()
    small = [Example(r["text"], r["category"], r["request_type"]) for r in rows if r["category"][:3] in ("C01", "C05")]
    _, report = retrain(small[:10] + small[-10:], default_model, Taxonomy.from_csv(), holdout=0.2)
    assert report["held_out_rows"] < MIN_HELD_OUT_ROWS and report["held_out_sufficient"] is False
    assert report["min_held_out"] == {"rows": MIN_HELD_OUT_ROWS, "classes": MIN_HELD_OUT_CLASSES}

    one_class = [Example(r["text"], r["category"], r["request_type"]) for r in rows if r["category"][:3] == "C01"]
    _, report = retrain(one_class, default_model, Taxonomy.from_csv(), holdout=0.25)
    assert report["held_out_rows"] >= MIN_HELD_OUT_ROWS and report["held_out_classes"] == 1
    assert report["held_out_sufficient"] is False  # macro-F1 over a single class distinguishes nothing

