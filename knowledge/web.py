"""HTTP routes of the knowledge package (plugin entry ``knowledge.web:setup``).

* ``/api/v1/kb/...``: articles (workflow, versions, diff), search, synonyms, knowledge gaps;
* ``/api/v1/assist`` (GET, or POST with a JSON body for long texts) and ``/api/v1/assist/ws`` (websocket,
  live updates while typing);
* ``/api/v1/chatbot/messages``: the web chat widget (WeChat and Telegram reach the same
  :class:`~knowledge.chatbot.Chatbot` through their channel adapters via ``app[CHATBOT]``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator

from aiohttp import WSMsgType, web
from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline import appkeys
from hotline.api.remote import client_address
from hotline.identity import UNIT_QUERY_DIGITS, mask_phones_in_text, probes_masked_digits
from hotline.lifecycle import STATE_LABELS
from hotline.messages import INTAKE_LINES, Identity, InboundMessage
from hotline.periods import query_period
from hotline.ratelimit import SlidingWindowLimit
from hotline.validation import error_line
from knowledge.articles import READ_ROLES, STATUSES, ArticleService, in_force, is_editor
from knowledge.revisions import ACTIONS as REVISION_ACTIONS
from knowledge.assist import Assist, answer_block
from knowledge.chatbot import Chatbot
from knowledge.dates import parse_when
from knowledge.dialogue import DbDialogueStore, RedisDialogueStore
from knowledge.gaps import close_gap, knowledge_gaps
from knowledge.errors import Forbidden, InvalidInput, KbError
from knowledge.report import chatbot_report
from knowledge.search.base import KINDS, SearchFilters
from knowledge.synonyms import SynonymSet
from knowledge.synonyms_store import SynonymWatcher, synonyms_stamp
from knowledge.visibility import is_unit_user, mark_in_force, unit_code, visible_search

log = logging.getLogger(__name__)

ARTICLES: web.AppKey[ArticleService] = web.AppKey("kb_articles", ArticleService)
ASSIST: web.AppKey[Assist] = web.AppKey("kb_assist", Assist)
SYNONYM_WATCHER: web.AppKey[SynonymWatcher] = web.AppKey("kb_synonym_watcher", SynonymWatcher)


class KnowledgeSettings(BaseSettings):
    """Knowledge web settings (prefix ``HOTLINE_KB_``)."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_KB_", extra="ignore")

    # How often each app instance looks for synonym edits made by another instance (0: never).
    synonyms_check_seconds: float = 5.0


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def ok(data, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def error(status: int, code: str, message: str) -> web.Response:
    return ok({"error": {"code": code, "message": message}}, status)


def handler(func):
    """Knowledge errors and bad input become JSON 4xx answers."""

    @functools.wraps(func)
    async def wrapped(request: web.Request):
        try:
            return await func(request)
        except KbError as exc:
            return error(exc.status, exc.code, exc.message)
        except ValidationError as exc:
            return error(422, "invalid_params", error_line(exc.errors()[0]))

    return wrapped


class Unauthorized(KbError):
    status, code = 401, "unauthorized"


def staff(request: web.Request, *roles: str):
    """The logged-in staff user (set by the core's auth as request["user"]), else 401/403."""
    user = request.get("user")
    if user is None:
        raise Unauthorized("需要登录或有效的 API 令牌")
    if getattr(user, "role", None) not in (roles or READ_ROLES):
        raise Forbidden("无权访问知识库")
    return user


async def body_of(request: web.Request) -> dict:
    if request.content_type != "application/json":
        raise InvalidInput("请求体必须是 application/json")
    try:
        data = json.loads(await request.read() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("JSON 格式错误") from None
    if not isinstance(data, dict):
        raise InvalidInput("请求体必须是 JSON 对象")
    return data


def int_param(value: str | None, name: str, default: int | None = None, lo: int = 0, hi: int = 1000) -> int | None:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"参数 {name} 必须是整数") from None
    if not lo <= number <= hi:
        raise InvalidInput(f"参数 {name} 超出范围 {lo}–{hi}")
    return number


def date_param(value: str | None, name: str, end_of_day: bool = False) -> dt.datetime | None:
    """An ISO date or datetime, China time unless given (:func:`knowledge.dates.parse_when`)."""
    if not value:
        return None
    try:
        return parse_when(value, end_of_day=end_of_day)
    except ValueError:
        raise InvalidInput(f"参数 {name} 不是合法日期（如 2026-01-31）") from None


def json_int(value, name: str, lo: int = 1, hi: int = 2**31) -> int:
    """An integer of a JSON body (an id, a version): not a boolean, a string or a float; within lo–hi."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{name} 必须是整数")
    if not lo <= value <= hi:
        raise InvalidInput(f"{name} 超出范围 {lo}–{hi}")
    return value


# -- articles ------------------------------------------------------------------
@handler
async def list_articles(request: web.Request) -> web.Response:
    """List knowledge articles with filters (q, status, category, unit, mine, review_flagged / review_due).

    ``q`` keeps articles whose title or body contains the text (case-insensitive, not a word search:
    ``/api/v1/kb/search`` ranks); ``review_due=1`` (same as ``review_flagged=1``) lists the articles the
    daily review sweep flagged as past their review date; ``mine=1`` keeps the caller's own unit's articles
    (unit users), so a unit's to-review list is ``?mine=1&review_due=1``; ``pending=1`` keeps the articles
    with a revision (:mod:`knowledge.revisions`): for editors the review queue (published articles whose
    revision waits), for a unit its own articles' revisions, pending or rejected (its to-do). Every item
    carries ``review_due`` (true while flagged), ``revision_state`` (pending, rejected or null) and
    ``has_pending_revision`` (pending; both only ever set for editors and the owning unit). ``total`` counts
    the matching articles on all pages (``limit``/``offset``).
    """
    user = staff(request)
    q = request.query
    service = request.app[ARTICLES]
    unit_id = None
    if _flag(q.get("mine")):
        unit_id = getattr(user, "unit_id", None)
        if unit_id is None:
            raise InvalidInput("mine=1 仅适用于成员单位账号")
    status = q.get("status") or None
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status 只能是 {'、'.join(STATUSES)} 之一")
    unit = q.get("unit") or None
    if unit is not None:
        unit = await service.require_unit(unit)
    text = (q.get("q") or "").strip()
    if len(text) > MAX_FILTER_TEXT:
        raise InvalidInput(f"筛选文字不能超过 {MAX_FILTER_TEXT} 字")
    return ok(await service.page(
        status=status, unit=unit, category=_category(q), q=text or None,
        review_flagged=_flag(q.get("review_flagged")) or _flag(q.get("review_due")), unit_id=unit_id, viewer=user,
        pending=_flag(q.get("pending")),
        limit=int_param(q.get("limit"), "limit", 50, 1, 500), offset=int_param(q.get("offset"), "offset", 0, 0, 10**9)))


MAX_FILTER_TEXT = 200


def _category(q) -> str | None:
    category = (q.get("category") or "").strip()
    if len(category) > 50:  # ArticleInput.category; ticket categories are codes (C0803)
        raise InvalidInput("category 不能超过 50 字")
    return category or None


def _flag(value: str | None) -> bool:
    return value in ("1", "true")


@handler
async def create_article(request: web.Request) -> web.Response:
    """Create a knowledge article (draft)."""
    user = staff(request)
    return ok(await request.app[ARTICLES].create(user, await body_of(request)), 201)


@handler
async def get_article(request: web.Request) -> web.Response:
    """One knowledge article (404 for one the user may not read: knowledge.articles.can_view), with
    ``pending_revision`` (its pending or rejected revision, or null; always null for users other than
    editors and the owning unit) and ``has_pending_revision``."""
    user = staff(request)
    return ok(await request.app[ARTICLES].get(_id(request), viewer=user))


@handler
async def update_article(request: web.Request) -> web.Response:
    """Edit a knowledge article; every change is a new version. An edit that changes nothing (``{}``, or a
    save without edits) makes none and changes no status: 200 with the article as it is. A unit's edit of a
    published article is stored as its pending revision (the article stays live as it is);
    ``revision_version`` pins the pending revision the unit edited (409 if it changed meanwhile), ``0`` that
    the unit edited while there was none (409 if one was made meanwhile); left out, nothing is checked."""
    user = staff(request)
    data = await body_of(request)
    expected = data.pop("version", None)
    if expected is not None:
        expected = json_int(expected, "version")
    revision = data.pop("revision_version", None)
    if revision is not None:
        revision = json_int(revision, "revision_version", lo=0)
    return ok(await request.app[ARTICLES].update(user, _id(request), data, expected_version=expected,
                                                 expected_revision=revision))


@handler
async def article_action(request: web.Request) -> web.Response:
    """Move an article through its workflow (submit, approve, publish, expire, archive ...).

    The optional body ``{"note": ..., "version": n}`` pins the version the user reviewed: 409 if it changed.
    ``publish_revision``, ``reject_revision`` (``note`` required) and ``withdraw_revision`` act on the
    article's pending revision (:mod:`knowledge.revisions`); ``revision_version`` pins the revision reviewed.
    """
    user = staff(request)
    data = await body_of(request) if request.can_read_body else {}
    expected = data.get("version")
    if expected is not None:
        expected = json_int(expected, "version")
    if request.match_info["action"] in REVISION_ACTIONS:
        revision = data.get("revision_version")
        if revision is not None:
            revision = json_int(revision, "revision_version")
        return ok(await request.app[ARTICLES].revision_action(
            user, _id(request), request.match_info["action"], data.get("note"), expected_version=expected,
            expected_revision=revision))
    if request.match_info["action"] == "confirm":  # still correct: {"review_due_at": next review, optional}
        when = data.get("review_due_at")
        if when is not None and not isinstance(when, str):
            raise InvalidInput("review_due_at 必须是日期字符串")
        return ok(await request.app[ARTICLES].confirm_review(
            user, _id(request), date_param(when, "review_due_at", end_of_day=True), expected_version=expected))
    return ok(await request.app[ARTICLES].transition(user, _id(request), request.match_info["action"],
                                                     data.get("note"), expected_version=expected))



@handler
async def article_versions(request: web.Request) -> web.Response:
    """An article's versions: who changed what, when (the rows of pending revisions, ``propose``,
    ``reject_revision`` and ``withdraw_revision``, only for editors and the owning unit)."""
    user = staff(request)
    return ok({"items": await request.app[ARTICLES].versions(_id(request), viewer=user)})


@handler
async def article_diff(request: web.Request) -> web.Response:
    """The diff between two versions of an article."""
    user = staff(request)
    q = request.query
    return ok(await request.app[ARTICLES].diff(
        _id(request), int_param(q.get("from"), "from", 1, 1, 10**6), int_param(q.get("to"), "to", 2, 1, 10**6),
        viewer=user))


@handler
async def article_revision_diff(request: web.Request) -> web.Response:
    """The diff between the live article and its pending revision (404 without one, or for users other than
    editors and the owning unit)."""
    user = staff(request)
    return ok(await request.app[ARTICLES].revision_diff(_id(request), viewer=user))


def _id(request: web.Request) -> int:
    return int_param(request.match_info["id"], "id", None, 1, 2**31)


# -- search, synonyms, gaps ------------------------------------------------------------
@handler
async def search(request: web.Request) -> web.Response:
    """Search articles and tickets (Chinese full text, synonyms, filters, highlighting).

    Filters: ``kind`` (article, ticket), ``category`` (a category code: it and the categories under it),
    ``unit`` (a unit code; ``mine=1``: the caller's own
    unit), ``status`` (comma-separated article statuses or ticket states), ``date_from`` / ``date_to``
    (ISO dates or datetimes, China time unless given; a date alone as ``date_to`` includes that whole day),
    ``review_due=1`` (same as ``review_flagged=1``: only articles the review sweep flagged). A bad value
    answers 400 with the reason. Unit users get only tickets dispatched to their unit, with phone numbers
    masked; only editors and an article's own unit find unpublished articles, and without ``status`` the
    others find published articles only (:mod:`knowledge.visibility`). Article hits carry ``extra.in_force``
    (within their validity dates now); for everyone but editors, articles not in force (not yet valid, or
    past their end before the nightly sweep expires them) come after those in force, in rank order.
    There is no paging: ``limit`` (1–100) hits, ``offset`` only 0.
    """
    user = staff(request)
    q = request.query
    text = (q.get("q") or "").strip()
    if not text:
        raise InvalidInput("请提供检索词 q")
    if len(text) > 500:
        raise InvalidInput("检索词不能超过 500 字")
    if int_param(q.get("offset"), "offset", 0, 0, 10**9):  # ranked, no paging: the best ``limit`` hits
        raise InvalidInput("检索结果不分页，offset 只能为 0（可用 limit 取最多 100 条）")
    if user.role == "unit" and probes_masked_digits(text):  # tickets' numbers are masked for units
        raise InvalidInput(UNIT_QUERY_DIGITS)
    filters = await _search_filters(request, user)
    if filters is None:  # only flagged articles, and none is flagged
        return ok({"query": text, "total": 0, "hits": []})
    limit = int_param(q.get("limit"), "limit", 10, 1, 100)
    try:
        result = await visible_search(request.app[appkeys.SEARCH], request.app[appkeys.ENGINE], user, text, filters,
                                      limit)
    except Exception:
        log.warning("search backend failed", exc_info=True)
        return error(503, "search_unavailable", "检索服务暂时不可用，请稍后再试")
    await mark_in_force(request.app[appkeys.ENGINE], request.app[appkeys.CLOCK].now(), result.hits)
    if not is_editor(user):  # an agent answers from what is in force: the others follow it, marked
        result.hits.sort(key=lambda h: h.extra.get("in_force") is False)
    return ok({"query": text, **result.as_json()})


SEARCH_STATUSES = frozenset(STATUSES) | frozenset(STATE_LABELS)


async def _search_filters(request: web.Request, user) -> SearchFilters | None:
    """The filters of a search from its query string (400 on a bad value); None when nothing can match."""
    q = request.query
    kinds = tuple(k for k in q.get("kind", "").split(",") if k)
    if any(k not in KINDS for k in kinds):
        raise InvalidInput("kind 只能是 article 或 ticket")
    statuses = tuple(s for s in q.get("status", "").split(",") if s)
    if bad := [s for s in statuses if s not in SEARCH_STATUSES]:
        raise InvalidInput(f"status 不合法：{bad[0]}（知识状态为 {'、'.join(STATUSES)}；"
                           f"工单状态为 {'、'.join(STATE_LABELS)}）")
    date_from = date_param(q.get("date_from"), "date_from")
    date_to = date_param(q.get("date_to"), "date_to", end_of_day=True)  # a plain date: the whole day named
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("date_from 不能晚于 date_to")
    category = _category(q)
    if category is not None:
        await request.app[ARTICLES].require_category(category)
    filters = SearchFilters(kinds=kinds, category=category, unit=await _search_unit(request, user),
                            status=statuses, date_from=date_from, date_to=date_to)
    if not (_flag(q.get("review_due")) or _flag(q.get("review_flagged"))):
        return filters
    if kinds and "article" not in kinds:
        raise InvalidInput("review_due=1 只适用于知识文章（kind=article）")
    flagged = await request.app[ARTICLES].flagged_ids()
    return dataclasses.replace(filters, kinds=("article",), ref_ids=tuple(str(i) for i in flagged)) if flagged else None


async def _search_unit(request: web.Request, user) -> str | None:
    """The ``unit`` filter of a search: a known unit (code or full name), or the caller's own unit with ``mine=1``."""
    unit = request.query.get("unit") or None
    if unit is not None:
        unit = await request.app[ARTICLES].require_unit(unit)
    if _flag(request.query.get("mine")):
        own = await unit_code(request.app[appkeys.ENGINE], getattr(user, "unit_id", None))
        if own is None:
            raise InvalidInput("mine=1 仅适用于成员单位账号")
        if unit not in (None, own):
            raise InvalidInput("mine=1 与 unit 指定了不同的单位")
        unit = own
    return unit


