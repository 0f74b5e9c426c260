"""Publishable letters: redacted draft on closing, agent review through the API, public pages."""

from __future__ import annotations

from hotline import appkeys
from hotline.users import Actor, create_user, issue_token
from tests.channels.mailbox.contract import signed
from tests.channels.mailbox.helpers import Browser, load, make_app, number_and_code

AGENT = Actor(username="agent1", role="agent")
REPLY = ("陈建国您好：经交警支队现场勘查，将于12月在文三路与学院路口增设行人信号灯。"
         "如有疑问请联系经办人王警官，电话0571-87280000。")


async def tokens(app) -> dict[str, str]:
    service = app[appkeys.SERVICE]
    out = {}
    async with service.engine.begin() as conn:
        for name, role in (("agent1", "agent"), ("leader1", "leader")):
            uid = await create_user(conn, name, role, service.now(), password="pw-123456")
            out[role] = await issue_token(conn, uid, service.now())
    return out


async def test_closed_letter_is_redacted_reviewed_and_published(aiohttp_client, engine, clock, tmp_path):
    app = make_app(engine, clock, tmp_path)
    client = await aiohttp_client(app)
    auth = await tokens(app)
    req = signed(load("partner_letter.json"))
    resp = await client.post(req.path, data=req.body, headers=req.headers)
    number = (await resp.json())["number"]
    service = app[appkeys.SERVICE]
    await service.transition(number, "answer", AGENT, {"answer": REPLY})

    # Review queue: agents only.
    resp = await client.get("/api/v1/mailbox/publications")
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "unauthorized"
    resp = await client.get("/api/v1/mailbox/publications", headers={"Authorization": f"Bearer {auth['leader']}"})
    assert resp.status == 403
    agent = {"Authorization": f"Bearer {auth['agent']}"}
    resp = await client.get("/api/v1/mailbox/publications", headers=agent)
    [draft] = (await resp.json())["items"]
    assert draft["state"] == "pending" and draft["number"] == number
    text = draft["question"] + draft["reply"] + draft["title"]
    for personal in ("陈建国", "13905712233", "330106197905120037", "138号", "0571-87280000", "王警官"):
        assert personal not in text, personal
    assert "文三路" in draft["question"] and "[身份证号已隐去]" in draft["question"]
    assert "将于12月在文三路与学院路口增设行人信号灯" in draft["reply"]

    # Not public before review.
    resp = await client.get(f"/mailbox/public/{draft['id']}")
    assert resp.status == 404

    # Bad review input: JSON errors, nothing changed.
    resp = await client.post(f"/api/v1/mailbox/publications/{draft['id']}/approve", headers=agent,
                             data="not json")
    assert resp.status == 415
    resp = await client.post(f"/api/v1/mailbox/publications/{draft['id']}/approve", headers=agent,
                             json={"bogus": 1})
    assert resp.status == 422 and (await resp.json())["error"]["code"] == "invalid_params"
    resp = await client.post("/api/v1/mailbox/publications/999/approve", headers=agent, json={})
    assert resp.status == 404
    for huge in ("9223372036854775808", "2147483648"):  # beyond the id column: no such letter, not a 500
        assert (await client.get(f"/api/v1/mailbox/publications/{huge}", headers=agent)).status == 404
        assert (await client.get(f"/mailbox/public/{huge}")).status == 404

    # The agent edits the title (re-redacted: the phone typed in is removed) and approves.
    resp = await client.post(f"/api/v1/mailbox/publications/{draft['id']}/approve", headers=agent,
                             json={"title": "文三路学院路口增设行人信号灯 13905712233",
                                   "question": "陈建国反映：文三路与学院路口缺少行人信号灯"})
    published = await resp.json()
    assert resp.status == 200 and published["state"] == "published" and published["reviewer"] == "agent1"
    assert published["title"] == "文三路学院路口增设行人信号灯 [电话已隐去]"
    assert "陈建国" not in published["question"]  # the writer's name, pasted back by the agent
    resp = await client.post(f"/api/v1/mailbox/publications/{draft['id']}/reject", headers=agent,
                             json={"note": "重复"})
    assert resp.status == 409

    resp = await client.get("/mailbox/public")
    page = await resp.text()
    assert resp.status == 200 and "文三路学院路口增设行人信号灯" in page
    resp = await client.get(f"/mailbox/public/{draft['id']}")
    page = await resp.text()
    assert resp.status == 200 and "增设行人信号灯" in page and "陈建国" not in page and "13905712233" not in page


async def test_letters_not_marked_publishable_are_never_drafted(aiohttp_client, engine, clock, tmp_path):
    app = make_app(engine, clock, tmp_path)
    client = await aiohttp_client(app)
    auth = await tokens(app)
    status, page = await Browser(client).submit(load("form_letter.json"))  # publishable box not ticked
    number, _ = number_and_code(page)
    await app[appkeys.SERVICE].transition(number, "answer", AGENT, {"answer": "已转城管部门处理。"})
    resp = await client.get("/api/v1/mailbox/publications", headers={"Authorization": f"Bearer {auth['agent']}"})
    assert (await resp.json())["items"] == []


async def test_reject_keeps_it_private(aiohttp_client, engine, clock, tmp_path):
    app = make_app(engine, clock, tmp_path)
    client = await aiohttp_client(app)
    auth = await tokens(app)
    req = signed(load("partner_letter.json"))
    number = (await (await client.post(req.path, data=req.body, headers=req.headers)).json())["number"]
    await app[appkeys.SERVICE].transition(number, "answer", AGENT, {"answer": REPLY})
    agent = {"Authorization": f"Bearer {auth['agent']}"}
    [draft] = (await (await client.get("/api/v1/mailbox/publications", headers=agent)).json())["items"]
    resp = await client.post(f"/api/v1/mailbox/publications/{draft['id']}/reject", headers=agent, json={})
    assert resp.status == 422
    resp = await client.post(f"/api/v1/mailbox/publications/{draft['id']}/reject", headers=agent,
                             json={"note": "涉及个人纠纷，不宜公开"})
    assert resp.status == 200 and (await resp.json())["state"] == "rejected"
    assert (await client.get(f"/mailbox/public/{draft['id']}")).status == 404
