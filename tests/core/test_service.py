"""The ticket service on SQLite and on a real PostgreSQL server (the store contract)."""

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa

from hotline.actions import InvalidParams, NotFound
from hotline.identity import normalize_identity
from hotline.lifecycle import Forbidden, IllegalTransition, TransitionError
from hotline.messages import Identity
from hotline.service import Conflict, NewTicket
from hotline.tables import outbox, ticket_events, tickets, units
from hotline.users import Actor

CST = dt.timezone(dt.timedelta(hours=8))
AGENT = Actor("agent1", "agent")
DISPATCHER = Actor("disp1", "dispatcher")
LEADER = Actor("lead1", "leader")


async def unit_actor(service, code: str) -> Actor:
    async with service.engine.connect() as conn:
        unit_id = (await conn.execute(sa.select(units.c.id).where(units.c.code == code))).scalar_one()
    return Actor(f"user-{code}", "unit", unit_id=unit_id)


async def new_ticket(service, text="小区门口路灯不亮已经一周", request_type="求助", phone="13800138000") -> dict:
    created = await service.create_ticket(
        NewTicket(channel="phone", text=text, request_type=request_type,
                  identities=[normalize_identity("phone", phone)]), AGENT)
    return await service.get_ticket(created["id"])


async def test_full_lifecycle_with_audit_and_outbox(service, clock):
    ticket = await new_ticket(service)
    assert ticket["state"] == "new" and ticket["number"].startswith("20261123")
    housing = await unit_actor(service, "housing")
    number = ticket["number"]
    t = await service.transition(number, "accept", AGENT)
    t = await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "housing", "co_units": ["urban"],
                                                                   "category": "C010302"})
    assert t["state"] == "dispatched" and t["lead_unit"]["code"] == "housing"
    assert [u["code"] for u in t["co_units"]] == ["urban"]
    # Dispatched Monday 10:00: sign-for in 2 working hours, 求助 reply in 3 working days.
    assert dt.datetime.fromisoformat(t["deadlines"]["sign_due_at"]) == dt.datetime(2026, 11, 23, 12, tzinfo=CST)
    assert dt.datetime.fromisoformat(t["deadlines"]["reply_due_at"]) == dt.datetime(2026, 11, 26, 10, tzinfo=CST)
    assert t["deadlines"]["light"] == "green"
    clock.advance(minutes=30)
    t = await service.transition(number, "sign", housing)
    t = await service.transition(number, "reply", housing, {"text": "已安排维修人员更换路灯。"})
    t = await service.transition(number, "callback", AGENT, {"satisfaction": "满意"})
    t = await service.transition(number, "close", AGENT)
    assert t["state"] == "closed" and t["satisfaction"] == "满意"
    assert [e["action"] for e in t["events"]] == ["create", "accept", "dispatch", "sign", "reply", "callback",
                                                   "close"]
    assert [e["actor"] for e in t["events"]][3:5] == ["user-housing", "user-housing"]
    assert t["messages"][-1]["direction"] == "out"
    async with service.engine.connect() as conn:
        topics = [r.topic for r in await conn.execute(
            sa.select(outbox.c.topic).where(outbox.c.payload["number"].as_string() == number)
            .order_by(outbox.c.id))]
    assert topics == ["ticket.create", "ticket.accept", "ticket.dispatch", "ticket.sign", "ticket.reply",
                      "ticket.callback", "ticket.close"]


async def test_illegal_moves_are_refused_and_write_nothing(service):
    ticket = await new_ticket(service)
    housing = await unit_actor(service, "housing")
    with pytest.raises(IllegalTransition, match="不能执行「办结」"):
        await service.transition(ticket["number"], "close", AGENT)
    with pytest.raises(NotFound):  # not dispatched to the unit: it cannot even see it
        await service.transition(ticket["number"], "sign", housing)
    with pytest.raises(Forbidden):
        await service.transition(ticket["number"], "dispatch", LEADER, {"lead_unit": "housing"})
    with pytest.raises(InvalidParams, match="单位 nowhere 不存在"):
        await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "nowhere"})
    with pytest.raises(InvalidParams):
        await service.transition(ticket["number"], "reject", AGENT, {"reason": "不想办"})
    after = await service.get_ticket(ticket["number"])
    assert after["state"] == "new" and after["version"] == 1 and len(after["events"]) == 1