@handler
async def list_synonyms(request: web.Request) -> web.Response:
    """The synonym groups used by search (社保/社会保险 ...)."""
    from knowledge.synonyms_store import list_groups

    staff(request)
    return ok({"items": await list_groups(request.app[appkeys.ENGINE])})


@handler
async def save_synonyms(request: web.Request) -> web.Response:
    """Create or replace a synonym group."""
    from knowledge.synonyms_store import save_group

    user = staff(request)
    if not is_editor(user):
        raise Forbidden("只有平台编辑可以维护同义词")
    data = await body_of(request)
    group_id = int_param(request.match_info.get("id"), "id", None, 1, 2**31)
    saved = await save_group(request.app[appkeys.ENGINE], data.get("terms"), user.username, group_id)
    await _synonyms_changed(request.app)
    return ok(saved, 200 if group_id else 201)


@handler
async def delete_synonyms(request: web.Request) -> web.Response:
    """Delete a synonym group."""
    from knowledge.synonyms_store import delete_group

    user = staff(request)
    if not is_editor(user):
        raise Forbidden("只有平台编辑可以维护同义词")
    await delete_group(request.app[appkeys.ENGINE], _id(request))
    await _synonyms_changed(request.app)
    return ok({"deleted": True})


async def _synonyms_changed(app: web.Application) -> None:
    """This process sees its own edit at once; the others pick it up through their watcher."""
    watcher = app.get(SYNONYM_WATCHER)
    if watcher is not None:
        await watcher.reload()
    else:
        from knowledge.synonyms_store import load_synonyms

        app[appkeys.SEARCH].set_synonyms(await load_synonyms(app[appkeys.ENGINE]))


