"""Embedded index internals: delta segment merged into a new main segment while writes continue."""

from __future__ import annotations

import asyncio

import knowledge.search.embedded as embedded
from knowledge.search.base import SearchDoc, SearchFilters
from knowledge.search.embedded import EmbeddedSearchIndex


def doc(i: int, body: str, status: str = "published") -> SearchDoc:
    return SearchDoc(kind="article", ref_id=str(i), title=f"通知{i}", body=body, status=status)


async def test_merge_keeps_writes_made_during_the_build(monkeypatch):
    monkeypatch.setattr(embedded, "DELTA_LIMIT", 10)
    index = EmbeddedSearchIndex(None)
    await index.open()
    await index.upsert([doc(i, f"第{i}号自来水管网改造") for i in range(8)])
    assert index._merging is None
    await index.upsert([doc(i, f"第{i}号燃气管道检修") for i in range(8, 14)])  # delta 14 > 10: merge starts
    merge = index._merging
    assert merge is not None
    await asyncio.sleep(0)  # the merge has taken its snapshot and is building in a thread
    await index.upsert([doc(3, "第3号改为供电线路改造")])
    await index.delete(["article:9"])
    await merge
    assert index._main.segment.size == 14 and not index._main.alive[index._main.index["article:3"]]
    assert [h.key for h in (await index.search("供电线路")).hits] == ["article:3"]
    assert "article:3" not in [h.key for h in (await index.search("自来水管网")).hits]
    assert (await index.search("自来水管网")).total == 7
    assert {h.key for h in (await index.search("燃气管道", limit=20)).hits} == {
        f"article:{i}" for i in range(8, 14) if i != 9}
    assert await index.count() == 13


async def test_status_filter_and_empty_query():
    index = EmbeddedSearchIndex(None)
    await index.open()
    await index.upsert([doc(1, "停车收费", "draft"), doc(2, "停车罚款", "published")])
    assert [h.key for h in (await index.search("停车", SearchFilters(status=("published",)))).hits] == ["article:2"]
    assert (await index.search("？！")).total == 0
