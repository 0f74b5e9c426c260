"""Indexing the largest article allowed keeps the event loop free, and concurrent writes apply in call order."""

from __future__ import annotations

import asyncio
import csv
import time

from knowledge.article_input import MAX_BODY, MAX_KEYWORD_CHARS, MAX_KEYWORDS, MAX_TITLE
from knowledge.data import DEMO_ARTICLES
from knowledge.sanitize import plain_text
from knowledge.search.base import SearchDoc
from knowledge.search.embedded import EmbeddedSearchIndex


def largest_article(ref_id: str = "1") -> SearchDoc:
    """Real article text repeated to the body limit, with the most and longest keywords allowed."""
    with open(DEMO_ARTICLES, encoding="utf-8") as fh:
        text = "".join(plain_text(r["body"]) for r in csv.DictReader(fh))
    body = (text * (MAX_BODY // len(text) + 1))[:MAX_BODY]
    keywords = [f"{i:02d}" + ("住房公积金提取社会保险缴费" * 5)[:MAX_KEYWORD_CHARS - 2] for i in range(MAX_KEYWORDS)]
    return SearchDoc(kind="article", ref_id=ref_id, title=("燃气安全须知" * 60)[:MAX_TITLE], body=body,
                     status="published", extra={"keywords": keywords})


async def _longest_stall(work) -> float:
    """Run ``work`` while a ticker measures the longest time the event loop could not run it."""
    done, worst = asyncio.Event(), 0.0

    async def ticker():
        nonlocal worst
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - started - 0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    try:
        await work
    finally:
        done.set()
        await task
    return worst


async def test_indexing_the_largest_article_allowed_does_not_block_the_event_loop(engine):
    index = EmbeddedSearchIndex(engine)
    await index.open()
    started = time.perf_counter()
    stall = await _longest_stall(index.upsert([largest_article()]))
    took = time.perf_counter() - started
    # jieba over 200 000 characters takes about a second; it used to run on the loop (a 1.06 s stall)
    assert stall < 0.3, f"event loop blocked {stall:.2f}s while indexing took {took:.2f}s"
    assert [h.key for h in (await index.search("燃气安全须知")).hits] == ["article:1"]


async def test_a_slowly_tokenised_older_copy_never_replaces_a_newer_one(engine):
    index = EmbeddedSearchIndex(engine)
    await index.open()
    older = asyncio.create_task(index.upsert([largest_article("7")]))  # tokenised in a thread for about a second
    await asyncio.sleep(0)
    newer = SearchDoc(kind="article", ref_id="7", title="路灯报修", body="道路路灯不亮请拨打12345。", status="published")
    await index.upsert([newer])  # called later, tokenised at once: still applied after the older copy
    await older
    stored = EmbeddedSearchIndex(engine)  # what another process loads
    await stored.open()
    for reader in (index, stored):
        assert [h.title for h in (await reader.search("路灯")).hits] == ["路灯报修"]
        assert (await reader.search("燃气安全须知")).total == 0