@handler
async def gaps(request: web.Request) -> web.Response:
    """Questions the chatbot could not answer, or whose answer did not help (for knowledge editors)."""
    user = staff(request)
    since = date_param(request.query.get("since"), "since")
    items = await knowledge_gaps(request.app[appkeys.ENGINE], since,
                                 int_param(request.query.get("limit"), "limit", 100, 1, 1000))
    if is_unit_user(user):  # citizens' own words: numbers they typed are masked for member units
        items = [{**i, "question": mask_phones_in_text(i["question"])} for i in items]
    return ok({"items": items})


@handler
async def close_gaps(request: web.Request) -> web.Response:
    """``{"question": ...}``: an editor dealt with this gap (wrote or fixed an article); it leaves the list."""
    user = staff(request)
    if not is_editor(user):
        raise Forbidden("只有平台编辑可以处理知识缺口")
    data = await body_of(request)
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InvalidInput("question 必须是知识缺口中的问题原文")
    closed = await close_gap(request.app[appkeys.ENGINE], question, user.username, request.app[appkeys.CLOCK].now())
    return ok({"closed": closed})


@handler
async def chatbot_report_view(request: web.Request) -> web.Response:
    """The chatbot's figures for a period (?since=&until=&days=, local dates): editors, leaders, admins."""
    staff(request, "dispatcher", "leader", "admin")
    zone = request.app[appkeys.SETTINGS].timezone
    try:
        since, until = query_period(request.query, zone)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return ok(await chatbot_report(request.app[appkeys.ENGINE], since, until, zone))