async def test_unit_acts_only_on_its_own_tickets(service):
    ticket = await new_ticket(service)
    await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "housing"})
    transport = await unit_actor(service, "transport")
    with pytest.raises(NotFound):
        await service.transition(ticket["number"], "sign", transport)
    with pytest.raises(NotFound):
        await service.get_ticket(ticket["number"], transport)


async def test_return_goes_back_to_the_dispatch_queue(service):
    ticket = await new_ticket(service)
    await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "transport"})
    transport = await unit_actor(service, "transport")
    t = await service.transition(ticket["number"], "return", transport, {"reason": "路灯归住建局管理"})
    assert t["state"] == "accepted" and t["lead_unit"] is None and t["deadlines"]["reply_due_at"] is None
    t = await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "housing"})
    assert t["lead_unit"]["code"] == "housing"


async def test_the_dispatch_queue_shows_who_handed_a_ticket_back_and_why(service):
    from hotline.views import list_tickets

    ticket = await new_ticket(service)
    assert ticket["returns"] == []
    transport, housing = await unit_actor(service, "transport"), await unit_actor(service, "housing")
    await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "transport"})
    await service.transition(ticket["number"], "return", transport, {"reason": "路灯归住建局管理，联系13912345678"})
    await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "housing"})
    t = await service.transition(ticket["number"], "recall", DISPATCHER, {"reason": "派错，应派城管"})
    assert [(r["kind"], r["label"], r["unit"], r["reason"]) for r in t["returns"]] == [
        ("return", "退单", "transport", "路灯归住建局管理，联系13912345678"),
        ("recall", "撤回派单", "housing", "派错，应派城管")]
    assert t["returns"][0]["unit_name"] and t["returns"][0]["at"] <= t["returns"][1]["at"]
    async with service.engine.connect() as conn:  # the queue's list carries it too
        items, _ = await list_tickets(service, conn, DISPATCHER, state="new,accepted")
    assert [r["unit"] for r in next(i for i in items if i["number"] == ticket["number"])["returns"]] == \
        ["transport", "housing"]
    await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "housing"})
    seen = await service.get_ticket(ticket["number"], housing)  # the next unit sees the history, phones masked
    assert seen["returns"][0]["reason"] == "路灯归住建局管理，联系139****5678"


async def test_sending_a_ticket_back_to_the_unit_that_returned_it_needs_a_reason(service):
    from hotline.actions import ReturnedBefore

    number = (await new_ticket(service))["number"]
    transport = await unit_actor(service, "transport")
    await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "transport"})
    await service.transition(number, "return", transport, {"reason": "路灯归住建局管理"})
    with pytest.raises(ReturnedBefore, match="已退回过此工单（退单原因：路灯归住建局管理）.*备注") as refused:
        await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "transport"})
    assert refused.value.status == 409
    t = await service.get_ticket(number)
    assert t["state"] == "accepted" and t["lead_unit"] is None  # nothing was written
    # another unit, then back again: the first return still stands until a dispatcher says why
    await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    await service.transition(number, "recall", DISPATCHER, {"reason": "住建局说是交通局新装的灯"})
    with pytest.raises(ReturnedBefore):
        await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "transport", "co_units": ["housing"]})
    # a unit the dispatcher only recalled from is not one that refused the ticket
    t = await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    await service.transition(number, "recall", DISPATCHER, {"reason": "再核实"})
    t = await service.transition(number, "dispatch", DISPATCHER,
                                 {"lead_unit": "transport", "note": "该路段路灯为交通局2025年新建，退单理由不成立"})
    assert t["lead_unit"]["code"] == "transport"
    seen = await service.get_ticket(number, transport)  # the unit reads why it has the ticket again
    last = seen["events"][-1]
    assert last["action"] == "dispatch" and "退单理由不成立" in last["note"]
    async with service.engine.connect() as conn:
        data = (await conn.execute(sa.select(ticket_events.c.data).where(ticket_events.c.id == sa.select(
            sa.func.max(ticket_events.c.id)).scalar_subquery()))).scalar()
    assert data["return_overruled"] is True


