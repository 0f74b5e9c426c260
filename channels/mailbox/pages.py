"""Public pages of the mayor's mailbox and the agents' publication review API.

Plugin entry ``channels.mailbox.pages:setup`` (listed in ``hotline.app.PLUGINS``):

* ``GET/POST /mailbox`` - the letter form (CSRF token + cookie, challenge, rate limits, size limits);
* ``GET/POST /mailbox/query`` - progress and reply for a letter number + query code;
* ``GET /mailbox/public``, ``/mailbox/public/{id}`` - published letters (redacted, reviewed);
* ``/api/v1/mailbox/publications...`` - review queue for agents/dispatchers/admins (JSON).

Errors on the public pages are friendly Chinese HTML with the right status;
the API answers ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from channels.mailbox import letters, publish, security, templates
from channels.mailbox.forms import FORM_COOKIE, client_ip, read_form
from channels.mailbox.settings import MailboxSettings
from hotline import appkeys
from hotline.validation import row_id

MAILBOX_SETTINGS: web.AppKey[MailboxSettings] = web.AppKey("mailbox_settings", MailboxSettings)
REVIEWERS = ("agent", "dispatcher", "admin")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; form-action 'self'",
    "Referrer-Policy": "same-origin",
}


def _html(app: web.Application, title: str, body: str, status: int = 200) -> web.Response:
    return web.Response(text=templates.page(title, body, app[MAILBOX_SETTINGS].city_name), status=status,
                        content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS)


def _secret(app: web.Application) -> str:
    return app[appkeys.SETTINGS].secret_key


async def render_form(request: web.Request, values: dict | None = None, errors: list[str] | None = None,
                      status: int = 200) -> web.Response:
    app = request.app
    settings = app[MAILBOX_SETTINGS]
    service = app[appkeys.SERVICE]
    async with service.engine.begin() as conn:
        nonce, question = await security.issue_token(conn, service.now())
    body = templates.letter_form(security.csrf_for(_secret(app), nonce), question, values or {}, errors or [],
                                 settings.model_dump())
    response = _html(app, "给市长写信", body, status)
    response.set_cookie(FORM_COOKIE, nonce, httponly=True, samesite="Strict", path="/mailbox",
                        max_age=settings.token_ttl_minutes * 60)
    return response


async def form_page(request: web.Request) -> web.Response:
    return await render_form(request)


async def submit_letter(request: web.Request) -> web.Response:
    app = request.app
    settings = app[MAILBOX_SETTINGS]
    fields: dict = {}
    try:
        fields, files = await read_form(request, settings)
        letter = letters.parse_letter({
            "name": fields.get("name", ""), "phone": fields.get("phone", ""), "email": fields.get("email") or None,
            "subject": fields.get("subject", ""), "text": fields.get("text", ""),
            "request_type": fields.get("request_type") or "求助", "publishable": fields.get("publishable") == "1",
            "attachments": files}, settings)
        done = await letters.submit(app[appkeys.SERVICE], settings, _secret(app), letter,
                                    nonce=request.cookies.get(FORM_COOKIE), csrf=fields.get("csrf"),
                                    answer=fields.get("answer"), ip=client_ip(request, settings))
    except letters.LetterError as exc:
        if exc.status == 429:
            return _html(app, "提交过于频繁", templates.error_block(exc.message), 429)
        values = {k: v for k, v in fields.items() if k not in ("csrf", "answer")}
        return await render_form(request, values, exc.messages, exc.status)
    response = _html(app, "信件已提交", templates.submitted(done.number, done.code))
    response.del_cookie(FORM_COOKIE, path="/mailbox")
    return response


async def query_page(request: web.Request) -> web.Response:
    return _html(request.app, "信件查询", templates.query_form([]))


async def query_letter(request: web.Request) -> web.Response:
    app = request.app
    settings = app[MAILBOX_SETTINGS]
    if request.content_length and request.content_length > 4096:
        return _html(app, "信件查询", templates.query_form(["请求过大"]), 413)
    form = await request.post()
    number = str(form.get("number", ""))[:20]
    try:
        ticket = await letters.query(app[appkeys.SERVICE], settings, _secret(app), number,
                                     str(form.get("code", ""))[:20], client_ip(request, settings))
    except letters.LetterError as exc:
        return _html(app, "信件查询", templates.query_form(exc.messages, number), exc.status)
    return _html(app, "办理进度", templates.query_result(ticket))


async def public_list(request: web.Request) -> web.Response:
    items = await publish.list_publications(request.app[appkeys.ENGINE], "published")
    return _html(request.app, "公开信件", templates.public_list(items))


async def public_item(request: web.Request) -> web.Response:
    found = row_id(request.match_info["id"])
    item = await publish.get_publication(request.app[appkeys.ENGINE], found, published_only=True) if found else None
    if item is None:
        return _html(request.app, "未找到", templates.error_block("该信件不存在或尚未公开。"), 404)
    return _html(request.app, item["title"], templates.public_item(item))


# -- review API (agents) -------------------------------------------------------------------------


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    question: str | None = Field(default=None, min_length=1, max_length=20000)
    reply: str | None = Field(default=None, min_length=1, max_length=20000)
    note: str | None = Field(default=None, max_length=2000)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(min_length=1, max_length=2000)


def _pub_id(request: web.Request) -> int:
    from hotline.api.errors import ApiError

    raw = request.match_info["id"]
    if (found := row_id(raw)) is None:
        raise ApiError(404, "not_found", "公开信件不存在")
    return found


async def api_list(request: web.Request) -> web.Response:
    """Publications awaiting review (``?state=pending|published|rejected``)."""
    from hotline.api.auth import require
    from hotline.api.errors import ApiError

    require(request, *REVIEWERS)
    state = request.query.get("state", "pending")
    if state not in ("pending", "published", "rejected"):
        raise ApiError(400, "bad_request", "state 只能是 pending、published 或 rejected")
    return web.json_response({"items": await publish.list_publications(request.app[appkeys.ENGINE], state)})


async def api_get(request: web.Request) -> web.Response:
    """One publication draft of a mayor's mailbox letter, for review."""
    from hotline.api.auth import require
    from hotline.api.errors import ApiError

    require(request, *REVIEWERS)
    item = await publish.get_publication(request.app[appkeys.ENGINE], _pub_id(request))
    if item is None:
        raise ApiError(404, "not_found", "公开信件不存在")
    return web.json_response(item)