# -- assist ----------------------------------------------------------------------------
MAX_ASSIST_TEXT = 5000


@handler
async def assist(request: web.Request) -> web.Response:
    """Agent assist for a text being typed: suggested articles, similar past tickets, the router's suggestion.

    ``GET ?text=&ticket_id=&intake_line=&channel=``, or ``POST`` with the same as a JSON object (for long
    texts: a URL holds about 1700 Chinese characters); an unknown ``intake_line`` answers 400. Articles
    are suggested only while published and in force (valid_from/valid_to, as the chatbot answers). Unit users
    get only similar tickets dispatched to their unit, with phone numbers masked, and ``routing`` null.
    """
    user = staff(request)
    params = await body_of(request) if request.method == "POST" else dict(request.query)
    text, ticket_id, intake_line, channel = (params.get(k) for k in ("text", "ticket_id", "intake_line", "channel"))
    for name, value in (("text", text), ("intake_line", intake_line), ("channel", channel)):
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{name} 必须是字符串")
    if ticket_id is not None and not isinstance(ticket_id, str):  # the ticket being typed, left out of similar
        ticket_id = str(json_int(ticket_id, "ticket_id"))
    if len(text or "") > MAX_ASSIST_TEXT:
        raise InvalidInput(f"文本过长（最多 {MAX_ASSIST_TEXT} 字）")
    if intake_line and intake_line not in INTAKE_LINES:  # as /api/v1/routing/suggest
        raise InvalidInput(f"未知的热线号码 {intake_line}（可用：{'、'.join(INTAKE_LINES)}）")
    return ok(await request.app[ASSIST].suggest(text or "", router=request.app.get(appkeys.ROUTER),
                                                exclude_ticket=ticket_id, intake_line=intake_line or "12345",
                                                channel=channel or "phone", viewer=user))