async def test_request_type_left_open_without_a_router_is_help(service):
    ticket = await service.create_ticket(NewTicket(channel="web", text="小区门口路灯不亮已经一周"))
    async with service.engine.connect() as conn:
        stored = (await conn.execute(sa.select(tickets.c.request_type).where(tickets.c.id == ticket["id"]))).scalar()
    assert stored == "求助"
    with pytest.raises(InvalidParams, match="未知诉求类型"):
        await service.create_ticket(NewTicket(channel="web", text="路灯不亮", request_type="闲聊"))


async def test_extension_moves_the_deadline_by_working_days(service, clock):
    ticket = await new_ticket(service, request_type="投诉")
    number = ticket["number"]
    housing = await unit_actor(service, "housing")
    t = await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    due = dt.datetime.fromisoformat(t["deadlines"]["reply_due_at"])
    assert due == dt.datetime(2026, 11, 30, 10, tzinfo=CST)  # 5 working days
    await service.transition(number, "sign", housing)
    await service.transition(number, "request_extension", housing, {"days": 3, "reason": "需现场勘查"})
    with pytest.raises(TransitionError, match="待审批") as pending:  # a conflict (409), not bad input
        await service.transition(number, "request_extension", housing, {"days": 2, "reason": "再延"})
    assert pending.value.status == 409
    t = await service.transition(number, "approve_extension", DISPATCHER)
    assert dt.datetime.fromisoformat(t["deadlines"]["reply_due_at"]) == dt.datetime(2026, 12, 3, 10, tzinfo=CST)
    assert t["extensions"][0]["state"] == "approved"
    await service.transition(number, "request_extension", housing, {"days": 2, "reason": "材料未齐"})
    t = await service.transition(number, "deny_extension", DISPATCHER)
    assert [x["state"] for x in t["extensions"]] == ["approved", "denied"]
    assert dt.datetime.fromisoformat(t["deadlines"]["reply_due_at"]) == dt.datetime(2026, 12, 3, 10, tzinfo=CST)
    # a dispatcher may grant fewer working days than asked, never more
    await service.transition(number, "request_extension", housing, {"days": 4, "reason": "等检测报告"})
    with pytest.raises(InvalidParams, match="不能多于申请的 4 个工作日"):
        await service.transition(number, "approve_extension", DISPATCHER, {"days": 5})
    t = await service.transition(number, "approve_extension", DISPATCHER, {"days": 1})
    assert [x["days"] for x in t["extensions"]] == [3, 2, 1]
    assert dt.datetime.fromisoformat(t["deadlines"]["reply_due_at"]) == dt.datetime(2026, 12, 4, 10, tzinfo=CST)


