"""HTTP API of the routing package and its application setup.

Routes (JSON unless noted):
  POST /api/v1/routing/suggest       agents, dispatchers, leaders, admins: suggestion for a text
  GET  /api/v1/routing/rules         dispatchers, admins: the rule table
  PUT  /api/v1/routing/rules         admins: replace the table (JSON {"rules": [...]} or text/csv); ?dry_run=1
                                     (or JSON "dry_run": true) checks it and reports the changes, writing nothing
  GET  /api/v1/routing/rules.csv     admins: export as CSV
  POST /api/v1/routing/reload        admins: hot-swap model and rules
  GET  /api/v1/routing/status        staff: model version and rule count
  GET  /api/v1/routing/audit         dispatchers, leaders, admins: suggestion quality (?since=&until= local dates)
"""

from __future__ import annotations

from pathlib import Path

from collections.abc import AsyncIterator

from aiohttp import web

from hotline.appkeys import ENGINE, ROUTER, SERVICE, SETTINGS
from hotline.lifecycle import REQUEST_TYPES
from hotline.messages import INTAKE_LINES
from hotline.periods import query_period
from routing import store
from routing.audit import routing_audit
from routing.corrections import record_correction
from routing.rules import ENABLED_WORDS, FIELDS, RuleError, RuleTable, Vocabulary, import_report
from routing.service import RoutingService

STAFF = ("agent", "dispatcher", "leader", "admin")
MAX_TEXT = 20_000


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def allowed(request: web.Request, roles: tuple[str, ...]) -> web.Response | None:
    user = request.get("user")
    if user is None:
        return error(401, "unauthorized", "请先登录")
    if getattr(user, "role", None) not in roles:
        return error(403, "forbidden", "没有权限执行此操作")
    return None


SUGGEST_FIELDS = {"text", "title", "intake_line", "channel", "request_type"}


async def suggest(request: web.Request) -> web.Response:
    """The router's suggestion for a text: category, request type, area, units, confidence, alerts."""
    if denied := allowed(request, STAFF):
        return denied
    try:
        body = await request.json()
    except (ValueError, LookupError):  # LookupError: an unknown charset in Content-Type
        return error(400, "bad_request", "请求体必须是 JSON")
    if not isinstance(body, dict):
        return error(400, "bad_request", "请求体必须是 JSON 对象")
    if unknown := sorted(set(body) - SUGGEST_FIELDS):
        return error(400, "bad_request", f"未知字段 {'、'.join(unknown)}（可用：{'、'.join(sorted(SUGGEST_FIELDS))}）")
    if wrong := [k for k in sorted(SUGGEST_FIELDS) if body.get(k) is not None and not isinstance(body[k], str)]:
        return error(400, "bad_request", f"字段 {'、'.join(wrong)} 必须是字符串")
    text = body.get("text")
    if not text or not text.strip():
        return error(400, "bad_request", "缺少诉求内容 text")
    title = body.get("title")
    if len(text) + len(title or "") > MAX_TEXT:
        return error(400, "bad_request", f"诉求内容过长（标题和内容合计最多 {MAX_TEXT} 字）")
    intake_line = str(body.get("intake_line") or "12345")
    if intake_line not in INTAKE_LINES:
        return error(400, "bad_request", f"未知的热线号码 {intake_line}（可用：{'、'.join(INTAKE_LINES)}）")
    request_type = body.get("request_type") or None  # None: the model predicts it
    if request_type is not None and request_type not in REQUEST_TYPES:
        return error(400, "bad_request", f"未知的诉求类型 {request_type}（可用：{'、'.join(REQUEST_TYPES)}）")
    result = await request.app[ROUTER].suggest(
        text, intake_line=intake_line, channel=str(body.get("channel") or ""), title=title,
        request_type=request_type)
    return web.json_response(result)


async def list_rules(request: web.Request) -> web.Response:
    """The routing rule table, in order (first match wins)."""
    if denied := allowed(request, ("dispatcher", "admin")):
        return denied
    await request.app[ROUTER].reload_if_changed()  # a CLI import shows here as it does in suggestions
    return web.json_response({"rules": store.rule_dicts(request.app[ROUTER].rules)})


async def export_rules(request: web.Request) -> web.Response:
    """The routing rule table as CSV (admin), UTF-8 with a BOM so that Excel reads it (imports accept the BOM)."""
    if denied := allowed(request, ("admin",)):
        return denied
    await request.app[ROUTER].reload_if_changed()
    return web.Response(text="\ufeff" + request.app[ROUTER].rules.to_csv_text(), content_type="text/csv",
                        charset="utf-8")


