"""Helpers for the jobs tests: tickets moved through the real service, rows read back."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.messages import Identity
from hotline.service import NewTicket
from hotline.tables import units
from hotline.users import Actor

DISPATCHER = Actor(username="t-dispatcher", role="dispatcher")
CITIZEN_PHONE = "+8613800138000"


async def unit_actor(service, code: str) -> Actor:
    async with service.engine.connect() as conn:
        unit_id = (await conn.execute(sa.select(units.c.id).where(units.c.code == code))).scalar_one()
    return Actor(username=f"t-{code}", role="unit", unit_id=unit_id)


async def new_ticket(service, *, channel: str = "phone", identities=None,
                     text: str = "小区楼道灯坏了一个月没人修", request_type: str = "求助",
                     contact_phone: str | None = None) -> str:
    identities = identities if identities is not None else [Identity(kind="phone", value=CITIZEN_PHONE)]
    created = await service.create_ticket(NewTicket(channel=channel, text=text, request_type=request_type,
                                                    identities=identities, contact_phone=contact_phone))
    return created["number"]


async def dispatched(service, unit: str = "housing", **kw) -> str:
    number = await new_ticket(service, **kw)
    await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": unit})
    return number


async def replied(service, unit: str = "housing", **kw) -> str:
    number = await dispatched(service, unit, **kw)
    actor = await unit_actor(service, unit)
    await service.transition(number, "sign", actor)
    await service.transition(number, "reply", actor, {"text": "已安排物业更换灯泡"})
    return number


async def rows(engine, table, *where, order=None):
    async with engine.connect() as conn:
        query = sa.select(table).where(*where).order_by(table.c.id if order is None else order)
        return (await conn.execute(query)).all()