async def test_unsatisfied_callback_reopens_to_the_same_unit(service):
    ticket = await new_ticket(service)
    number = ticket["number"]
    housing = await unit_actor(service, "housing")
    await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    await service.transition(number, "sign", housing)
    await service.transition(number, "urge", LEADER, {"note": "请尽快处理"})
    await service.transition(number, "reply", housing, {"text": "已处理"})
    await service.transition(number, "callback", AGENT, {"satisfaction": "满意"})
    with pytest.raises(InvalidParams, match="不满意"):
        await service.transition(number, "reopen", AGENT, {"reason": "x"})
    # A fresh ticket answered badly.
    ticket2 = await new_ticket(service, text="楼道灯坏了")
    n2 = ticket2["number"]
    await service.transition(n2, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    await service.transition(n2, "sign", housing)
    await service.transition(n2, "reply", housing, {"text": "已处理"})
    await service.transition(n2, "callback", AGENT, {"satisfaction": "不满意"})
    t = await service.transition(n2, "reopen", AGENT, {"reason": "灯还是不亮"})
    assert t["state"] == "dispatched" and t["lead_unit"]["code"] == "housing"
    assert t["reopen_count"] == 1 and t["satisfaction"] is None
    assert (await service.get_ticket(number))["urge_count"] == 1


async def test_reopen_goes_to_the_last_units_only_and_a_return_drops_the_pending_extension(service):
    from hotline.views import unit_sees_ticket

    number = (await new_ticket(service, text="楼道灯坏了"))["number"]
    transport, housing = await unit_actor(service, "transport"), await unit_actor(service, "housing")
    await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "transport"})
    await service.transition(number, "sign", transport)
    await service.transition(number, "request_extension", transport, {"days": 5, "reason": "需协调"})
    await service.transition(number, "return", transport, {"reason": "不属于本单位职责"})
    t = await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    assert [x["state"] for x in t["extensions"]] == ["cancelled"]
    await service.transition(number, "sign", housing)
    with pytest.raises(InvalidParams, match="没有待审批"):  # nothing of the returning unit's is left to approve
        await service.transition(number, "approve_extension", DISPATCHER)
    await service.transition(number, "reply", housing, {"text": "已修好"})
    await service.transition(number, "callback", AGENT, {"satisfaction": "不满意"})
    t = await service.transition(number, "reopen", AGENT, {"reason": "灯还是不亮"})
    assert t["lead_unit"]["code"] == "housing"
    async with service.engine.connect() as conn:
        assert await unit_sees_ticket(conn, t["id"], housing.unit_id, lead_only=True)
        assert not await unit_sees_ticket(conn, t["id"], transport.unit_id)


async def test_reject_answer_emergency_merge(service):
    a, b, c, d, e = [await new_ticket(service, text=f"诉求{i}") for i in range(5)]
    t = await service.transition(a["number"], "reject", AGENT, {"reason": "in_litigation"})
    assert t["state"] == "rejected" and t["reject_reason"] == "in_litigation"
    assert t["reject_reason_label"] and t["reject_reason_label"] != "in_litigation"  # the words agents read
    t = await service.transition(b["number"], "answer", AGENT, {"answer": "请携带身份证到政务中心办理。"})
    assert t["state"] == "answered" and t["messages"][-1]["text"].startswith("请携带")
    t = await service.transition(b["number"], "rate", Actor("citizen:wechat", "citizen"), {"satisfaction": "满意"})
    assert t["satisfaction"] == "满意"
    with pytest.raises(InvalidParams, match="已有满意度评价（满意），不能更改"):  # a rating is not rewritten
        await service.transition(b["number"], "rate", AGENT, {"satisfaction": "不满意"})
    t = await service.transition(c["number"], "transfer_emergency", AGENT, {"number": "119"})
    assert t["state"] == "emergency" and t["emergency_number"] == "119"
    for final in (a, b, c):  # nobody would handle what is merged into a finished ticket
        with pytest.raises(InvalidParams, match="不能合并到该工单"):
            await service.transition(d["number"], "merge", AGENT, {"into": final["number"]})
    t = await service.transition(d["number"], "merge", AGENT, {"into": e["number"]})
    assert t["state"] == "merged" and t["merged_into"] == e["number"]
    assert t["links"] == [{"kind": "merged-into", "number": e["number"]}]
    assert (await service.get_ticket(e["number"]))["links"] == [{"kind": "merged-from", "number": d["number"]}]
    with pytest.raises(IllegalTransition):
        await service.transition(d["number"], "accept", AGENT)


async def test_concurrent_transitions_exactly_one_wins(service):
    ticket = await new_ticket(service)
    number = ticket["number"]

    async def attempt(unit):
        try:
            await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": unit}, expected_version=1)
            return "ok"
        except (Conflict, IllegalTransition):
            return "conflict"

    results = await asyncio.gather(*(attempt(u) for u in ["housing", "transport", "urban", "water"]))
    assert sorted(results) == ["conflict", "conflict", "conflict", "ok"]
    t = await service.get_ticket(number)
    assert t["version"] == 2 and [e["action"] for e in t["events"]].count("dispatch") == 1


