"""The Elasticsearch backend (official async client).

Text is tokenized here with jieba (see :mod:`knowledge.tokenize`) and sent as
space-separated tokens into fields analysed by a plain whitespace analyzer, so
no Chinese plugin is needed on the server. Documents are written with the bulk
API; the index is reached through an alias, and ``reindex`` builds a new
concrete index and swaps the alias atomically (zero downtime).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterable, Sequence
from typing import Any

from knowledge.places import (
    OTHER_REGION_PENALTY, QUERY_PLACE_WEIGHT, SAME_REGION_BOOST, Places, QueryRegions, default_places,
)
from knowledge.search.base import (
    SYNONYM_WEIGHT, DocSource, SearchDoc, SearchFilters, SearchIndex, SearchResult,
    QueryTerms, doc_text, highlight_terms, make_hit, query_terms,
)
from knowledge.synonyms import SynonymSet
from knowledge.tokenize import Tokenizer

BULK_CHUNK = 500
BIGRAM_BOOST = 0.5


def index_template(prefix: str, replicas: int = 0) -> dict[str, Any]:
    """The index template every concrete ``<prefix>-<n>`` index is created from."""
    return {
        "index_patterns": [f"{prefix}-*"],
        "template": {
            "settings": {
                "number_of_shards": 1,
                "number_of_replicas": replicas,
                "analysis": {"analyzer": {"hotline_tokens": {
                    "type": "custom", "tokenizer": "whitespace", "filter": ["lowercase"]}}},
                "similarity": {"hotline_bm25": {"type": "BM25", "k1": 1.2, "b": 0.9}},
            },
            "mappings": {
                "dynamic": "strict",
                "properties": {
                    "key": {"type": "keyword"},
                    "kind": {"type": "keyword"},
                    "ref_id": {"type": "keyword"},
                    "title": {"type": "text", "index": False},
                    "body": {"type": "text", "index": False},
                    "words": {"type": "text", "analyzer": "hotline_tokens", "similarity": "hotline_bm25"},
                    "bigrams": {"type": "text", "analyzer": "hotline_tokens", "similarity": "hotline_bm25"},
                    "regions": {"type": "keyword"},
                    "category": {"type": "keyword"},
                    "unit": {"type": "keyword"},
                    "status": {"type": "keyword"},
                    "date": {"type": "date"},
                    "extra": {"type": "object", "enabled": False},
                },
            },
        },
    }


def build_query(terms: QueryTerms, filters: SearchFilters | None,
                place_words: Sequence[str] = (), regions: QueryRegions | None = None) -> dict[str, Any]:
    """The query DSL: BM25 on jieba words, synonyms and bigrams at lower boosts, filters as non-scoring clauses.

    Place words count ``QUERY_PLACE_WEIGHT`` times; with regions in the query, scores are multiplied
    as the embedded backend's re-rank does (:func:`knowledge.places.rerank_factor`). A document must
    contain one of the query's anchors (:meth:`QueryTerms.anchors`), as in the embedded backend.
    """
    words, added, bigrams = terms.words, terms.added, terms.bigrams
    should: list[dict] = []
    if words:
        should.append({"match": {"words": {"query": " ".join(words)}}})
    if place_words:
        should.append({"match": {"words": {"query": " ".join(place_words), "boost": QUERY_PLACE_WEIGHT - 1}}})
    if added:
        should.append({"match": {"words": {"query": " ".join(added), "boost": SYNONYM_WEIGHT}}})
    if bigrams:
        should.append({"match": {"bigrams": {"query": " ".join(bigrams), "boost": BIGRAM_BOOST}}})
    flt: list[dict] = []
    if terms.anchored:
        anchor_words, anchor_bigrams, bigram_groups = terms.anchors()
        anchors = [{"match": {"words": {"query": " ".join(anchor_words)}}}]
        if anchor_bigrams:
            anchors.append({"match": {"bigrams": {"query": " ".join(anchor_bigrams)}}})
        anchors.extend({"match": {"bigrams": {"query": " ".join(group), "operator": "and"}}}
                       for group in bigram_groups if group)
        flt.append({"bool": {"should": anchors, "minimum_should_match": 1}})
    f = filters or SearchFilters()
    if f.kinds:
        flt.append({"terms": {"kind": list(f.kinds)}})
    if f.category:
        flt.append({"prefix": {"category": f.category}})  # a category and the ones under it (C01: C010101)
    if f.unit:
        flt.append({"term": {"unit": f.unit}})
    if f.status:
        flt.append({"terms": {"status": list(f.status)}})
    if f.ref_ids:
        flt.append({"terms": {"ref_id": list(f.ref_ids)}})
    if f.date_from or f.date_to:
        rng = {}
        if f.date_from:
            rng["gte"] = f.date_from.isoformat()
        if f.date_to:
            rng["lte"] = f.date_to.isoformat()
        flt.append({"range": {"date": rng}})
    query = {"bool": {"should": should, "minimum_should_match": 1, "filter": flt}}
    if not regions:
        return query
    functions = [{"filter": {"terms": {"regions": sorted(regions.named)}}, "weight": SAME_REGION_BOOST}]
    if regions.within - regions.named:
        functions.append({"filter": {"terms": {"regions": sorted(regions.within)}}, "weight": 1.0})
    functions.append({"filter": {"exists": {"field": "regions"}}, "weight": OTHER_REGION_PENALTY})
    return {"function_score": {"query": query, "score_mode": "first", "boost_mode": "multiply",
                               "functions": functions}}


class ElasticsearchIndex(SearchIndex):
    def __init__(self, client, *, prefix: str = "hotline-kb", tokenizer: Tokenizer | None = None,
                 synonyms: SynonymSet | None = None, refresh: str | bool = "wait_for",
                 replicas: int = 0, owns_client: bool = False, places: Places | None = None) -> None:
        self.client = client
        self.alias = prefix
        self.prefix = prefix
        self.synonyms = synonyms or SynonymSet()
        self.tokenizer = tokenizer or Tokenizer(self.synonyms.terms())
        self.use_places(places or default_places())
        self.refresh = refresh
        self.replicas = replicas
        self.owns_client = owns_client
        self._shadow: str | None = None  # the index being built by reindex
        self._opened = False

    def _new_index_name(self) -> str:
        return f"{self.prefix}-{time.time_ns()}"

    async def open(self) -> None:
        tpl = index_template(self.prefix, self.replicas)
        await self.client.indices.put_index_template(
            name=f"{self.prefix}-template", index_patterns=tpl["index_patterns"], template=tpl["template"])
        if not await self.client.indices.exists_alias(name=self.alias):
            name = self._new_index_name()
            await self.client.indices.create(index=name, aliases={self.alias: {"is_write_index": True}})
        else:  # an index made from an older template: add the fields added since (mappings only grow)
            await self.client.indices.put_mapping(index=self.alias, properties={"regions": {"type": "keyword"}})
        self._opened = True

    async def _ensure_open(self) -> None:
        """Opening failed earlier (server down at startup): try again now."""
        if not self._opened:
            await self.open()

    async def close(self) -> None:
        if self.owns_client:
            await self.client.close()

    def _source(self, doc: SearchDoc) -> dict[str, Any]:
        text = doc_text(doc)
        words = self.tokenizer.words(text)
        return {
            "key": doc.key, "kind": doc.kind, "ref_id": str(doc.ref_id), "title": doc.title or "",
            "body": doc.body or "", "words": " ".join(words),
            "bigrams": " ".join(self.tokenizer.bigrams(text)), "regions": sorted(self.places.regions(words)),
            "category": doc.category, "unit": doc.unit,
            "status": doc.status, "date": doc.date.isoformat() if doc.date else None, "extra": doc.extra or {},
        }

    def bulk_operations(self, docs: list[SearchDoc], index: str) -> list[dict[str, Any]]:
        ops: list[dict[str, Any]] = []
        for doc in docs:
            ops.append({"index": {"_index": index, "_id": doc.key}})
            ops.append(self._source(doc))
        return ops

    async def _bulk(self, operations: list[dict], refresh) -> None:
        if not operations:
            return
        resp = await self.client.bulk(operations=operations, refresh=refresh)
        if resp.get("errors"):
            failed = [item for item in resp["items"] if next(iter(item.values())).get("error")]
            raise RuntimeError(f"Elasticsearch bulk failed for {len(failed)} items: {failed[:3]}")

    async def upsert(self, docs: Iterable[SearchDoc]) -> int:
        docs = list(docs)
        await self._ensure_open()
        for i in range(0, len(docs), BULK_CHUNK):
            chunk = docs[i:i + BULK_CHUNK]
            # jieba over the documents is CPU work (about a second for a 200 000-character article): off the loop
            await self._bulk(await asyncio.to_thread(self.bulk_operations, chunk, self.alias), self.refresh)
            if self._shadow:
                await self._bulk(await asyncio.to_thread(self.bulk_operations, chunk, self._shadow), False)
        return len(docs)

    async def delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        targets = [self.alias] + ([self._shadow] if self._shadow else [])
        ops = [{"delete": {"_index": t, "_id": k}} for t in targets for k in keys]
        if ops:
            resp = await self.client.bulk(operations=ops, refresh=self.refresh)
            for item in resp.get("items", []):
                result = item.get("delete", {})
                if result.get("error") and result.get("status") != 404:
                    raise RuntimeError(f"Elasticsearch delete failed: {result['error']}")

    async def search(self, query: str, filters: SearchFilters | None = None, limit: int = 10) -> SearchResult:
        terms = query_terms(self.tokenizer, self.synonyms, query)
        words, added = terms.words, terms.added
        if not words:  # nothing but question and filler words (请问怎么办？): no topic to search for
            return SearchResult([], 0)
        await self._ensure_open()
        resp = await self.client.search(
            index=self.alias, size=limit,
            query=build_query(terms, filters, [w for w in words if self.places.is_place(w)],
                              self.places.query_regions(words)),
            track_total_hits=True, source_excludes=["words", "bigrams"])
        marked = highlight_terms(words, added)
        hits = []
        for h in resp["hits"]["hits"]:
            s = h["_source"]
            hits.append(make_hit(
                key=s["key"], kind=s["kind"], ref_id=s["ref_id"], score=float(h.get("_score") or 0.0),
                title=s.get("title") or "", body=s.get("body") or "", terms=marked, category=s.get("category"),
                unit=s.get("unit"), status=s.get("status"),
                date=dt.datetime.fromisoformat(s["date"]) if s.get("date") else None, extra=s.get("extra") or {}))
        total = resp["hits"]["total"]
        return SearchResult(hits, total["value"] if isinstance(total, dict) else int(total))

    async def count(self) -> int:
        return int((await self.client.count(index=self.alias))["count"])

    async def _alias_targets(self) -> list[str]:
        if not await self.client.indices.exists_alias(name=self.alias):
            return []
        return list(await self.client.indices.get_alias(name=self.alias))

    async def reindex(self, source: DocSource) -> int:
        """Build ``<prefix>-<n>``, bulk-load it, then move the alias to it in one atomic action."""
        new = self._new_index_name()
        await self.client.indices.create(index=new)
        self._shadow = new
        count = 0
        try:
            async for batch in source():
                for i in range(0, len(batch), BULK_CHUNK):
                    await self._bulk(self.bulk_operations(batch[i:i + BULK_CHUNK], new), False)
                count += len(batch)
            await self.client.indices.refresh(index=new)
            old = await self._alias_targets()
            actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
            actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
            await self.client.indices.update_aliases(actions=actions)
        except Exception:
            self._shadow = None
            await self.client.indices.delete(index=new, ignore_unavailable=True)
            raise
        self._shadow = None
        for name in old:
            await self.client.indices.delete(index=name, ignore_unavailable=True)
        return count
