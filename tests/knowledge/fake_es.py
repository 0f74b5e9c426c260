"""A small HTTP server on 127.0.0.1 that answers the Elasticsearch endpoints the backend uses.

It records every request (method, path, query string, JSON/NDJSON body) so
tests can check exactly what the backend sends: the index template, bulk
bodies, alias actions and query DSL. It keeps indices, aliases and documents
in memory and evaluates ``bool`` queries crudely (token overlap on the
``match`` fields, exact ``term``/``terms``/``range`` filters) — enough to
exercise the client code path, not a stand-in for Elasticsearch's ranking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from aiohttp import web

HEADERS = {"X-Elastic-Product": "Elasticsearch", "Content-Type": "application/json"}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    body: object


@dataclass
class FakeElasticsearch:
    requests: list[Recorded] = field(default_factory=list)
    templates: dict = field(default_factory=dict)
    indices: dict = field(default_factory=dict)   # name -> {"docs": {id: source}, "settings": {...}}
    aliases: dict = field(default_factory=dict)   # alias -> set of index names
    fail: bool = False                            # answer 503 to everything (engine down)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        r = app.router
        r.add_put("/_index_template/{name}", self.put_template)
        r.add_route("HEAD", "/_alias/{name}", self.head_alias)
        r.add_get("/_alias/{name}", self.get_alias, allow_head=False)
        r.add_post("/_aliases", self.update_aliases)
        r.add_put("/_bulk", self.bulk)
        r.add_post("/_bulk", self.bulk)
        r.add_post("/{index}/_search", self.search)
        r.add_post("/{index}/_count", self.count)
        r.add_get("/{index}/_count", self.count, allow_head=False)
        r.add_post("/{index}/_refresh", self.refresh)
        r.add_put("/{index}/_mapping", self.put_mapping)
        r.add_put("/{index}", self.create_index)
        r.add_delete("/{index}", self.delete_index)
        return app

    def of(self, method: str, suffix: str) -> list[Recorded]:
        return [x for x in self.requests if x.method == method and x.path.endswith(suffix)]

    @web.middleware
    async def _record(self, request: web.Request, handler):
        raw = await request.text()
        if "ndjson" in request.headers.get("Content-Type", ""):
            body = [json.loads(line) for line in raw.splitlines() if line.strip()]
        else:
            body = json.loads(raw) if raw else None
        self.requests.append(Recorded(request.method, request.path, dict(request.query), body))
        request["body"] = body
        if self.fail:
            return _json({"error": {"type": "unavailable"}, "status": 503}, 503)
        return await handler(request)

    def _resolve(self, name: str) -> list[str]:
        if name in self.aliases:
            return sorted(self.aliases[name])
        return [name] if name in self.indices else []

    async def put_template(self, request):
        self.templates[request.match_info["name"]] = request["body"]
        return _json({"acknowledged": True})

    async def head_alias(self, request):
        found = request.match_info["name"] in self.aliases and self.aliases[request.match_info["name"]]
        return web.Response(status=200 if found else 404, headers={"X-Elastic-Product": "Elasticsearch"})

    async def get_alias(self, request):
        name = request.match_info["name"]
        if not self.aliases.get(name):
            return _json({"error": f"alias [{name}] missing", "status": 404}, 404)
        return _json({index: {"aliases": {name: {}}} for index in sorted(self.aliases[name])})

    async def update_aliases(self, request):
        for action in request["body"]["actions"]:
            (kind, spec), = action.items()
            members = self.aliases.setdefault(spec["alias"], set())
            (members.add if kind == "add" else members.discard)(spec["index"])
        return _json({"acknowledged": True})

    async def create_index(self, request):
        name = request.match_info["index"]
        if name in self.indices:
            return _json({"error": {"type": "resource_already_exists_exception"}, "status": 400}, 400)
        self.indices[name] = {"docs": {}, "body": request["body"]}
        for alias in ((request["body"] or {}).get("aliases") or {}):
            self.aliases.setdefault(alias, set()).add(name)
        return _json({"acknowledged": True, "shards_acknowledged": True, "index": name})

    async def put_mapping(self, request):
        for name in self._resolve(request.match_info["index"]):
            self.indices[name].setdefault("mapping_updates", []).append(request["body"])
        return _json({"acknowledged": True})

    async def delete_index(self, request):
        name = request.match_info["index"]
        if name not in self.indices:
            return _json({"error": {"type": "index_not_found_exception"}, "status": 404}, 404)
        del self.indices[name]
        for members in self.aliases.values():
            members.discard(name)
        return _json({"acknowledged": True})

    async def refresh(self, request):
        return _json({"_shards": {"total": 1, "successful": 1, "failed": 0}})

    async def bulk(self, request):
        body, items, i = request["body"], [], 0
        while i < len(body):
            (op, meta), = body[i].items()
            targets = self._resolve(meta["_index"])
            if op == "index":
                for t in targets:
                    self.indices[t]["docs"][meta["_id"]] = body[i + 1]
                items.append({"index": {"_index": targets[0], "_id": meta["_id"], "status": 201}})
                i += 2
            elif op == "delete":
                found = any(self.indices[t]["docs"].pop(meta["_id"], None) for t in targets)
                items.append({"delete": {"_id": meta["_id"], "status": 200 if found else 404}})
                i += 1
            else:
                raise web.HTTPBadRequest()
        return _json({"took": 1, "errors": False, "items": items})

    def _docs(self, index: str) -> list[dict]:
        out = []
        for name in self._resolve(index):
            out.extend(self.indices[name]["docs"].values())
        return out

    async def search(self, request):
        body = request["body"]
        functions, q = [], body["query"]
        if "function_score" in q:  # score_mode "first", boost_mode "multiply" (what the backend sends)
            functions, q = q["function_score"]["functions"], q["function_score"]["query"]
        q = q["bool"]
        hits = []
        for doc in self._docs(request.match_info["index"]):
            if not all(_filter_ok(f, doc) for f in q.get("filter", [])):
                continue
            score = 0.0
            for clause in q.get("should", []):
                (fieldname, spec), = clause["match"].items()
                tokens = set(doc.get(fieldname, "").split())
                score += spec.get("boost", 1.0) * sum(1 for t in spec["query"].split() if t in tokens)
            score *= next((fn["weight"] for fn in functions if _filter_ok(fn["filter"], doc)), 1.0)
            if score > 0:
                excluded = request.query.get("_source_excludes", "").split(",")
                source = {k: v for k, v in doc.items() if k not in excluded}
                hits.append({"_id": doc["key"], "_score": score, "_source": source})
        hits.sort(key=lambda h: -h["_score"])
        return _json({"took": 1, "timed_out": False, "hits": {
            "total": {"value": len(hits), "relation": "eq"}, "max_score": hits[0]["_score"] if hits else None,
            "hits": hits[: body.get("size", 10)]}})

    async def count(self, request):
        return _json({"count": len(self._docs(request.match_info["index"]))})


def _matches(clause: dict, doc: dict) -> bool:
    """A ``match`` on a whitespace-tokenized field: any query token, or all of them with operator "and"."""
    (fieldname, spec), = clause["match"].items()
    tokens, wanted = set(doc.get(fieldname, "").split()), spec["query"].split()
    return (all if spec.get("operator") == "and" else any)(t in tokens for t in wanted) and bool(wanted)


def _filter_ok(f: dict, doc: dict) -> bool:
    (kind, spec), = f.items()
    if kind == "bool":  # should + minimum_should_match 1 (the backend's anchor clause)
        assert spec["minimum_should_match"] == 1 and set(spec) == {"should", "minimum_should_match"}
        return any(_matches(c, doc) if "match" in c else _filter_ok(c, doc) for c in spec["should"])
    if kind == "exists":
        return bool(doc.get(spec["field"]))
    (fieldname, value), = spec.items()
    if kind == "terms" and isinstance(doc.get(fieldname), list):  # a multi-valued keyword field
        return bool(set(doc[fieldname]) & set(value))
    if kind == "term":
        return doc.get(fieldname) == value
    if kind == "terms":
        return doc.get(fieldname) in value
    if kind == "range":
        v = doc.get(fieldname)
        return v is not None and ("gte" not in value or v >= value["gte"]) and ("lte" not in value or v <= value["lte"])
    raise AssertionError(f"unexpected filter {f}")


def _json(data, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, headers=HEADERS)