@handler
async def assist_insert(request: web.Request) -> web.Response:
    """An article's answer as reply text with its source, for inserting in one action (only a published
    article within its validity dates: 400 for one not yet or no longer in force)."""
    user = staff(request)
    data = await body_of(request)
    article_id = json_int(data.get("article_id"), "article_id")
    article = await request.app[ARTICLES].get(article_id, viewer=user)
    if article["status"] != "published":
        raise InvalidInput("只能引用已发布的知识")
    if not in_force(article, request.app[appkeys.CLOCK].now()):  # the chatbot's rule: not yet, or no longer
        raise InvalidInput("该知识不在有效期内（尚未生效或已失效），不能引用")
    return ok({"article_id": article_id, "text": answer_block(article)})


async def assist_ws(request: web.Request) -> web.StreamResponse:
    """Live assist: the client sends {"text": ...} as the agent types; each message gets the latest suggestions.

    Messages arriving while a suggestion is computed are coalesced: only the newest text is answered.
    """
    try:
        user = staff(request)
    except KbError as exc:
        return error(exc.status, exc.code, exc.message)
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    service = request.app[ASSIST]
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            continue
        latest = msg.data
        # Drain what is already queued so a fast typist gets one answer for the newest text.
        while True:
            try:
                nxt = await ws.receive(timeout=0.05)
            except TimeoutError:
                break
            if nxt.type != WSMsgType.TEXT:
                break
            latest = nxt.data
        try:
            payload = json.loads(latest)
            text = str(payload.get("text") or "")[:5000]
        except (json.JSONDecodeError, AttributeError):
            await ws.send_str(_dumps({"error": {"code": "invalid_json", "message": "消息必须是 JSON 对象"}}))
            continue
        result = await service.suggest(text, router=request.app.get(appkeys.ROUTER),
                                       exclude_ticket=payload.get("ticket_id"), viewer=user)
        await ws.send_str(_dumps({"text": text, **result}))
    return ws


