"""docker-compose.yml wires the app to exactly the settings the application reads."""

import importlib
from pathlib import Path
from urllib.parse import urlparse

import yaml

from hotline.config import SETTINGS_CLASSES

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"


def app_env_names() -> set[str]:
    names = set()
    for spec in SETTINGS_CLASSES:
        module, cls_name = spec.split(":")
        cls = getattr(importlib.import_module(module), cls_name)
        prefix = cls.model_config.get("env_prefix", "")
        names |= {(prefix + field).upper() for field in cls.model_fields}
    return names


def test_every_hotline_service_env_matches_the_settings():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"app", "worker", "postgres", "redis", "elasticsearch"} <= set(services)
    readable = app_env_names()
    for name in ("app", "worker"):
        env = services[name]["environment"]
        hotline_vars = {k for k in env if k.startswith("HOTLINE_")}
        assert hotline_vars <= readable, hotline_vars - readable
        assert {"HOTLINE_DATABASE_URL", "HOTLINE_REDIS_URL", "HOTLINE_ELASTICSEARCH_URL"} <= hotline_vars
        # Each URL points at a service of this file, on the port that service listens on.
        for var, service, port in [("HOTLINE_DATABASE_URL", "postgres", 5432), ("HOTLINE_REDIS_URL", "redis", 6379),
                                   ("HOTLINE_ELASTICSEARCH_URL", "elasticsearch", 9200)]:
            url = urlparse(env[var])
            assert (url.hostname, url.port) == (service, port), var
        assert set(services[name]["depends_on"]) == {"postgres", "redis", "elasticsearch"}
    pg = services["postgres"]["environment"]
    db_url = urlparse(services["app"]["environment"]["HOTLINE_DATABASE_URL"])
    assert (db_url.username, db_url.password, db_url.path.lstrip("/")) == (
        pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])
    assert "hotline serve" in services["app"]["command"] and "hotline worker" in services["worker"]["command"]


def test_database_url_from_compose_selects_postgresql():
    from hotline.config import Settings

    compose = yaml.safe_load(COMPOSE.read_text())
    url = compose["services"]["app"]["environment"]["HOTLINE_DATABASE_URL"]
    assert Settings(database_url=url).resolved_database_url().startswith("postgresql+asyncpg://")


def test_every_hotline_command_in_compose_parses_with_the_real_cli():
    import shlex

    import click

    from hotline.cli import main

    compose = yaml.safe_load(COMPOSE.read_text())
    commands = []
    for service in compose["services"].values():
        command = service.get("command", "")
        inner = shlex.split(command)[-1] if command.startswith("sh -c") else command
        commands += [part.strip() for part in inner.split("&&") if part.strip().startswith("hotline ")]
    assert len(commands) >= 3
    for command in commands:
        args = shlex.split(command)[1:]
        with main.make_context("hotline", list(args), resilient_parsing=False) as ctx:
            name, sub, rest = main.resolve_command(ctx, ctx.protected_args + ctx.args)
            while isinstance(sub, click.Group):
                sub_ctx = sub.make_context(name, rest, parent=ctx)
                name, sub, rest = sub.resolve_command(sub_ctx, sub_ctx.protected_args + sub_ctx.args)
                ctx = sub_ctx
            sub.make_context(name, rest, parent=ctx)  # raises on an unknown option
    # (a flag that does not exist fails here, before anyone runs docker compose)
