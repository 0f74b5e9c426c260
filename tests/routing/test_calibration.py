"""The confidence table an operator sets the auto-dispatch threshold by (routing.calibration, routing evaluate)."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hotline.cli import main
from routing.calibration import calibration
from routing.classifier import RoutingModel

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "routing" / "data" / "default_model.pkl"
EVERYDAY = Path(__file__).with_name("everyday_cases.csv")  # short requests the seed set does not contain


def test_a_confidence_that_means_what_it_says_has_a_small_error():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.3, 1.0, 20_000)
    right = rng.uniform(size=conf.size) < conf  # right a share c of the time at confidence c
    assert calibration(conf, right)["ece"] < 0.02
    overconfident = rng.uniform(size=conf.size) < conf - 0.2
    assert calibration(conf, overconfident)["ece"] == pytest.approx(0.2, abs=0.02)


def test_thresholds_count_the_messages_at_or_above_them_and_how_many_were_right():
    result = calibration([0.95, 0.8, 0.75, 0.6, 0.4], [True, False, True, True, False], thresholds=(0.75, 0.9, 0.99))
    assert result["n"] == 5
    assert result["thresholds"] == [
        {"threshold": 0.75, "share": 0.6, "accuracy": round(2 / 3, 4)},
        {"threshold": 0.9, "share": 0.2, "accuracy": 1.0},
        {"threshold": 0.99, "share": 0.0, "accuracy": None},
    ]
    assert sum(b["n"] for b in result["bins"]) == 5
    assert [b["from"] for b in result["bins"]] == [0.4, 0.6, 0.7, 0.8, 0.9]


def test_edge_cases():
    assert calibration([], [])["ece"] is None
    assert calibration([1.0], [True])["bins"][-1]["to"] == 1.0  # 1.0 falls in the last bin
    with pytest.raises(ValueError):
        calibration([0.5, 0.6], [True])


def test_evaluate_reports_the_table_as_the_service_would_dispatch():
    res = CliRunner().invoke(main, ["routing", "evaluate", "--model", str(DEFAULT_MODEL), "--data", str(EVERYDAY),
                                    "--text-col", "text", "--label-col", "category", "--json"])
    assert res.exit_code == 0, res.output
    cal = json.loads(res.stdout)["calibration"]
    # the same figures by hand, from the confidences the service computes (unknown-word guard included)
    import csv
    rows = list(csv.DictReader(EVERYDAY.open(encoding="utf-8")))
    model = RoutingModel.load(DEFAULT_MODEL)
    suggested = [p["category"] for p in model.predict_docs(model.prepare([r["text"] for r in rows]), top=1)]
    at = [s for s, r in zip(suggested, rows) if s["confidence"] >= 0.75]
    row = next(t for t in cal["thresholds"] if t["threshold"] == 0.75)
    assert cal["n"] == len(rows)
    assert row["share"] == round(len(at) / len(rows), 4)
    assert row["accuracy"] == round(sum(s["label"] == r["category"] for s, r in zip(suggested, rows)
                                        if s["confidence"] >= 0.75) / len(at), 4)
    assert 0 <= cal["ece"] < 0.5

    text = CliRunner().invoke(main, ["routing", "evaluate", "--model", str(DEFAULT_MODEL), "--data", str(EVERYDAY),
                                     "--text-col", "text", "--label-col", "category"])
    assert text.exit_code == 0, text.output
    assert "置信度校准：ECE" in text.output and "← 当前自动分拨阈值" in text.output