# -- chatbot (web widget) --------------------------------------------------------------------
class ChatIn(BaseModel):
    user_id: str = Field(min_length=1, max_length=100)
    text: str = Field(max_length=2000)
    message_id: str | None = Field(default=None, max_length=100)


CHAT_LIMIT: web.AppKey[SlidingWindowLimit] = web.AppKey("kb_chat_limit", SlidingWindowLimit)
CHAT_PER_MINUTE = 20  # per visitor and per client address: a person types far slower than this


@handler
async def chatbot_message(request: web.Request) -> web.Response:
    """One citizen message to the web chatbot; answers from the knowledge base or collects a request."""
    body = ChatIn.model_validate(await body_of(request))
    now = request.app[appkeys.CLOCK].now()
    limit = request.app[CHAT_LIMIT]
    if not (limit.allow(f"ip:{client_address(request)}", now) and limit.allow(f"user:{body.user_id}", now)):
        return error(429, "too_many_requests", "发送过于频繁，请稍后再试")
    message = InboundMessage(
        channel="web", external_id=_message_key(body.user_id, body.message_id, body.text) if body.message_id
        else f"web-{uuid.uuid4().hex}",
        sender=Identity(kind="web", value=body.user_id), text=body.text,
        received_at=request.app[appkeys.CLOCK].now())
    reply = await request.app[appkeys.CHATBOT].respond(message)
    return ok(reply.as_json())


def _message_key(user_id: str, message_id: str, text: str) -> str:
    """A web message's id for de-duplication. The widget's ``message_id`` is only unique per visitor, and
    a widget may number each session's messages 1, 2, 3 … again: the key names the visitor, the id and
    the text (a retry sends the same text), fixed-length."""
    digest = hashlib.sha256(json.dumps([user_id, message_id, text], ensure_ascii=False).encode()).hexdigest()
    return f"web-{digest[:48]}"


def _emergency(app: web.Application, text: str) -> dict | None:
    """The emergency ``text`` describes, by the router's detector (None when routing is not set up)."""
    detector = getattr(app.get(appkeys.ROUTER), "emergency", None)
    return detector.detect(text) if detector is not None else None


def _request_type(app: web.Application, text: str) -> tuple[str, float] | None:
    """The request type (咨询, 投诉 …) and its confidence by the router's model (None without one)."""
    model = getattr(app.get(appkeys.ROUTER), "model", None)
    found = model.predict(text)["request_type"] if model is not None else None
    return (found["label"], found["confidence"]) if found else None


