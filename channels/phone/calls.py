"""Call records and the screen pop: what happens for each :class:`CallEvent`, whatever its source."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from channels.phone.events import CallEvent
from channels.tables import call_records
from hotline.citizens import find_citizen
from hotline.db import insert_ignore
from hotline.identity import InvalidPhone, normalize_phone
from hotline.messages import Identity
from hotline.lifecycle import OPEN_STATES, STATE_LABELS
from hotline.tables import citizens, ticket_messages, ticket_units, tickets, units

log = logging.getLogger(__name__)


def e164_or_raw(number: str) -> str:
    """+86 form of a caller's number (0571..., 138...), or the raw value (anonymous, extensions)."""
    try:
        return normalize_phone(number)
    except InvalidPhone:
        return number


class CallRecorder:
    def __init__(self, service, settings, hub=None) -> None:
        self.service = service
        self.settings = settings
        self.hub = hub

    def line_for(self, dialled: str) -> str:
        digits = "".join(ch for ch in dialled if ch.isdigit())
        if dialled in self.settings.lines:
            return self.settings.lines[dialled]
        for number, line in self.settings.lines.items():
            if digits.endswith(number):
                return line
        return self.settings.default_line

    async def handle(self, event: CallEvent) -> dict | None:
        """Record the event and tell the agents; returns the call record (None if unknown call)."""
        at = event.at or self.service.now()
        if event.kind == "new" and event.direction == "in" and self.hub is not None:
            # The screen pop needs only the caller's history, not the new record: pop first, then write.
            caller = e164_or_raw(event.from_number)
            history = await self.caller_history(caller, exclude_call=event.call_id)
            await self.hub.publish({"type": "screen_pop", "call_id": event.call_id,
                                    "intake_line": self.line_for(event.to_number), "from": caller,
                                    "to": event.to_number, "direction": "in", **history})
            return await self._new(event, at)
        handler = {"new": self._new, "answer": self._answer, "hangup": self._hangup,
                   "recording": self._recording}[event.kind]
        record = await handler(event, at)
        if record is None:
            log.info("phone %s event for unknown call %s ignored", event.kind, event.call_id)
            return None
        await self._publish(event, record)
        return record

    async def _row(self, conn, call_id: str):
        return (await conn.execute(sa.select(call_records).where(call_records.c.call_id == call_id))).first()

    async def _new(self, event: CallEvent, at: dt.datetime):
        async with self.service.engine.begin() as conn:
            await conn.execute(insert_ignore(conn, call_records).values(
                call_id=event.call_id, source=event.source, direction=event.direction,
                from_number=e164_or_raw(event.from_number), to_number=event.to_number,
                intake_line=self.line_for(event.to_number if event.direction == "in" else event.from_number),
                state="ringing", started_at=at).on_conflict_do_nothing())
            return await self._row(conn, event.call_id)

    async def _answer(self, event: CallEvent, at: dt.datetime):
        async with self.service.engine.begin() as conn:
            row = await self._row(conn, event.call_id)
            if row is None or row.answered_at is not None:
                return row
            await conn.execute(sa.update(call_records).where(call_records.c.id == row.id).values(
                state="answered", answered_at=at, answered_by=event.user,
                wait_seconds=max((at - row.started_at).total_seconds(), 0.0)))
            return await self._row(conn, event.call_id)

    async def _hangup(self, event: CallEvent, at: dt.datetime):
        async with self.service.engine.begin() as conn:
            row = await self._row(conn, event.call_id)
            if row is None or row.ended_at is not None:
                return row
            answered = row.answered_at is not None
            values = {"state": "ended", "ended_at": at, "cause": event.cause,
                      "abandoned": row.direction == "in" and not answered,
                      "duration_seconds": max((at - row.answered_at).total_seconds(), 0.0) if answered else 0.0}
            if not answered:
                values["wait_seconds"] = max((at - row.started_at).total_seconds(), 0.0)
            await conn.execute(sa.update(call_records).where(call_records.c.id == row.id).values(**values))
            return await self._row(conn, event.call_id)

    async def _recording(self, event: CallEvent, at: dt.datetime):
        async with self.service.engine.begin() as conn:
            await conn.execute(sa.update(call_records).where(call_records.c.call_id == event.call_id).values(
                recording_url=event.recording_url, recording_seconds=event.recording_seconds))
            return await self._row(conn, event.call_id)

    # -- live --------------------------------------------------------------------------------

    async def _publish(self, event: CallEvent, record) -> None:
        if self.hub is None:
            return
        base = {"call_id": record.call_id, "intake_line": record.intake_line, "from": record.from_number,
                "to": record.to_number, "direction": record.direction}
        if event.kind == "new":
            return  # outbound calls pop nothing; inbound pops are sent by handle()
        if event.kind == "answer":
            message = {"type": "call_answered", **base, "answered_by": record.answered_by,
                       "wait_seconds": record.wait_seconds}
        elif event.kind == "hangup":
            message = {"type": "call_ended", **base, "abandoned": record.abandoned, "cause": record.cause,
                       "duration_seconds": record.duration_seconds}
        else:
            message = {"type": "call_recording", **base, "recording_url": record.recording_url,
                       "recording_seconds": record.recording_seconds}
        await self.hub.publish(message)

    async def caller_history(self, phone: str, exclude_call: str | None = None) -> dict:
        """The caller's identity, open tickets, last contacts and earlier calls."""
        limit = self.settings.history_limit
        async with self.service.engine.connect() as conn:
            citizen_id = await find_citizen(conn, Identity(kind="phone", value=phone)) if phone.startswith("+") \
                else None
            calls = [{"call_id": c.call_id, "started_at": c.started_at.isoformat(), "answered_by": c.answered_by,
                      "abandoned": c.abandoned, "intake_line": c.intake_line}
                     for c in await conn.execute(
                         sa.select(call_records).where(call_records.c.from_number == phone,
                                                       call_records.c.call_id != (exclude_call or ""))
                         .order_by(call_records.c.started_at.desc(), call_records.c.id.desc()).limit(limit))]
            # The caller's own tickets, and those where someone left this number as the contact (a chatbot
            # request typed on another channel): the agent sees both, the citizen record stays apart.
            mine = sa.or_(tickets.c.contact_phone == phone,
                          *([tickets.c.citizen_id == citizen_id] if citizen_id is not None else []))
            name = None if citizen_id is None else \
                (await conn.execute(sa.select(citizens.c.name).where(citizens.c.id == citizen_id))).scalar()
            contacts = [{"ticket_number": m.number, "channel": m.channel, "direction": m.direction,
                         "text": m.text[:100], "at": m.created_at.isoformat()}
                        for m in await conn.execute(
                            sa.select(ticket_messages.c.channel, ticket_messages.c.direction, ticket_messages.c.text,
                                      ticket_messages.c.created_at, tickets.c.number)
                            .select_from(ticket_messages.join(tickets, tickets.c.id == ticket_messages.c.ticket_id))
                            .where(mine)
                            .order_by(ticket_messages.c.created_at.desc(), ticket_messages.c.id.desc()).limit(limit))]
            lead = ticket_units.join(units, units.c.id == ticket_units.c.unit_id)
            lead_name = (sa.select(units.c.name).select_from(lead)
                         .where(ticket_units.c.ticket_id == tickets.c.id, ticket_units.c.role == "lead",
                                ticket_units.c.active.is_(True)).limit(1).scalar_subquery())
            open_tickets = [{"number": t.number, "state": t.state, "state_label": STATE_LABELS[t.state],
                             "title": t.title, "lead_unit_name": t.lead_unit_name,
                             "reply_due_at": t.reply_due_at.isoformat() if t.reply_due_at else None,
                             "created_at": t.created_at.isoformat(),
                             "contact_only": citizen_id is None or t.citizen_id != citizen_id}
                            for t in await conn.execute(
                                sa.select(tickets.c.number, tickets.c.state, tickets.c.title, tickets.c.reply_due_at,
                                          tickets.c.created_at, tickets.c.citizen_id,
                                          lead_name.label("lead_unit_name"))
                                .where(mine, tickets.c.state.in_(sorted(OPEN_STATES)))
                                .order_by(tickets.c.id.desc()).limit(limit))]
        citizen = {"id": citizen_id, "name": name, "phone": phone} if citizen_id is not None else None
        return {"citizen": citizen, "open_tickets": open_tickets,
                "last_contacts": contacts, "recent_calls": calls}


async def answer_rate(engine, since: dt.datetime, until: dt.datetime, intake_line: str | None = None) -> dict:
    """Inbound calls in [since, until): offered, answered, abandoned, answer rate, average wait."""
    query = sa.select(
        sa.func.count().label("offered"),
        sa.func.count(call_records.c.answered_at).label("answered"),
        sa.func.sum(sa.case((call_records.c.abandoned.is_(True), 1), else_=0)).label("abandoned"),
        sa.func.avg(call_records.c.wait_seconds).label("avg_wait"),
    ).where(call_records.c.direction == "in", call_records.c.started_at >= since, call_records.c.started_at < until)
    if intake_line:
        query = query.where(call_records.c.intake_line == intake_line)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).one()
    offered = row.offered or 0
    return {"offered": offered, "answered": row.answered or 0, "abandoned": int(row.abandoned or 0),
            "answer_rate": round((row.answered or 0) / offered, 4) if offered else None,
            "avg_wait_seconds": round(float(row.avg_wait), 1) if row.avg_wait is not None else None}
