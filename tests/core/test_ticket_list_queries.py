"""A page of the ticket list is read with a fixed number of queries, however many tickets it shows."""

import sqlalchemy as sa

from hotline.identity import normalize_identity
from hotline.service import NewTicket
from hotline.views import list_tickets, load_ticket
from tests.core.test_service import DISPATCHER, unit_actor


async def _make(service, n: int) -> None:
    for i in range(n):
        t = await service.create_ticket(NewTicket(
            channel="phone", text=f"第{i}件：路灯不亮，联系电话1390000{i:04d}", request_type="求助",
            identities=[normalize_identity("phone", f"138{i:08d}")]), DISPATCHER)
        if i % 2:
            await service.transition(t["number"], "dispatch", DISPATCHER, {"lead_unit": "transport",
                                                                           "category": "C010302"})
            await service.transition(t["number"], "return", await unit_actor(service, "transport"),
                                     {"reason": f"不归我局，电话1391234{i:04d}"})
            await service.transition(t["number"], "dispatch", DISPATCHER, {"lead_unit": "housing",
                                                                           "co_units": ["urban"]})


async def _count_queries(service, viewer, **filters) -> tuple[int, list[dict]]:
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(service.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with service.engine.connect() as conn:
            items, _ = await list_tickets(service, conn, viewer, **filters)
    finally:
        sa.event.remove(service.engine.sync_engine, "before_cursor_execute", seen)
    return len(statements), items


async def test_the_list_costs_the_same_queries_for_4_or_16_tickets_and_matches_the_ticket_view(service):
    _, before = await _count_queries(service, DISPATCHER)
    await _make(service, 4)
    few, items = await _count_queries(service, DISPATCHER)
    assert len(items) == len(before) + 4
    await _make(service, 12)
    many, items = await _count_queries(service, DISPATCHER)
    assert len(items) == len(before) + 16 and many == few <= 10
    items = items[:16]  # newest first: the ones made here
    async with service.engine.connect() as conn:  # each item is the ticket's own view, without its history
        for item in items[:6]:
            assert item == await load_ticket(service, conn, item["id"], DISPATCHER, detail=False)
    returned = [i for i in items if i["returns"]]
    assert len(returned) == 8 and all(i["returns"][0]["unit"] == "transport" and i["lead_unit"]["code"] == "housing"
                                      and [u["code"] for u in i["co_units"]] == ["urban"] for i in returned)
    assert all(i["citizen"]["identities"][0]["kind"] == "phone" and i["category"] is not None for i in returned)


async def test_a_unit_user_s_page_is_masked_like_its_ticket_view(service):
    await _make(service, 6)
    housing = await unit_actor(service, "housing")
    _, items = await _count_queries(service, housing)
    assert len(items) == 3  # only what was dispatched to it
    async with service.engine.connect() as conn:
        for item in items:
            assert item == await load_ticket(service, conn, item["id"], housing, detail=False)
    assert all("****" in i["text"] and "****" in i["returns"][0]["reason"] and i["routing"] is None
               and "****" in i["citizen"]["identities"][0]["value"] for i in items)