async def _review(request: web.Request, decision: str) -> web.Response:
    from hotline.api.auth import require
    from hotline.api.errors import ApiError, read_json

    actor = require(request, *REVIEWERS)
    pub_id = _pub_id(request)
    if decision == "published":
        body = await read_json(request, ApproveIn)
        edits, note = body.model_dump(exclude={"note"}), body.note
    else:
        body = await read_json(request, RejectIn)
        edits, note = None, body.note
    service = request.app[appkeys.SERVICE]
    try:
        item = await publish.review(service.engine, pub_id, decision, actor.username, service.now(),
                                    edits=edits, note=note)
    except publish.ReviewConflict as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    if item is None:
        raise ApiError(404, "not_found", "公开信件不存在")
    return web.json_response(item)


async def api_approve(request: web.Request) -> web.Response:
    """Publish a reviewed letter (the agent may correct title/question/reply; they are redacted again)."""
    return await _review(request, "published")


async def api_reject(request: web.Request) -> web.Response:
    """Do not publish this letter."""
    return await _review(request, "rejected")


def setup(app: web.Application, settings: MailboxSettings | None = None) -> None:
    """Plugin entry: the public /mailbox pages, the review API and the publication listener."""
    app[MAILBOX_SETTINGS] = settings or MailboxSettings()
    if not app[MAILBOX_SETTINGS].enabled:
        return
    app.router.add_routes([
        web.get("/mailbox", form_page),
        web.post("/mailbox", submit_letter),
        web.get("/mailbox/query", query_page),
        web.post("/mailbox/query", query_letter),
        web.get("/mailbox/public", public_list),
        web.get(r"/mailbox/public/{id:\d+}", public_item),
        web.get("/api/v1/mailbox/publications", api_list),
        web.get("/api/v1/mailbox/publications/{id}", api_get),
        web.post("/api/v1/mailbox/publications/{id}/approve", api_approve),
        web.post("/api/v1/mailbox/publications/{id}/reject", api_reject),
    ])

    async def add_listener(app: web.Application) -> None:
        # The service the app runs with (tests may swap it after create_app); the listener is idempotent.
        app[appkeys.SERVICE].add_listener(publish.on_ticket_event)

    app.on_startup.append(add_listener)
