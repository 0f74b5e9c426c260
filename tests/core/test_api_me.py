"""GET /api/v1/me: who is logged in, with a unit user's member unit."""

from hotline.api.auth import SESSION_COOKIE
from tests.conftest import auth


async def test_me_names_a_unit_users_unit(client, tokens):
    me = await (await client.get("/api/v1/me", headers=auth(tokens["housing"]))).json()
    assert (me["username"], me["role"], me["role_label"]) == ("t-housing", "unit", "承办单位")
    units = (await (await client.get("/api/v1/units", headers=auth(tokens["agent"]))).json())["items"]
    housing = next(u for u in units if u["code"] == "housing")
    assert me["unit"] == {"id": housing["id"], "code": "housing", "name": housing["name"]} and housing["name"]
    assert me["unit_id"] == housing["id"]
    other = await (await client.get("/api/v1/me", headers=auth(tokens["transport"]))).json()
    assert other["unit"]["code"] == "transport" and other["unit"]["name"] != housing["name"]


async def test_me_has_no_unit_for_platform_staff(client, tokens):
    for role in ("agent", "dispatcher", "leader", "admin"):
        me = await (await client.get("/api/v1/me", headers=auth(tokens[role]))).json()
        assert me["role"] == role and me["unit"] is None and me["unit_id"] is None


async def test_me_without_login_is_401(client):
    resp = await client.get("/api/v1/me", cookies={SESSION_COOKIE: "not-a-session"})
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "unauthorized"