async def test_ticket_numbers_are_unique_under_concurrency(service):
    made = await asyncio.gather(*(service.create_ticket(
        NewTicket(channel="web", text=f"并发诉求 {i}", request_type="咨询")) for i in range(25)))
    numbers = [m["number"] for m in made]
    assert len(set(numbers)) == 25
    seqs = sorted(int(n[8:]) for n in numbers)
    # The demo seeded 6 tickets today; the 25 new ones follow without gaps.
    assert seqs == list(range(7, 32))


async def test_citizen_identities_merge_across_channels(service):
    phone = normalize_identity("phone", "13900001111")
    wechat = Identity(kind="wechat", value="o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
    t1 = await service.create_ticket(NewTicket(channel="phone", text="a", request_type="咨询", identities=[phone]))
    t2 = await service.create_ticket(NewTicket(channel="wechat", text="b", request_type="咨询", identities=[wechat]))
    first, second = await service.get_ticket(t1["id"]), await service.get_ticket(t2["id"])
    assert first["citizen"]["id"] != second["citizen"]["id"]
    # A message that names both identities proves they are one person.
    t3 = await service.create_ticket(NewTicket(channel="wechat", text="c", request_type="咨询",
                                               identities=[wechat, phone]))
    third = await service.get_ticket(t3["id"])
    merged = [await service.get_ticket(t["id"]) for t in (t1, t2)]
    assert {m["citizen"]["id"] for m in merged} == {third["citizen"]["id"]} == {first["citizen"]["id"]}
    assert {(i["kind"], i["value"]) for i in third["citizen"]["identities"]} == {
        ("phone", "+8613900001111"), ("wechat", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M")}


async def test_recent_tickets_of_a_citizen_by_any_identity(service, clock):
    phone = normalize_identity("phone", "13900002222")
    wechat = Identity(kind="wechat", value="o6_recent")
    numbers = []
    for text in ("路灯不亮", "井盖缺失", "噪音扰民", "道路积水"):
        created = await service.create_ticket(NewTicket(channel="wechat", text=text, request_type="求助",
                                                        identities=[wechat, phone]))
        numbers.append(created["number"])
        clock.advance(minutes=5)
    await service.create_ticket(NewTicket(channel="phone", text="别人的事", request_type="咨询",
                                          identities=[normalize_identity("phone", "13900003333")]))
    await service.transition(numbers[1], "merge", AGENT, {"into": numbers[0]})
    recent = await service.recent_tickets_of(wechat)
    assert [t["number"] for t in recent] == [numbers[3], numbers[2], numbers[0]]  # newest first, merged left out
    assert recent[0]["state"] == "new" and recent[0]["state_label"] == "新建"
    assert [t["number"] for t in await service.recent_tickets_of(phone, limit=1)] == [numbers[3]]
    assert await service.recent_tickets_of(Identity(kind="wechat", value="nobody")) == []


async def test_oversize_text_is_refused(service):
    with pytest.raises(InvalidParams, match="20000"):
        await service.create_ticket(NewTicket(channel="web", text="长" * 20001, request_type="咨询"))
    async with service.engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(tickets))).scalar_one() == 6
        assert (await conn.execute(sa.select(sa.func.count()).select_from(ticket_events))).scalar_one() == 6


async def test_after_commit_hooks_see_committed_events_only(service):
    seen = []

    async def hook(event):
        async with service.engine.connect() as conn:  # the change is visible: it was committed
            state = (await conn.execute(sa.select(tickets.c.state).where(tickets.c.id == event.ticket_id))).scalar()
        seen.append((event.action, state))

    async def broken(event):
        raise RuntimeError("push failed")

    service.add_after_commit(hook)
    service.add_after_commit(broken)
    ticket = await new_ticket(service)
    await service.transition(ticket["number"], "accept", AGENT)
    with pytest.raises(IllegalTransition):
        await service.transition(ticket["number"], "close", AGENT)
    assert seen == [("create", "new"), ("accept", "accepted")]


async def test_co_handling_units_are_assigned_once_and_told_what_they_may_not_do(service):
    ticket = await new_ticket(service)
    t = await service.transition(ticket["number"], "dispatch", DISPATCHER,
                                 {"lead_unit": "housing", "co_units": ["transport", "transport", "housing"]})
    assert [u["code"] for u in t["co_units"]] == ["transport"]
    transport = await unit_actor(service, "transport")
    assert (await service.get_ticket(ticket["number"], transport))["number"] == ticket["number"]  # it sees it
    for action, params in (("sign", {}), ("reply", {"text": "已处理"}), ("return", {"reason": "不归我们管"})):
        with pytest.raises(Forbidden, match="协办单位"):
            await service.transition(ticket["number"], action, transport, params)


async def test_a_reply_cancels_the_units_undecided_extension_request(service):
    ticket = await new_ticket(service)
    await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "housing"})
    housing = await unit_actor(service, "housing")
    await service.transition(ticket["number"], "sign", housing)
    await service.transition(ticket["number"], "request_extension", housing, {"days": 2, "reason": "等配件"})
    t = await service.transition(ticket["number"], "reply", housing, {"text": "已更换灯具"})
    assert [x["state"] for x in t["extensions"]] == ["cancelled"]
    await service.transition(ticket["number"], "callback", AGENT, {"satisfaction": "不满意"})
    await service.transition(ticket["number"], "reopen", AGENT, {"reason": "灯还是不亮"})
    await service.transition(ticket["number"], "sign", housing)
    # the next round's request is taken, and it is the one a decision applies to
    await service.transition(ticket["number"], "request_extension", housing, {"days": 5, "reason": "需要重新招标"})
    t = await service.transition(ticket["number"], "approve_extension", DISPATCHER)
    assert [(x["days"], x["state"]) for x in t["extensions"]] == [(2, "cancelled"), (5, "approved")]