# -- wiring -----------------------------------------------------------------------------------
def _locate(app: web.Application, text: str) -> dict | None:
    """The area ``text`` names, by the router's gazetteer (None when routing is not set up)."""
    router = app.get(appkeys.ROUTER)
    gazetteer = getattr(router, "gazetteer", None)
    return gazetteer.extract(text) if gazetteer is not None else None


def setup(app: web.Application) -> None:
    """Plugin entry: routes now; the index, assist and chatbot once the app's clients exist."""
    app.router.add_routes([
        web.get("/api/v1/kb/articles", list_articles),
        web.post("/api/v1/kb/articles", create_article),
        web.get("/api/v1/kb/articles/{id}", get_article),
        web.put("/api/v1/kb/articles/{id}", update_article),
        web.post("/api/v1/kb/articles/{id}/actions/{action}", article_action),
        web.get("/api/v1/kb/articles/{id}/versions", article_versions),
        web.get("/api/v1/kb/articles/{id}/diff", article_diff),
        web.get("/api/v1/kb/articles/{id}/revision/diff", article_revision_diff),
        web.get("/api/v1/kb/search", search),
        web.get("/api/v1/kb/synonyms", list_synonyms),
        web.post("/api/v1/kb/synonyms", save_synonyms),
        web.put("/api/v1/kb/synonyms/{id}", save_synonyms),
        web.delete("/api/v1/kb/synonyms/{id}", delete_synonyms),
        web.get("/api/v1/kb/gaps", gaps),
        web.post("/api/v1/kb/gaps/close", close_gaps),
        web.get("/api/v1/chatbot/report", chatbot_report_view),
        web.get("/api/v1/assist", assist),
        web.post("/api/v1/assist", assist),
        web.post("/api/v1/assist/insert", assist_insert),
        web.get("/api/v1/assist/ws", assist_ws),
        web.post("/api/v1/chatbot/messages", chatbot_message),
    ])
    app[CHAT_LIMIT] = SlidingWindowLimit(CHAT_PER_MINUTE, dt.timedelta(minutes=1))
    app.cleanup_ctx.append(knowledge_ctx)


async def knowledge_ctx(app: web.Application) -> AsyncIterator[None]:
    from knowledge.search import make_index

    engine, clock = app[appkeys.ENGINE], app[appkeys.CLOCK]
    index = app.get(appkeys.SEARCH)
    owns_index = index is None
    watcher = SynonymWatcher(engine, index, KnowledgeSettings().synonyms_check_seconds)
    try:
        if owns_index:
            synonyms = await watcher.load()
        else:  # an index handed in keeps its synonyms until the stored ones change
            watcher.stamp = await synonyms_stamp(engine)
    except Exception:  # e.g. the knowledge migration not applied yet: defaults until it is
        log.warning("synonyms could not be loaded; using the defaults", exc_info=True)
        synonyms = SynonymSet()
    if owns_index:
        index = make_index(app[appkeys.SETTINGS], engine, synonyms=synonyms)
        try:
            await index.open()
        except Exception:  # a search engine that is down must not stop intake; it is retried on use
            log.warning("search index could not be opened at startup", exc_info=True)
        app[appkeys.SEARCH] = index
    watcher.index = index
    app[SYNONYM_WATCHER] = watcher
    app[ARTICLES] = ArticleService(engine, clock, index=index)
    app[ASSIST] = Assist(index, engine, clock)
    if appkeys.CHATBOT not in app:
        redis = app.get(appkeys.REDIS)
        store = RedisDialogueStore(redis) if redis is not None else DbDialogueStore(engine, clock)
        app[appkeys.CHATBOT] = Chatbot(engine=engine, index=index, service=app[appkeys.SERVICE], store=store,
                                       clock=clock, locate=lambda text: _locate(app, text),
                                       emergency=lambda text: _emergency(app, text),
                                       request_type=lambda text: _request_type(app, text))
        # the chatbot's part-of-speech table (read once per process): now, not during a citizen's first question
        await asyncio.to_thread(index.tokenizer.tagged, "")
    watcher.start()
    yield
    await watcher.stop()
    if owns_index:
        await index.close()

