"""What each channel's tests provide so ``test_contract.py`` can check its adapter.

Every registered channel ``<name>`` has ``tests/channels/<name>/contract.py``
defining ``CASE``, an instance of a :class:`ContractCase` subclass, and a
non-empty ``tests/channels/<name>/fixtures/`` folder of recorded real-format
payloads. The contract test then, for each adapter:

1. checks the class: ``name`` equals the registry key, it subclasses
   ``ChannelAdapter``, its ``settings_class`` is listed in ``SETTINGS_CLASSES``;
2. builds the app with the adapter (settings from ``make_settings``, which may
   start fake platform servers on 127.0.0.1 and register their shutdown on
   ``stack``) and checks every route it added is under ``/channels/<name>``;
3. sends ``bad_signature_request()``: expects 401/403 with the JSON error
   body ``{"error": {"code", "message"}}`` and nothing written to
   ``ticket_messages``/``tickets``;
4. sends ``unknown_event_request()``: expects ``check_ack`` to pass (default:
   2xx) and nothing written;
5. sends ``valid_request()``: expects 2xx, awaits ``adapter.settle()``, then
   ``check_valid`` must pass (default: exactly one ``ticket_messages`` row of
   this channel);
6. calls ``adapter.send(outbound())``: expects a ``SendResult`` whose ``ok``
   equals ``send_ok``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import sqlalchemy as sa
from pydantic_settings import BaseSettings

from hotline.messages import OutboundMessage


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


class ContractCase:
    name: str
    send_ok: bool = True

    async def make_settings(self, stack: contextlib.AsyncExitStack) -> BaseSettings:
        raise NotImplementedError

    def bad_signature_request(self) -> Req:
        raise NotImplementedError

    def unknown_event_request(self) -> Req:
        raise NotImplementedError

    def valid_request(self) -> Req:
        raise NotImplementedError

    def outbound(self) -> OutboundMessage:
        raise NotImplementedError

    def check_ack(self, status: int, body: bytes) -> None:
        assert 200 <= status < 300, (status, body)

    async def check_valid(self, engine) -> None:
        from hotline.tables import ticket_messages

        async with engine.connect() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(ticket_messages)
                                        .where(ticket_messages.c.channel == self.name))).scalar_one()
        assert count == 1
