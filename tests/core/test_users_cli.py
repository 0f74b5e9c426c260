"""Creating users: the CLI and the API apply the same rules, in Chinese."""

import pytest
from click.testing import CliRunner

from hotline.cli import main
from tests.datadir import init_data_dir
from tests.conftest import auth


def _cli(args, data_dir):
    return CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)


@pytest.mark.parametrize("args, words", [
    (["p9", "--role", "agent", "--password", "1"], ["密码", "8"]),
    (["张三", "--role", "agent"], ["用户名"]),
    (["a b", "--role", "agent"], ["用户名"]),
    (["x" * 101, "--role", "agent"], ["用户名", "100"]),
])
def test_cli_refuses_what_the_api_refuses(tmp_path, args, words):
    data = tmp_path / "d"
    result = _cli(["users", "add", *args], data)
    assert result.exit_code == 2 and all(w in result.output for w in words), result.output
    assert "已创建" not in result.output


def test_cli_unit_user_without_unit_names_the_flag(tmp_path):
    result = _cli(["users", "add", "wang", "--role", "unit"], tmp_path / "d")
    assert result.exit_code == 2 and "--unit" in result.output and "所属单位" in result.output, result.output


def test_cli_accepts_a_valid_user(tmp_path):
    result = _cli(["users", "add", "p9.ok@x", "--role", "agent", "--password", "12345678"],
                  init_data_dir(tmp_path / "d"))
    assert result.exit_code == 0 and "已创建用户 p9.ok@x" in result.output, result.output


async def test_api_uses_the_same_rules_and_messages(client, tokens):
    cases = [({"username": "p9", "role": "agent", "password": "1"}, ["password", "密码至少 8 个字符"]),
             ({"username": "张三", "role": "agent"}, ["username", "用户名只能"]),
             ({"username": "u11", "role": "unit"}, ["承办单位用户必须指定所属单位（unit）"])]
    for body, words in cases:
        resp = await client.post("/api/v1/users", json=body, headers=auth(tokens["admin"]))
        message = (await resp.json())["error"]["message"]
        assert resp.status == 422 and all(w in message for w in words), message
        assert "--unit" not in message
    body = {"username": "u11", "role": "unit", "unit": "housing", "password": "12345678"}
    resp = await client.post("/api/v1/users", json=body, headers=auth(tokens["admin"]))
    assert resp.status == 201, await resp.text()


def test_openapi_schema_still_documents_the_rules():
    from hotline.api.models import UserIn

    props = UserIn.model_json_schema()["properties"]
    assert props["username"]["pattern"] == r"^[A-Za-z0-9_.@-]+$"
    assert 8 in (props["password"].get("minLength"), props["password"]["anyOf"][0].get("minLength"))
