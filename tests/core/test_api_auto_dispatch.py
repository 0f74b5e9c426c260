"""POST /api/v1/tickets with ``"auto_dispatch": false``: a ticket the router would dispatch on its own stays with
the agent, who answers it directly (直接答复办结) from the knowledge base; on both backends."""

from tests.conftest import auth

NEW = {"channel": "phone", "text": "公司三个月没发工资，老板一直拖着不给", "request_type": "咨询"}
SUGGESTION = {"category": None, "category_name": "拖欠工资", "lead_unit": "hrss", "co_units": [], "confidence": 0.95,
              "auto_dispatch": True, "queue": "auto", "top3": [{"unit": "hrss", "score": 0.95}], "emergency": None,
              "alerts": []}


class ConfidentRouter:
    """Confident enough to dispatch every ticket to the labour bureau (the real router is tested elsewhere)."""

    async def suggest(self, text, **kwargs):
        return dict(SUGGESTION)


async def create(client, token, body, status=201, key=None):
    headers = {**auth(token), **({"Idempotency-Key": key} if key else {})}
    resp = await client.post("/api/v1/tickets", json=body, headers=headers)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_auto_dispatch_false_keeps_the_ticket_for_a_direct_answer(client, tokens, service):
    service.router = ConfidentRouter()
    dispatched = await create(client, tokens["agent"], NEW)
    assert dispatched["state"] == "dispatched" and dispatched["lead_unit"]["code"] == "hrss"  # the default

    kept = await create(client, tokens["agent"], {**NEW, "auto_dispatch": False}, key="form-1")
    assert kept["state"] == "new" and kept["lead_unit"] is None
    assert [e["action"] for e in kept["events"]] == ["create"]
    assert kept["routing"]["lead_unit"] == "hrss"  # the suggestion is kept, marked as not acted on
    assert kept["routing"]["auto_dispatch"] is False and kept["routing"]["auto_dispatch_skipped"] is True

    resp = await client.post(f"/api/v1/tickets/{kept['number']}/transitions", headers=auth(tokens["agent"]),
                             json={"action": "answer", "params": {"answer": "可向劳动保障监察机构投诉。"}})
    assert resp.status == 200, await resp.text()
    answered = await resp.json()
    assert answered["state"] == "answered"
    assert [e["action"] for e in answered["events"]] == ["create", "answer"]  # never dispatched

    again = await create(client, tokens["agent"], {**NEW, "auto_dispatch": False}, status=200, key="form-1")
    assert again["number"] == kept["number"]  # a retry of the same form: the same ticket


async def test_auto_dispatch_must_be_a_boolean(client, tokens, service):
    service.router = ConfidentRouter()
    before = (await (await client.get("/api/v1/tickets", headers=auth(tokens["agent"]))).json())["total"]
    for bad in ("no", 0, None):
        err = await create(client, tokens["agent"], {**NEW, "auto_dispatch": bad}, status=422)
        assert "auto_dispatch" in err["error"]["message"]
    listed = await (await client.get("/api/v1/tickets", headers=auth(tokens["agent"]))).json()
    assert listed["total"] == before  # nothing written
