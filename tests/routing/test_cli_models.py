"""``hotline routing models``: list the model files, activate a trained model, prune old ones."""

from __future__ import annotations

import asyncio
import json
import os
import shutil

import sqlalchemy as sa

from hotline.db import make_engine
from routing import store
from routing.classifier import RoutingModel
from routing.tables import routing_models
from tests.datadir import init_data_dir
from tests.routing.test_cli import invoke, seed_csv  # noqa: F401  (fixture)


def registry(data_dir):
    async def read():
        engine = make_engine(f"sqlite+aiosqlite:///{data_dir / 'hotline.db'}")
        try:
            async with engine.connect() as conn:
                return {r.version: r.active for r in await conn.execute(sa.select(routing_models))}
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_trained_model_is_activated_listed_and_old_ones_pruned(tmp_path, seed_csv):  # noqa: F811
    data_dir = init_data_dir(tmp_path / "data")
    trained = tmp_path / "elsewhere" / "m.pkl"
    assert invoke("train", "--data", seed_csv, "--text-col", "标题,内容", "--label-col", "一级分类",
                  "--out", trained).exit_code == 0
    version = RoutingModel.load(trained).version

    res = invoke("models", "list", "--data-dir", data_dir, "--json")
    assert res.exit_code == 0, res.output
    assert [(m["version"], m["active"]) for m in json.loads(res.stdout)["models"]] == [("（内置默认模型）", True)]

    res = invoke("models", "activate", trained, "--data-dir", data_dir)
    assert res.exit_code == 0 and f"已启用模型 {version}" in res.stderr, res.output
    assert store.active_model_path(data_dir) == store.models_dir(data_dir) / f"{version}.pkl"
    assert registry(data_dir) == {version: True}

    # older files, e.g. from retrain runs: listed newest first, the active one marked; prune keeps the newest
    # inactive ones and never the active one, even when it is the oldest
    folder = store.models_dir(data_dir)
    for i, name in enumerate(["old-1", "old-2", "old-3"]):
        shutil.copyfile(folder / f"{version}.pkl", folder / f"{name}.pkl")
        os.utime(folder / f"{name}.pkl", (1_700_000_000 + i, 1_700_000_000 + i))
    os.utime(folder / f"{version}.pkl", (1_600_000_000, 1_600_000_000))
    listed = json.loads(invoke("models", "list", "--data-dir", data_dir, "--json").stdout)["models"]
    assert [(m["version"], m["active"]) for m in listed] == [
        ("old-3", False), ("old-2", False), ("old-1", False), (version, True), ("（内置默认模型）", False)]
    text = invoke("models", "list", "--data-dir", data_dir).stdout
    assert f"* {version}" in text and "  old-3" in text
    res = invoke("models", "prune", "--keep", "1", "--data-dir", data_dir)
    assert res.exit_code == 0 and "已删除 2 个旧模型文件：old-2、old-1" in res.stderr, res.output
    assert sorted(p.stem for p in folder.glob("*.pkl")) == sorted(["old-3", version])

    # by version name; a file that does not load is refused and changes nothing
    res = invoke("models", "activate", "old-3", "--data-dir", data_dir)
    assert res.exit_code != 0 and "同版本号" in res.stderr  # old-3 is a copy: its version is already there
    broken = tmp_path / "broken.pkl"
    broken.write_bytes(b"not a model")
    res = invoke("models", "activate", broken, "--data-dir", data_dir)
    assert res.exit_code == 2 and "无法读取模型文件" in res.stderr, res.output
    res = invoke("models", "activate", "no-such-version", "--data-dir", data_dir)
    assert res.exit_code == 2 and "找不到模型：no-such-version" in res.stderr
    assert store.active_model_path(data_dir) == folder / f"{version}.pkl" and registry(data_dir) == {version: True}
    res = invoke("models", "activate", version, "--data-dir", data_dir)  # again, by its version: harmless
    assert res.exit_code == 0 and registry(data_dir) == {version: True}, res.output


def test_default_names_the_shipped_model_for_activation_and_rollback(tmp_path, seed_csv):  # noqa: F811
    data_dir = init_data_dir(tmp_path / "data")
    trained = tmp_path / "m.pkl"
    assert invoke("train", "--data", seed_csv, "--text-col", "内容", "--label-col", "一级分类",
                  "--out", trained).exit_code == 0
    version = RoutingModel.load(trained).version
    assert invoke("models", "activate", trained, "--data-dir", data_dir).exit_code == 0
    listed = json.loads(invoke("models", "list", "--data-dir", data_dir, "--json").stdout)["models"]
    assert [(m["name"], m["active"]) for m in listed] == [(version, True), ("default", False)]

    res = invoke("models", "activate", "default", "--data-dir", data_dir)
    assert res.exit_code == 0, res.output
    default_version = RoutingModel.load(store.DEFAULT_MODEL).version
    assert f"已启用内置默认模型 {default_version}" in res.stderr
    assert store.active_model_path(data_dir) == store.DEFAULT_MODEL and registry(data_dir) == {version: False}
    assert not list(store.models_dir(data_dir).glob(f"{default_version}*.pkl"))  # follows the shipped file
    listed = json.loads(invoke("models", "list", "--data-dir", data_dir, "--json").stdout)["models"]
    assert [(m["name"], m["active"]) for m in listed] == [(version, False), ("default", True)]
    assert "* default（内置默认模型）" in invoke("models", "list", "--data-dir", data_dir).stdout
    assert invoke("models", "activate", "default", "--data-dir", data_dir).exit_code == 0  # again: harmless
    res = invoke("models", "activate", version, "--data-dir", data_dir)  # and forward again
    assert res.exit_code == 0 and registry(data_dir) == {version: True}, res.output