async def test_a_refused_move_names_the_role_in_chinese_and_only_the_callers_own_moves(service):
    ticket = await new_ticket(service)
    await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "housing"})
    housing = await unit_actor(service, "housing")
    await service.transition(ticket["number"], "sign", housing)
    with pytest.raises(IllegalTransition) as refused:
        await service.transition(ticket["number"], "sign", housing)
    assert refused.value.message == "工单当前状态为「已签收」，不能执行「签收」（可执行：答复、申请延期、退单）"
    with pytest.raises(Forbidden, match="^话务员无权执行「批准延期」$"):
        await service.transition(ticket["number"], "approve_extension", AGENT)


async def test_an_urge_meanwhile_does_not_send_the_units_reply_back(service):
    ticket = await new_ticket(service)
    await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "housing"})
    housing = await unit_actor(service, "housing")
    loaded = await service.transition(ticket["number"], "sign", housing)
    leader = Actor("leader1", "leader")
    await asyncio.gather(*(service.transition(ticket["number"], "urge", leader, {"note": "请今天内答复"})
                           for _ in range(2)))
    urged = await service.get_ticket(ticket["number"])
    assert urged["urge_count"] == 2 and urged["version"] == loaded["version"]  # both counted, same version
    t = await service.transition(ticket["number"], "reply", housing, {"text": "已更换灯具"},
                                 expected_version=loaded["version"])
    assert t["state"] == "replied"
    with pytest.raises(Conflict):  # a real change meanwhile still sends a stale move back
        await service.transition(ticket["number"], "callback", AGENT, {"satisfaction": "满意"},
                                 expected_version=loaded["version"])


