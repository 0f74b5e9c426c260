"""``hotline routing models ...``: list the model files, activate one, prune old ones.

A model trained with ``hotline routing train`` (a file anywhere) or kept by ``retrain`` (in
``<data_dir>/models``) becomes the active one through ``activate``: the file is copied into the
models folder, must load (``store.activate_file``), and is marked active in the model registry.
The running service picks it up within ``HOTLINE_ROUTING_RELOAD_CHECK_SECONDS``.
``default`` names the shipped default model (``store.DEFAULT_MODEL``): activating it removes ``ACTIVE``, so the
service follows the shipped file (also after it is rebuilt), the way to roll back to it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import click
import sqlalchemy as sa

from hotline.cli import data_dir_option, fail, run, settings_from
from routing import store
from routing.cli import _with_engine, load_model, routing
from routing.tables import routing_models


DEFAULT_NAME = "default"  # what ``activate`` and ``list`` call the shipped default model


@routing.group()
def models() -> None:
    """分拨模型文件：列出、启用、清理。"""


def model_files(data_dir: Path) -> list[Path]:
    """The model files in the models folder, newest first."""
    folder = store.models_dir(data_dir)
    return sorted(folder.glob("*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []


async def _registry(conn) -> dict[str, dict]:
    rows = (await conn.execute(sa.select(routing_models))).mappings().all()
    return {r["version"]: dict(r) for r in rows}


@models.command(name="list")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def list_models(data_dir, as_json) -> None:
    """列出模型目录中的模型文件（标出当前启用的一个）及其留出集指标。"""
    settings = settings_from(data_dir)
    active = store.active_model_path(settings.data_dir)
    registry = run(_with_engine(data_dir, _registry))
    items = []
    for path in [*model_files(settings.data_dir), store.DEFAULT_MODEL]:
        version = path.stem if path != store.DEFAULT_MODEL else "（内置默认模型）"
        metrics = (registry.get(path.stem) or {}).get("metrics") or {}
        items.append({"version": version, "name": path.stem if path != store.DEFAULT_MODEL else DEFAULT_NAME,
                      "file": str(path), "active": path.resolve() == active.resolve(),
                      "size_mb": round(path.stat().st_size / 1e6, 1),
                      "modified": dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds"),
                      "macro_f1": metrics.get("macro_f1")})
    if as_json:
        click.echo(json.dumps({"models": items}, ensure_ascii=False, indent=2))
        return
    for m in items:
        f1 = f"  宏平均F1 {m['macro_f1']}" if m["macro_f1"] is not None else ""
        name = m["version"] if m["name"] == m["version"] else f"{m['name']}{m['version']}"  # default（内置默认模型）
        click.echo(f"{'*' if m['active'] else ' '} {name}  {m['modified']}  {m['size_mb']} MB{f1}")


@models.command(name="activate")
@click.argument("model")
@data_dir_option
def activate(model, data_dir) -> None:
    """启用模型：模型目录中的版本号，任意位置的模型文件（先复制到模型目录），或 default（内置默认模型，用于回退）。"""
    settings = settings_from(data_dir)
    folder = store.models_dir(settings.data_dir)
    if model == DEFAULT_NAME:
        activate_default(data_dir, settings.data_dir)
        return
    source = Path(model)
    if not source.is_file():
        source = folder / f"{model}.pkl"
    if not source.is_file():
        fail(f"找不到模型：{model}（可用版本见 hotline routing models list）")
    loaded = load_model(str(source))  # a file that does not load is refused before anything changes
    target = folder / f"{loaded.version}.pkl"
    folder.mkdir(parents=True, exist_ok=True)
    if source.resolve() != target.resolve():
        if target.exists():
            fail(f"模型目录中已有同版本号的另一个文件：{target}")
        shutil.copyfile(source, target)
    try:
        store.activate_file(settings.data_dir, target)
    except store.ModelFileError as exc:
        fail(str(exc))

    async def mark(conn):
        registry = await _registry(conn)
        await conn.execute(sa.update(routing_models).values(active=False))
        if loaded.version in registry:
            await conn.execute(sa.update(routing_models).where(routing_models.c.version == loaded.version)
                               .values(active=True, activated_at=store.utcnow(), path=str(target)))
        else:
            await store.register_model(conn, version=loaded.version, path=target, metrics=loaded.meta.get("metrics"),
                                       compared_with=None, active=True)

    run(_with_engine(data_dir, mark))
    click.echo(f"已启用模型 {loaded.version}（运行中的服务会在几秒内自动加载）", err=True)


def activate_default(data_dir, folder_root: Path) -> None:
    """Make the shipped default model the active one: remove ``ACTIVE`` (after checking the file loads) and
    mark no registered model active."""
    loaded = load_model(str(store.DEFAULT_MODEL))
    store.active_pointer(folder_root).unlink(missing_ok=True)

    async def mark(conn):
        await conn.execute(sa.update(routing_models).values(active=False))

    run(_with_engine(data_dir, mark))
    click.echo(f"已启用内置默认模型 {loaded.version}（运行中的服务会在几秒内自动加载）", err=True)


@models.command(name="prune")
@click.option("--keep", default=3, show_default=True, type=click.IntRange(0, None), help="保留最新的几个（不含当前模型）")
@data_dir_option
def prune(keep, data_dir) -> None:
    """删除模型目录中较旧的、未启用的模型文件（当前启用的模型从不删除）。"""
    settings = settings_from(data_dir)
    active = store.active_model_path(settings.data_dir).resolve()
    inactive = [p for p in model_files(settings.data_dir) if p.resolve() != active]
    removed = inactive[keep:]
    for path in removed:
        path.unlink()
    click.echo(f"已删除 {len(removed)} 个旧模型文件" + ("：" + "、".join(p.stem for p in removed) if removed else ""), err=True)
