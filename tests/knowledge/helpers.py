"""Small builders shared by the knowledge tests (rows written with SQLAlchemy Core, like the core does)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from hotline.tables import categories, ticket_messages, tickets, units
from tests.knowledge.conftest import User

UNITS_CSV = Path(__file__).resolve().parents[2] / "hotline" / "demo_data" / "units.csv"
EDITOR = User("editor1", "dispatcher")
ADMIN = User("admin1", "admin")


async def seed_units(engine, now: dt.datetime) -> dict[str, int]:
    """The demo city's units (from the core's demo data); returns code -> id."""
    with UNITS_CSV.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh)]
    async with engine.begin() as conn:
        for r in rows:
            await conn.execute(units.insert().values(code=r["code"], name=r["name"], kind=r["kind"], contacts=[],
                                                     notify_channels=[], active=True, created_at=now))
        found = (await conn.execute(sa.select(units.c.code, units.c.id))).all()
    return {code: id_ for code, id_ in found}


async def seed_categories(engine) -> None:
    """The demo city's category taxonomy (an article's category must be one of it)."""
    from hotline.demo import demo_file
    from hotline.directory import import_categories

    async with engine.begin() as conn:
        await import_categories(conn, demo_file("categories.csv"))


async def add_ticket(engine, now: dt.datetime, number: str, text: str, *, unit_id=None, state="replied",
                     replies=(), category_code=None, title=None) -> int:
    async with engine.begin() as conn:
        category_id = None
        if category_code:
            category_id = (await conn.execute(sa.select(categories.c.id).where(
                categories.c.code == category_code))).scalar()
            if category_id is None:
                category_id = (await conn.execute(categories.insert().values(
                    code=category_code, name=category_code, level=1).returning(categories.c.id))).scalar_one()
        ticket_id = (await conn.execute(tickets.insert().values(
            number=number, channel="phone", intake_line="12345", request_type="投诉", text=text, title=title,
            state=state, lead_unit_id=unit_id, category_id=category_id, created_at=now, updated_at=now,
            version=1, reopen_count=0, urge_count=0, publishable=False,
        ).returning(tickets.c.id))).scalar_one()
        await conn.execute(ticket_messages.insert().values(ticket_id=ticket_id, direction="in", channel="phone",
                                                           text=text, attachments=[], created_at=now))
        for reply in replies:
            await conn.execute(ticket_messages.insert().values(ticket_id=ticket_id, direction="out",
                                                               channel="phone", text=reply, attachments=[],
                                                               created_at=now))
    return ticket_id


@dataclass
class IntakeResultDouble:
    ticket_id: int
    ticket_number: str
    created: bool = True
    duplicate: bool = False
    threaded: bool = False


@dataclass
class TicketServiceDouble:
    """TEST DOUBLE of the core TicketService's methods the chatbot uses (ingest, get_ticket_by_number,
    recent_tickets_of)."""

    messages: list = field(default_factory=list)
    tickets: dict = field(default_factory=dict)

    async def ingest(self, message):
        for number, t in self.tickets.items():
            if t["external_id"] == (message.channel, message.external_id):
                return IntakeResultDouble(t["id"], number, created=False, duplicate=True)
        self.messages.append(message)
        number = f"20261123{len(self.tickets) + 1:05d}"
        self.tickets[number] = {
            "id": len(self.tickets) + 1, "number": number, "state": "dispatched", "state_label": "已派单",
            "lead_unit_name": "云州市城市管理局", "reply_due_at": "2026-11-30T10:00:00+08:00", "satisfaction": None,
            "external_id": (message.channel, message.external_id),
            "citizen": {"identities": [{"kind": message.sender.kind, "value": message.sender.value}]},
        }
        return IntakeResultDouble(len(self.tickets), number)

    async def get_ticket_by_number(self, number):
        return self.tickets.get(number)

    async def recent_tickets_of(self, identity, limit=3):
        mine = [t for t in self.tickets.values()
                if {"kind": identity.kind, "value": identity.value} in t["citizen"]["identities"]]
        return [{"number": t["number"], "title": None, "state": t["state"], "state_label": t["state_label"]}
                for t in reversed(mine)][:limit]


async def load_demo(engine, clock, index) -> dict[str, int]:
    """The packaged 云州市 demo articles, published and indexed; returns external id -> article id."""
    import sqlalchemy as sa

    from knowledge.articles import ArticleService
    from knowledge.data import DEMO_ARTICLES
    from knowledge.importer import Columns, import_file
    from knowledge.tables import kb_articles

    await seed_units(engine, clock.now())
    await seed_categories(engine)
    service = ArticleService(engine, clock, index=index)
    report = await import_file(service, EDITOR, DEMO_ARTICLES,
                               Columns("id", "title", "body", "category", "unit", "keywords"))
    assert report.failed == [] and report.created >= 30
    async with engine.connect() as conn:
        return dict((await conn.execute(sa.select(kb_articles.c.external_id, kb_articles.c.id))).all())


async def demo_app_client(aiohttp_client, engine, clock, tmp_path):
    """A test client of the whole application (every plugin) on ``engine`` with the demo knowledge base loaded."""
    from hotline import appkeys
    from hotline.app import create_app
    from hotline.config import Settings

    app = create_app(Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None),
                     engine=engine, clock=clock)
    client = await aiohttp_client(app)
    await load_demo(engine, clock, app[appkeys.SEARCH])
    return client


async def demo_bot(engine, clock):
    """A chatbot over the demo knowledge base (embedded index, database dialogue store, a ticket service
    double) and ``publish(title, body_html, unit, keywords)``, which publishes one more article."""
    from knowledge.articles import ArticleService
    from knowledge.chatbot import Chatbot
    from knowledge.dialogue import DbDialogueStore
    from knowledge.search.embedded import EmbeddedSearchIndex

    index = EmbeddedSearchIndex(engine)
    await index.open()
    await load_demo(engine, clock, index)
    articles = ArticleService(engine, clock, index=index)

    async def publish(title: str, body_html: str, unit: str | None, keywords=()) -> int:
        art = await articles.create(EDITOR, {"title": title, "body": body_html, "category": "C1103", "unit": unit,
                                            "keywords": list(keywords)})
        await articles.transition(EDITOR, art["id"], "publish")
        return art["id"]

    bot = Chatbot(engine=engine, index=index, service=TicketServiceDouble(), store=DbDialogueStore(engine, clock),
                  clock=clock)
    return bot, publish


async def web_say(client, user: str, text: str) -> dict:
    """One message to the web chatbot of an app test client (``client`` from :func:`demo_app_client`)."""
    from hotline import appkeys

    client.app[appkeys.CLOCK].advance(seconds=5)  # under the web chatbot's 20 messages a minute
    resp = await client.post("/api/v1/chatbot/messages", json={"user_id": user, "text": text})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def article_setup(engine, clock):
    """An article service over an embedded index on ``engine``, and a unit user of the gas and of the water
    company: ``(service, index, gas, water, unit ids)``."""
    from knowledge.articles import ArticleService
    from knowledge.search.embedded import EmbeddedSearchIndex

    ids = await seed_units(engine, clock.now())
    index = EmbeddedSearchIndex(engine)
    await index.open()
    service = ArticleService(engine, clock, index=index)
    return service, index, User("gas-editor", "unit", ids["gas"]), User("water-editor", "unit", ids["water"]), ids
