"""Build the shipped default model from the project's own seed set.

    python -m routing.build_default_model

Writes routing/data/default_model.pkl (committed), trained on
routing/data/seed_train.csv with the demo gazetteer and domain terms as the
segmenter's user dictionary.
"""

from __future__ import annotations

import csv
from pathlib import Path

from routing.classifier import RoutingModel
from routing.gazetteer import Gazetteer
from routing.store import DEFAULT_MODEL

DATA = Path(__file__).with_name("data")
SEED = DATA / "seed_train.csv"
TERMS = DATA / "domain_terms.txt"


def default_user_words() -> list[str]:
    terms = [t.strip() for t in TERMS.read_text(encoding="utf-8").splitlines() if t.strip() and not t.startswith("#")]
    return terms + Gazetteer.demo().names()


def seed_rows() -> list[dict]:
    with open(SEED, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def build(out: Path = DEFAULT_MODEL) -> RoutingModel:
    rows = seed_rows()
    model = RoutingModel.train([r["text"] for r in rows], [r["category"] for r in rows],
                               [r["request_type"] for r in rows], user_words=default_user_words(),
                               meta={"source": "routing/data/seed_train.csv"})
    model.version = "default-" + model.version.removeprefix("routing-")
    model.save(out)
    return model


if __name__ == "__main__":
    m = build()
    print(f"默认模型 {m.version} 已写入 {DEFAULT_MODEL}（{m.meta['trained_rows']} 条种子数据）")
