"""Knowledge fixtures: search indexes on every backend, a fake Elasticsearch, a test user middleware."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from hotline.db import make_engine
from tests.conftest import clone_pg

ES_URL = os.environ.get("HOTLINE_ELASTICSEARCH_URL")
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

BACKENDS = [
    "embedded-sqlite",
    pytest.param("embedded-postgres", marks=pytest.mark.postgres),
    "semantic-sqlite",  # the embedded index with the semantic stage around it (knowledge.semantic)
    pytest.param("elasticsearch", marks=pytest.mark.skipif(
        not ES_URL, reason="set HOTLINE_ELASTICSEARCH_URL to run the contract suite against Elasticsearch")),
]


@dataclass
class User:
    """The shape the core's auth puts on ``request["user"]``."""

    username: str
    role: str
    unit_id: int | None = None


def user_middleware(header: str = "X-Test-User"):
    """Test-only auth: ``X-Test-User: role:username[:unit_id]`` becomes request["user"]."""

    @web.middleware
    async def middleware(request, handler):
        raw = request.headers.get(header)
        if raw:
            role, username, *unit = raw.split(":")
            request["user"] = User(username, role, int(unit[0]) if unit else None)
        return await handler(request)

    return middleware


@pytest.fixture(params=BACKENDS)
def backend_name(request) -> str:
    return request.param


@pytest.fixture
def index_store_url(request, backend_name, tmp_path) -> str | None:
    if backend_name in ("embedded-sqlite", "semantic-sqlite"):
        path = tmp_path / "hotline.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    if backend_name == "embedded-postgres":
        return clone_pg(request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template"))
    return None


@pytest.fixture
async def index_factory(request, backend_name, index_store_url):
    """``await make()`` opens a search index on the test's store; calling it twice gives two
    instances over the same data (a restart, or a second process)."""
    from knowledge.search.embedded import EmbeddedSearchIndex
    from knowledge.synonyms import SynonymSet
    from knowledge.tokenize import Tokenizer

    synonyms = SynonymSet()
    tokenizer = Tokenizer(synonyms.terms())
    opened, engines = [], []
    url = index_store_url
    prefix = f"hotline-test-{uuid.uuid4().hex[:8]}"

    async def make():
        if backend_name.startswith(("embedded", "semantic")):
            engine = make_engine(url)
            engines.append(engine)
            index = EmbeddedSearchIndex(engine, tokenizer=tokenizer, synonyms=SynonymSet())
            if backend_name.startswith("semantic"):
                from knowledge.semantic import wrap

                encoder = request.getfixturevalue("semantic_encoder")
                index = wrap(index, engine, encoder=encoder)
        else:
            from elasticsearch import AsyncElasticsearch

            from knowledge.search.elasticsearch import ElasticsearchIndex

            index = ElasticsearchIndex(AsyncElasticsearch(ES_URL), prefix=prefix, tokenizer=tokenizer,
                                       synonyms=SynonymSet(), owns_client=True)
        await index.open()
        opened.append(index)
        return index

    yield make
    if backend_name == "elasticsearch" and opened:
        await opened[0].client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True)
    for index in opened:
        await index.close()
    for engine in engines:
        await engine.dispose()


@pytest.fixture(scope="session")
def semantic_encoder(tmp_path_factory):
    """The real e5 encoder (``hotline[semantic]``), its int8 model built once per test session."""
    from knowledge.semantic import make_encoder

    cache = tmp_path_factory.mktemp("models")
    encoder = make_encoder(cache)
    encoder.cache = cache
    return encoder


@pytest.fixture
async def fake_es(aiohttp_server):
    from tests.knowledge.fake_es import FakeElasticsearch

    fake = FakeElasticsearch()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/"))
    return fake