async def test_the_platform_is_no_lead_unit_and_reasons_show_in_the_audit_trail(service):
    ticket = await new_ticket(service)
    async with service.engine.connect() as conn:
        platform = (await conn.execute(sa.select(units.c.code).where(units.c.kind == "platform"))).scalar()
    with pytest.raises(InvalidParams, match="不能作为承办单位"):
        await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": platform})
    await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "transport"})
    t = await service.transition(ticket["number"], "return", await unit_actor(service, "transport"),
                                 {"reason": "路灯归住建局管理"})
    assert t["events"][-1]["action"] == "return" and t["events"][-1]["note"] == "路灯归住建局管理"
    other = await new_ticket(service, text="没有具体内容")
    t = await service.transition(other["number"], "reject", AGENT, {"reason": "no_substance"})
    assert t["events"][-1]["note"] and t["events"][-1]["note"] != "no_substance"  # the reason's label


async def test_an_undispatched_ticket_has_nobody_to_urge(service):
    ticket = await new_ticket(service)
    with pytest.raises(IllegalTransition, match="不能执行「督办」") as refused:
        await service.transition(ticket["number"], "urge", LEADER, {"note": "尽快"})
    assert "督办" not in str(refused.value).split("可执行：")[1]  # not offered where it cannot be done
    await service.transition(ticket["number"], "accept", AGENT)
    with pytest.raises(IllegalTransition, match="不能执行「督办」"):
        await service.transition(ticket["number"], "urge", LEADER, {"note": "尽快"})


async def test_no_extension_once_the_reply_deadline_has_passed(service):
    ticket = await new_ticket(service)
    await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "housing"})
    housing = await unit_actor(service, "housing")
    await service.transition(ticket["number"], "sign", housing)
    with pytest.raises(InvalidParams):  # a boolean is no number of days
        await service.transition(ticket["number"], "request_extension", housing, {"days": True, "reason": "等配件"})
    service.clock.advance(days=10)
    with pytest.raises(InvalidParams, match="已超过答复期限"):
        await service.transition(ticket["number"], "request_extension", housing, {"days": 2, "reason": "等配件"})


async def test_a_dispatcher_corrects_the_request_type_and_the_reply_deadline_follows(service):
    ticket = await new_ticket(service, request_type="投诉")  # 5 working days
    t = await service.transition(ticket["number"], "dispatch", DISPATCHER,
                                 {"lead_unit": "housing", "request_type": "咨询"})  # 1 working day
    assert t["request_type"] == "咨询"
    due = dt.datetime.fromisoformat(t["reply_due_at"])
    assert due == service.calendar.add_days(service.now(), 1)
    other = await new_ticket(service)
    with pytest.raises(InvalidParams):
        await service.transition(other["number"], "dispatch", DISPATCHER, {"lead_unit": "housing",
                                                                            "request_type": "闲聊"})


async def test_a_dispatcher_recalls_a_wrong_dispatch_before_it_is_signed(service):
    ticket = await new_ticket(service)
    await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "transport"})
    t = await service.transition(ticket["number"], "recall", DISPATCHER, {"reason": "派错单位，应为住建局"})
    assert t["state"] == "accepted" and t["lead_unit"] is None and t["deadlines"]["reply_due_at"] is None
    assert t["events"][-1]["note"] == "派错单位，应为住建局"
    t = await service.transition(ticket["number"], "dispatch", DISPATCHER, {"lead_unit": "housing"})
    assert t["lead_unit"]["code"] == "housing"
    transport = await unit_actor(service, "transport")
    with pytest.raises(NotFound):  # the recalled unit no longer has it
        await service.get_ticket(ticket["number"], transport)
    await service.transition(ticket["number"], "sign", await unit_actor(service, "housing"))
    with pytest.raises(IllegalTransition):  # once signed, only the unit returns it
        await service.transition(ticket["number"], "recall", DISPATCHER, {"reason": "再改派"})
    with pytest.raises(Forbidden):
        other = await new_ticket(service)
        await service.transition(other["number"], "dispatch", DISPATCHER, {"lead_unit": "housing"})
        await service.transition(other["number"], "recall", await unit_actor(service, "housing"), {"reason": "x"})
