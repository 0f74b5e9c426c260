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


async def test_password_guessing_is_slowed_down_after_five_failures(client, tokens, clock):
    resp = await client.post("/api/v1/users", json={"username": "li", "role": "agent", "password": "s3cret-pass"},
                             headers=auth(tokens["admin"]))
    assert resp.status == 201

    async def login(username, password):
        return await client.post("/api/v1/auth/login", json={"username": username, "password": password})

    for attempt in range(5):
        assert (await login("li", f"wrong-{attempt}")).status == 401
    refused = await login("li", "s3cret-pass")  # even the right password, until the window has passed
    assert refused.status == 429
    assert (await refused.json())["error"]["message"] == "登录失败次数过多，请 15 分钟后再试"
    assert (await login("LI", "s3cret-pass")).status == 429  # the same name in other letters
    clock.advance(minutes=16)
    assert (await login("li", "s3cret-pass")).status == 200