async def import_rules(request: web.Request) -> web.Response:
    """Replace the routing rule table from JSON or CSV (admin); with ``?dry_run=1`` (or a JSON ``"dry_run": true``)
    only check it and say what would change, writing nothing."""
    if denied := allowed(request, ("admin",)):
        return denied
    engine = request.app[ENGINE]
    router = request.app[ROUTER]
    dry_run = flag(request.query.get("dry_run", ""))
    if dry_run is None:
        return error(400, "bad_request", f"无法识别的 dry_run 值 {request.query['dry_run']}（用 1 或 0）")
    try:
        async with engine.begin() as conn:
            known = await store.rule_units(conn)
            # What the router can match rules against: the stored taxonomy (as the router loads it) and its gazetteer.
            vocabulary = Vocabulary.of(await store.load_taxonomy(conn), router.gazetteer)
            if request.content_type == "text/csv":
                try:
                    text = await request.text()
                except (UnicodeDecodeError, LookupError):  # e.g. a GBK export from Excel, or an unknown charset
                    return error(400, "bad_request", "CSV 文件必须是 UTF-8 编码（Excel 中请另存为“CSV UTF-8”）")
                parse = lambda problems: RuleTable.from_csv_text(  # noqa: E731
                    text, known, vocabulary, strict=True, problems=problems)
            else:
                try:
                    body = await request.json()
                except (ValueError, LookupError):
                    return error(400, "bad_request", "请求体必须是 JSON 或 CSV")
                rows = body.get("rules") if isinstance(body, dict) else None
                if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                    return error(400, "bad_request", "请提供 rules 列表")
                if problem := json_problem(body, rows):
                    return error(400, "bad_request", problem)
                dry_run = dry_run or body.get("dry_run", False)
                parse = lambda problems: RuleTable.from_rows(  # noqa: E731
                    rows, known, vocabulary, start=1, strict=True, problems=problems)
            current = await store.load_rules(conn) or RuleTable.default()  # what the router uses now
            if dry_run:
                problems: list[str] = []
                try:
                    table = parse(problems)
                except RuleError as exc:  # a CSV header that cannot be read: no row can be
                    table, problems = RuleTable(), [str(exc)]
                return web.json_response(import_report(table, current, problems, dry_run=True,
                                                       check=store.check_rule_sizes))
            table = parse(None)
            actor = getattr(request.get("user"), "username", "admin")
            await store.replace_rules(conn, table, actor=str(actor))
    except RuleError as exc:
        return error(400, "invalid_rules", str(exc))
    await request.app[ROUTER].reload()
    return web.json_response(import_report(table, current, dry_run=False))


def flag(value: str) -> bool | None:
    """A yes/no query parameter (1/0, true/false, ...; empty is no); None when it is neither."""
    value = value.strip().lower()
    return False if not value else ENABLED_WORDS.get(value)


def json_problem(body: dict, rows: list[dict]) -> str | None:
    """A Chinese message naming the first field of the JSON body that is not part of a rule table (or
    ``dry_run``), a ``dry_run`` that is not true/false, or a rule id given as true/false (which would read as
    1/0); None when there is none."""
    for name in body:
        if name not in ("rules", "dry_run"):
            return f"未知字段 {name}（请求体只能包含 rules 和 dry_run）"
    if not isinstance(body.get("dry_run", False), bool):
        return "dry_run 必须是 true 或 false"
    for n, row in enumerate(rows, start=1):
        for name in row:
            if name not in FIELDS:
                return f"第 {n} 行：未知字段 {name}（可用：{'、'.join(FIELDS)}）"
        if isinstance(row.get("id"), bool):
            return f"第 {n} 行：规则编号必须是整数"
    return None


async def reload(request: web.Request) -> web.Response:
    """Reload the active routing model and rule table now (admin)."""
    if denied := allowed(request, ("admin",)):
        return denied
    return web.json_response(await request.app[ROUTER].reload())


async def status(request: web.Request) -> web.Response:
    """The routing service's active model version, rule count and threshold."""
    if denied := allowed(request, STAFF):
        return denied
    await request.app[ROUTER].reload_if_changed()  # a new models/ACTIVE or CLI import shows here within seconds
    result = request.app[ROUTER].status()
    if getattr(request.get("user"), "role", None) != "admin" and result.get("model_path"):
        result["model_path"] = Path(result["model_path"]).name  # where the server keeps its files is the admins'
    return web.json_response(result)


async def audit(request: web.Request) -> web.Response:
    """How often the router's suggestions were right, per model version, confidence band and threshold."""
    if denied := allowed(request, ("dispatcher", "leader", "admin")):
        return denied
    try:
        since, until = query_period(request.query, request.app[SETTINGS].timezone)
    except ValueError as exc:
        return error(400, "invalid_period", str(exc))
    router = request.app[ROUTER]
    return web.json_response(await routing_audit(request.app[ENGINE], since, until,
                                                 threshold=router.settings.auto_threshold))


def setup(app: web.Application) -> None:
    async def router_ctx(app: web.Application) -> AsyncIterator[None]:
        service = RoutingService(data_dir=app[SETTINGS].data_dir, engine=app[ENGINE])
        await service.reload()
        app[ROUTER] = service
        yield

    app.cleanup_ctx.append(router_ctx)
    ticket_service = app.get(SERVICE)
    if ticket_service is not None and hasattr(ticket_service, "add_listener"):
        ticket_service.add_listener(record_correction)
    app.router.add_post("/api/v1/routing/suggest", suggest)
    app.router.add_get("/api/v1/routing/rules", list_rules)
    app.router.add_put("/api/v1/routing/rules", import_rules)
    app.router.add_get("/api/v1/routing/rules.csv", export_rules)
    app.router.add_post("/api/v1/routing/reload", reload)
    app.router.add_get("/api/v1/routing/status", status)
    app.router.add_get("/api/v1/routing/audit", audit)
