"""Member unit import: notification channels and contacts are checked, all or nothing (CLI and API)."""

import pytest
from click.testing import CliRunner

from hotline.cli import main
from tests.datadir import init_data_dir
from hotline.directory import ImportError_, parse_units_csv
from tests.conftest import auth

HEADER = "code,name,kind,parent_code,contact_name,contact_phone,contact_email,notify_channels\n"
GOOD_ROW = "water,云州自来水公司,utility,,王五,13800000009,w@x.cn,sms|email\n"


def test_pipe_separated_channels_are_split():
    (row,) = parse_units_csv(HEADER + GOOD_ROW)
    assert row.notify_channels == ["sms", "email"]
    assert row.contacts == [{"name": "王五", "phone": "13800000009", "email": "w@x.cn"}]
    for sep in (";", ","):
        text = HEADER + f'water,云州自来水公司,utility,,王五,13800000009,w@x.cn,"sms{sep}email"\n'
        assert parse_units_csv(text)[0].notify_channels == ["sms", "email"]


@pytest.mark.parametrize("row, words", [
    ("u4,测试局4,department,,张三,13800000004,z@x.cn,pigeon\n", ["第 3 行", "pigeon", "sms"]),
    ("u4,测试局4,department,,张三,abc,z@x.cn,sms\n", ["第 3 行", "abc"]),
    ("u4,测试局4,department,,张三,13800000004,not-an-email,email\n", ["第 3 行", "not-an-email"]),
])
def test_bad_channel_phone_or_email_names_the_row(row, words):
    with pytest.raises(ImportError_) as exc:
        parse_units_csv(HEADER + GOOD_ROW + row)
    assert all(w in str(exc.value) for w in words), str(exc.value)


def test_demo_units_still_import():
    from hotline.demo import demo_file

    assert len(parse_units_csv(demo_file("units.csv"))) >= 30


def _cli(args, data_dir):
    return CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)


def test_cli_import_rejects_bad_contacts_and_channels_and_writes_nothing(tmp_path):
    data = init_data_dir(tmp_path / "d")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + GOOD_ROW + "test-unit4,测试局4,department,,张三,abc,not-an-email,pigeon\n",
                   encoding="utf-8")
    result = _cli(["units", "import", str(bad)], data)
    assert result.exit_code == 2 and "第 3 行" in result.output, result.output
    good = tmp_path / "good.csv"
    good.write_text(HEADER + GOOD_ROW, encoding="utf-8")
    result = _cli(["units", "import", str(good)], data)
    assert result.exit_code == 0 and "新增 1 个" in result.output, result.output  # nothing from the bad file


async def test_api_import_rejects_bad_contacts_and_channels_and_writes_nothing(client, tokens):
    for row, word in [("test-unit4,测试局4,department,,张三,13800000004,z@x.cn,pigeon\n", "pigeon"),
                      ("test-unit4,测试局4,department,,张三,abc,z@x.cn,sms\n", "abc"),
                      ("test-unit4,测试局4,department,,张三,13800000004,not-an-email,sms\n", "not-an-email")]:
        resp = await client.post("/api/v1/units/import", data=(HEADER + GOOD_ROW + row).encode(),
                                 headers=auth(tokens["admin"]))
        message = (await resp.json())["error"]["message"]
        assert resp.status == 422 and "第 3 行" in message and word in message, message
    items = (await (await client.get("/api/v1/units", headers=auth(tokens["agent"]))).json())["items"]
    assert "test-unit4" not in {u["code"] for u in items}
    assert next(u for u in items if u["code"] == "water")["notify_channels"] == ["sms"]  # the demo's, untouched
    resp = await client.post("/api/v1/units/import", data=(HEADER + GOOD_ROW).encode(),
                             headers=auth(tokens["admin"]))
    assert resp.status == 200 and await resp.json() == {"created": 0, "updated": 1}
    items = (await (await client.get("/api/v1/units", headers=auth(tokens["agent"]))).json())["items"]
    assert next(u for u in items if u["code"] == "water")["notify_channels"] == ["sms", "email"]


async def test_api_import_keeps_what_the_file_leaves_out_and_refuses_a_parent_cycle(client, tokens):
    async def units():
        items = (await (await client.get("/api/v1/units", headers=auth(tokens["agent"]))).json())["items"]
        return {u["code"]: u for u in items}

    before = await units()
    assert before["water"]["contacts"] and before["water"]["notify_channels"]
    resp = await client.post("/api/v1/units/import", data="code,name,kind,parent_code\nwater,云州供水集团,utility,\n"
                             .encode(), headers=auth(tokens["admin"]))
    assert resp.status == 200
    after = (await units())["water"]
    assert after["name"] == "云州供水集团"
    assert (after["contacts"], after["notify_channels"]) == (before["water"]["contacts"],
                                                            before["water"]["notify_channels"])
    # a district put under one of its own streets: the hierarchy would go round
    street = next(u for u in before.values() if u["kind"] == "street" and u["parent"])
    district = before[street["parent"]]
    resp = await client.post("/api/v1/units/import", data=(
        f"code,name,kind,parent_code\n{district['code']},{district['name']},district,{street['code']}\n").encode(),
        headers=auth(tokens["admin"]))
    assert resp.status == 422 and "形成循环" in (await resp.json())["error"]["message"]
    assert (await units())[district["code"]]["parent"] == district["parent"]
