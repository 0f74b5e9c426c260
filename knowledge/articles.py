"""Knowledge articles: the editorial workflow, versions with diffs, review and expiry sweeps.

Workflow: draft -> in_review -> published -> expired / archived. Member units
create and edit their own unit's articles and submit them; platform editors
(:data:`EDITOR_ROLES`) review, publish or send back. A unit editing a
published article does not take it offline: the edit waits as a pending revision
(:mod:`knowledge.revisions`) while the published version keeps answering, until an editor
publishes it (a new version) or rejects it with a reason, or the unit withdraws it. Every change
writes a version row (who, what, when); ``diff`` compares any two versions.

Who reads what (:func:`can_view`): a published article is read by all staff; one that is not (draft, in
review, expired, archived) only by platform editors and the users of its owning unit. Only editors
archive an article once it has been published; a unit may withdraw (archive) its own article only while
it has never been published (:func:`can_archive`). An archived article is not edited; only an editor
brings it back (``restore``), as a draft that goes through review again.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.tables import categories, units
from hotline.validation import field_name
from knowledge.article_input import ArticleInput, MissingField, check_note, edited, parse_input
from knowledge.diff import version_diff
from knowledge.dates import CHINA
from knowledge.errors import Conflict, Forbidden, InvalidInput, NotFound
from knowledge.sanitize import clean_html, plain_text
from knowledge.search.base import SearchDoc
from knowledge.tables import VERSION_FIELDS, kb_article_revisions, kb_article_versions, kb_articles

log = logging.getLogger(__name__)

STATUSES = ("draft", "in_review", "published", "expired", "archived")
STATUS_LABELS = {"draft": "草稿", "in_review": "待审核", "published": "已发布", "expired": "已过期", "archived": "已归档"}
EDITOR_ROLES = frozenset({"admin", "dispatcher"})  # platform editors
READ_ROLES = frozenset({"agent", "dispatcher", "unit", "leader", "admin"})

# action -> (allowed from-states, to-state, editors only)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "submit": (("draft",), "in_review", False),
    "publish": (("in_review", "draft", "expired"), "published", True),
    "reject": (("in_review",), "draft", True),
    "expire": (("published",), "expired", True),
    # editors from any of these; a unit only its own never-published draft or submission (can_archive)
    "archive": (("draft", "in_review", "published", "expired"), "archived", False),
    # an article archived by mistake, or a policy back in force: a draft again, to be reviewed before it answers
    "restore": (("archived",), "draft", True),
}
UNIT_ARCHIVE_FROM = ("draft", "in_review")
# Actions whose ``note`` is required: a unit sent back must learn what to change. Archive and expire need
# none (the console confirms an archive; an archived article can be restored; expiry is its end date).
NOTE_REQUIRED = {"reject": "退回修改须写明原因"}
REVIEW_PERIOD = dt.timedelta(days=180)  # next review when an owner confirms an article without a date


def is_editor(user) -> bool:
    return getattr(user, "role", None) in EDITOR_ROLES


def can_edit(user, article: dict) -> bool:
    if is_editor(user):
        return True
    return getattr(user, "role", None) == "unit" and article.get("unit_id") is not None \
        and article["unit_id"] == getattr(user, "unit_id", None)


def can_view(user, article: dict) -> bool:
    """Published articles are read by all staff; the others (draft, in review, expired, archived) only by
    platform editors and the owning unit's users."""
    return article["status"] == "published" or can_edit(user, article)


def can_archive(user, article: dict) -> bool:
    """Editors archive any article (and alone may ``restore`` it), a unit only its own article that was
    never published (a draft or a submission it withdraws)."""
    return is_editor(user) or (can_edit(user, article) and article["status"] in UNIT_ARCHIVE_FROM
                               and article.get("published_at") is None)


def in_force(article, now: dt.datetime) -> bool:
    """Whether an article (a dict or row with ``valid_from`` / ``valid_to``) is within its validity dates at
    ``now``: the rule the chatbot answers by, and agent assist suggests and inserts by."""
    get = article.get if isinstance(article, dict) else lambda name: getattr(article, name, None)
    valid_from, valid_to = _parse_dt(get("valid_from")), _parse_dt(get("valid_to"))
    return not ((valid_from and valid_from > now) or (valid_to and valid_to < now))


def visible_to(user):
    """SQL condition: the articles ``user`` may read (:func:`can_view`); None for an editor (all)."""
    if is_editor(user):
        return None
    own = getattr(user, "unit_id", None) if getattr(user, "role", None) == "unit" else None
    published = kb_articles.c.status == "published"
    return published if own is None else sa.or_(published, kb_articles.c.unit_id == own)


def version_conflict(current: dict) -> Conflict:
    """409 for a ``version`` that is not the article's current one (stale, or simply wrong)."""
    return Conflict(f"版本号不符：当前为第 {current['version']} 版，请刷新后重试")


class ArticleService:
    def __init__(self, engine: AsyncEngine, clock, index=None) -> None:
        self.engine = engine
        self.clock = clock
        self.index = index

    # -- reads -----------------------------------------------------------
    async def get(self, article_id: int, viewer=None) -> dict:
        """One article; with ``viewer``, 404 (as for a missing one, so as not to tell it exists) unless the
        viewer may read it (:func:`can_view`)."""
        from knowledge.revisions import revision_of

        async with self.engine.connect() as conn:
            row = (await conn.execute(_select().where(kb_articles.c.id == article_id))).mappings().first()
            if row is None or (viewer is not None and not can_view(viewer, row)):
                raise NotFound(f"知识条目 {article_id} 不存在")
            out = _public(row)
            # the pending revision: only editors and the owning unit see it (and that there is one)
            revision = await revision_of(conn, out) if viewer is None or can_edit(viewer, row) else None
        out["pending_revision"] = revision
        out["has_pending_revision"] = revision is not None and revision["state"] == "pending"
        out["revision_state"] = revision and revision["state"]
        return out

    async def list(self, *, status: str | None = None, unit: str | None = None, category: str | None = None,
                   review_flagged: bool = False, unit_id: int | None = None, q: str | None = None, limit: int = 50,
                   offset: int = 0, viewer=None, pending: bool = False) -> list[dict]:
        """Articles by filters; ``review_flagged`` keeps those the review sweep flagged (past their review
        date, not edited since), ``unit_id`` those owned by one unit (a unit user's own articles), ``q``
        those whose title or body contains every space-separated part of the text (case-insensitive), ``category``
        a category and those under it, ``viewer`` those the user may read, ``pending`` those with a pending
        revision (:mod:`knowledge.revisions`): for editors (or no viewer) the review queue, published articles
        whose revision waits; for a unit its own articles with a revision, pending or rejected (its to-do);
        for anyone else none. Each carries ``revision_state`` (pending, rejected, None) and
        ``has_pending_revision`` (pending), as the viewer may see the revision (None / false otherwise)."""
        query = _filtered(_select(), status=status, unit=unit, category=category, review_flagged=review_flagged,
                          unit_id=unit_id, q=q, viewer=viewer, pending=pending)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(kb_articles.c.id).limit(limit).offset(offset))).mappings()
            return await _with_pending(conn, [_public(r) for r in rows.all()], viewer)

    async def page(self, *, limit: int = 50, offset: int = 0, **filters) -> dict:
        """One page of :meth:`list` and ``total``, the number of articles matching the filters on all pages."""
        counted = _filtered(sa.select(sa.func.count()).select_from(
            kb_articles.outerjoin(units, units.c.id == kb_articles.c.unit_id)), **filters)
        query = _filtered(_select(), **filters).order_by(kb_articles.c.id).limit(limit).offset(offset)
        async with self.engine.connect() as conn:
            total = (await conn.execute(counted)).scalar_one()
            rows = (await conn.execute(query)).mappings().all() if total > offset else []
            items = await _with_pending(conn, [_public(r) for r in rows], filters.get("viewer"))
        return {"items": items, "total": total}

    async def flagged_ids(self) -> list[int]:
        """Ids of the articles the review sweep flagged (past their review date, not confirmed or edited since)."""
        async with self.engine.connect() as conn:
            return list((await conn.execute(sa.select(kb_articles.c.id).where(
                kb_articles.c.review_flagged_at.is_not(None)).order_by(kb_articles.c.id))).scalars())

    async def require_unit(self, unit: str) -> str:
        """The code of the member unit named by its code or full name (广东省公安厅, as ``kb import`` takes
        it); 400 (:class:`InvalidInput`) unless there is one."""
        async with self.engine.connect() as conn:
            return await unit_code_of(conn, unit)

    async def require_category(self, code: str) -> None:
        """400 (:class:`InvalidInput`) unless a category of the taxonomy has this code."""
        async with self.engine.connect() as conn:
            if (await conn.execute(sa.select(categories.c.id).where(categories.c.code == code))).scalar() is None:
                raise InvalidInput(f"分类 {code} 不存在")

    async def versions(self, article_id: int, viewer=None) -> list[dict]:
        """The article's history; a ``viewer`` other than an editor or the owning unit does not see the rows of
        pending revisions (``propose``, ``reject_revision``, ``withdraw_revision``; :mod:`knowledge.revisions`),
        only real version changes (a published revision's ``edit`` and ``publish_revision`` included)."""
        from knowledge.revisions import PRIVATE_ACTIONS

        article = await self.get(article_id, viewer)
        query = sa.select(kb_article_versions).where(kb_article_versions.c.article_id == article_id)
        if viewer is not None and not can_edit(viewer, article):
            query = query.where(kb_article_versions.c.action.not_in(sorted(PRIVATE_ACTIONS)))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(kb_article_versions.c.id))).mappings().all()
        return [_version_row(r) for r in rows]

    async def diff(self, article_id: int, from_version: int, to_version: int, viewer=None) -> dict:
        """Two versions compared (:func:`knowledge.diff.version_diff`): ``diff`` (unified: title, the other
        fields both versions recorded, then the body a sentence a line), ``changes`` (the fields changed,
        and the words changed in each changed sentence) and ``diff_html``; ``changed_by`` is who wrote
        ``to_version`` (its first row: the create or edit, not a later submit or publish).

        Fields are compared as ``from_version`` was last (a ``confirm`` may have moved its review date)
        and as ``to_version`` was written; a field either row does not record (rows written before
        migration 0013) is unknown, and no change from or to an unknown value is reported.
        """
        first: dict[int, dict] = {}
        last: dict[int, dict] = {}
        for v in await self.versions(article_id, viewer):
            first.setdefault(v["version"], v)
            last[v["version"]] = v
        if from_version not in first or to_version not in first:
            raise NotFound("版本不存在")
        a, b = (last if from_version != to_version else first)[from_version], first[to_version]
        async with self.engine.connect() as conn:
            old_fields, new_fields = await _version_fields(conn, a), await _version_fields(conn, b)
        return {"from": from_version, "to": to_version, "changed_by": b["changed_by"],
                "changed_at": b["created_at"],
                **version_diff(a["title"], plain_text(a["body_html"]), b["title"], plain_text(b["body_html"]),
                               f"v{from_version}", f"v{to_version}", old_fields, new_fields)}

    # -- writes ----------------------------------------------------------
    async def create(self, user, data: dict[str, Any] | ArticleInput) -> dict:
        item = data if isinstance(data, ArticleInput) else parse_input(data)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            unit_id = await _unit_id(conn, item.unit)
            await _require_category(conn, item.category)
            if not is_editor(user):
                if getattr(user, "role", None) != "unit":
                    raise Forbidden("只有成员单位和平台编辑可以新建知识")
                if unit_id is None:
                    unit_id = user.unit_id
                if unit_id != user.unit_id:
                    raise Forbidden("成员单位只能编辑本单位的知识")
            body = clean_html(item.body)
            result = await conn.execute(kb_articles.insert().values(
                external_id=item.external_id, title=item.title.strip(), body_html=body, body_text=plain_text(body),
                category=item.category, unit_id=unit_id, keywords=item.keywords, status="draft",
                valid_from=item.valid_from, valid_to=item.valid_to, review_due_at=item.review_due_at,
                version=1, created_by=user.username, updated_by=user.username, created_at=now, updated_at=now,
            ).returning(kb_articles.c.id))
            article_id = result.scalar_one()
            await _record(conn, article_id, "create", user.username, now)
        return await self._after_change(article_id)

    async def update(self, user, article_id: int, data: dict[str, Any] | ArticleInput,
                     expected_version: int | None = None, *, to_review: bool = False,
                     expected_revision: int | None = None) -> dict:
        """Edit an article; fields a dict leaves out keep their values (:func:`~knowledge.article_input.edited`).

        An article that stays published cannot be given a validity that has already ended (409, as publish).
        A published article edited by a unit stays published as it is: the edit becomes its pending revision
        (:func:`knowledge.revisions.propose`; ``expected_revision`` pins the revision the unit edited), which
        an editor publishes or rejects; ``to_review`` does the same with an editor's edit (``hotline kb import
        --draft``: the new text waits for an editor's publish). An expired article edited by a unit (or with
        ``to_review``) goes back to review: nothing of it is live to keep. A unit's edit (or ``to_review``)
        of an article with a revision on its current version starts from that revision, published or not
        (:func:`knowledge.revisions.edit_base`); equal to the live article, it withdraws the revision
        (:func:`knowledge.revisions.settle`); of an article no longer published, it takes the revision in
        (:func:`knowledge.revisions.merge_into_edit`). ``expected_revision`` 0: the edit was made while the
        article had no revision (409 if one was made meanwhile).
        An edit that changes nothing (every field as stored, e.g. ``{}`` or a save without edits; for a unit
        whose article has such a revision, as the revision has them) changes nothing: no version, no status
        change, no cleared review flag; the article is returned as it is (an article no longer published
        excepted: its revision is not live, so saving it as it is takes it in).
        """
        from knowledge.revisions import check_expected, edit_base, merge_into_edit, propose, settle

        current = await self.get(article_id)
        by_unit = to_review or not is_editor(user)  # an editor's direct edit leaves the revision as it is
        proposed = current["status"] == "published" and by_unit
        # a revision's next edit: the fields it leaves out keep the revision's (while it is on the live version)
        item = data if isinstance(data, ArticleInput) else parse_input(
            edited(edit_base(current) if by_unit else current, data))
        if not can_edit(user, current):
            raise Forbidden("无权编辑该知识条目")
        if current["status"] == "archived":
            raise Conflict("已归档的知识不能再编辑")
        if expected_version is not None and expected_version != current["version"]:
            raise version_conflict(current)
        if by_unit:
            check_expected(current["pending_revision"], expected_revision)
            if (reverted := await settle(self, user, current, item)) is not None:
                return reverted  # the edit undid the revision: withdrawn
        if not to_review and _same(current, item):
            return current  # nothing changed: no version, no status change (a save without edits)
        if proposed:
            return await propose(self, user, current, item, expected_revision)
        now = self.clock.now()
        status = current["status"]
        if status == "expired" and (to_review or not is_editor(user)):
            status = "in_review"
        if status == "published" and item.valid_to and item.valid_to < now:
            # it would be answered from until the next sweep expires it (publish refuses the same)
            raise Conflict("失效日期已过，已发布的知识不能这样保存；请修改失效日期，或执行“过期”操作下线")
        async with self.engine.begin() as conn:
            unit_id = await _unit_id(conn, item.unit) if item.unit else current["unit_id"]
            if item.category != current["category"]:  # a category stored before it was checked may stay
                await _require_category(conn, item.category)
            if not is_editor(user) and unit_id != user.unit_id:
                raise Forbidden("成员单位只能编辑本单位的知识")
            body = clean_html(item.body)
            updated = await conn.execute(kb_articles.update().where(
                kb_articles.c.id == article_id, kb_articles.c.version == current["version"]).values(
                title=item.title.strip(), body_html=body, body_text=plain_text(body), category=item.category,
                unit_id=unit_id, keywords=item.keywords, status=status, valid_from=item.valid_from,
                valid_to=item.valid_to, review_due_at=item.review_due_at, review_flagged_at=None,
                version=current["version"] + 1, updated_by=user.username, updated_at=now))
            if updated.rowcount != 1:
                raise Conflict("知识已被他人修改，请刷新后重试")
            await _record(conn, article_id, "edit", user.username, now)
            if by_unit:  # an article no longer published: the revision the edit started from is taken in
                await merge_into_edit(conn, current, user.username, now)
        return await self._after_change(article_id)

    async def transition(self, user, article_id: int, action: str, note: str | None = None,
                         expected_version: int | None = None) -> dict:
        """Move an article through the workflow. ``expected_version`` pins the version the user reviewed;
        the move is refused (409) when the article changed meanwhile (edited, or moved by someone else)."""
        if action not in TRANSITIONS:
            raise InvalidInput(f"未知操作：{action}")
        note = check_note(note)
        sources, target, editors_only = TRANSITIONS[action]
        current = await self.get(article_id)
        if editors_only and not is_editor(user):
            raise Forbidden("只有平台编辑可以审核、发布知识")
        if not can_edit(user, current):
            raise Forbidden("无权操作该知识条目")
        if action in NOTE_REQUIRED and not (note or "").strip():
            raise MissingField(f"{field_name('note')}：缺少必填字段（{NOTE_REQUIRED[action]}）")
        if current["status"] not in sources:
            raise Conflict(f"“{STATUS_LABELS[current['status']]}”状态的知识不能执行该操作")
        if action == "archive" and not can_archive(user, current):
            raise Forbidden("已发布过的知识只能由平台编辑归档；成员单位只能撤回本单位从未发布过的草稿或待审核知识")
        if expected_version is not None and expected_version != current["version"]:
            raise version_conflict(current)
        now = self.clock.now()
        if target == "published" and current["valid_to"] and _parse_dt(current["valid_to"]) < now:
            # it would be answered from until the next sweep expires it again
            raise Conflict("知识已过有效期，请先修改有效期再发布")
        values: dict[str, Any] = {"status": target, "updated_by": user.username, "updated_at": now}
        if target == "published":
            values["published_at"] = now
        async with self.engine.begin() as conn:
            done = await conn.execute(kb_articles.update().where(
                kb_articles.c.id == article_id, kb_articles.c.status == current["status"],
                kb_articles.c.version == current["version"]).values(**values))
            if done.rowcount != 1:
                raise Conflict("知识已被他人修改，请刷新后重试")
            await _record(conn, article_id, action, user.username, now, note)
        return await self._after_change(article_id)

    async def revision_action(self, user, article_id: int, action: str, note: str | None = None,
                              expected_version: int | None = None, expected_revision: int | None = None) -> dict:
        """``publish_revision``, ``reject_revision`` or ``withdraw_revision`` of the article's pending revision
        (:mod:`knowledge.revisions`)."""
        from knowledge import revisions

        return await revisions.ACTIONS[action](self, user, article_id, note, expected_version, expected_revision)

    async def revision_diff(self, article_id: int, viewer=None) -> dict:
        """The live article compared with its pending revision (:func:`knowledge.revisions.revision_diff`)."""
        from knowledge.revisions import revision_diff

        return await revision_diff(self, article_id, viewer)

    async def confirm_review(self, user, article_id: int, next_review: dt.datetime | None = None,
                             expected_version: int | None = None) -> dict:
        """The owner (or an editor) checked a published article and it is still right: the review flag
        clears and the next review date is set, without a new version or another round of review."""
        current = await self.get(article_id)
        if not can_edit(user, current):
            raise Forbidden("无权操作该知识条目")
        if current["status"] != "published":
            raise Conflict(f"“{STATUS_LABELS[current['status']]}”状态的知识无需复核确认")
        if expected_version is not None and expected_version != current["version"]:
            raise version_conflict(current)
        now = self.clock.now()
        next_review = next_review or now + REVIEW_PERIOD
        if next_review <= now:
            raise InvalidInput("下次复核日期必须晚于现在")
        async with self.engine.begin() as conn:
            done = await conn.execute(kb_articles.update().where(
                kb_articles.c.id == article_id, kb_articles.c.status == "published",
                kb_articles.c.version == current["version"]).values(
                review_due_at=next_review, review_flagged_at=None, updated_by=user.username, updated_at=now))
            if done.rowcount != 1:
                raise Conflict("知识已被他人修改，请刷新后重试")
            await _record(conn, article_id, "confirm", user.username, now,
                          "复核无误，下次复核时间 " + next_review.isoformat(timespec="minutes"))
        return await self._after_change(article_id)

    async def expire_due(self) -> list[int]:
        """Published articles whose validity ended become expired (a scheduled job).

        Candidates are read first and each is then expired by a conditional UPDATE (still published, same
        version, still past its validity): an article an editor changed in between (a new version, a new
        validity date, archived) keeps that change, and a second sweep (or two at once) expires nothing twice.
        """
        now = self.clock.now()
        return await self.expire(await self.expiry_candidates(now), now)

    async def expiry_candidates(self, now: dt.datetime | None = None) -> list[tuple[int, int]]:
        """``(id, version)`` of the published articles past their validity at ``now``."""
        now = now or self.clock.now()
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(kb_articles.c.id, kb_articles.c.version).where(
                kb_articles.c.status == "published", kb_articles.c.valid_to.is_not(None),
                kb_articles.c.valid_to <= now).order_by(kb_articles.c.id))).all()
        return [(r.id, r.version) for r in rows]

    async def expire(self, candidates: list[tuple[int, int]], now: dt.datetime | None = None) -> list[int]:
        """Expire the articles read by :meth:`expiry_candidates` that are still as read; returns those expired.

        One short transaction per article, so one article locked by an editor holds up no other.
        """
        now = now or self.clock.now()
        expired: list[int] = []
        for article_id, version in candidates:
            async with self.engine.begin() as conn:
                done = await conn.execute(kb_articles.update().where(
                    kb_articles.c.id == article_id, kb_articles.c.status == "published",
                    kb_articles.c.version == version, kb_articles.c.valid_to.is_not(None),
                    kb_articles.c.valid_to <= now).values(status="expired", updated_at=now, updated_by="system"))
                if done.rowcount != 1:
                    continue  # changed since it was read: the change wins
                await _record(conn, article_id, "expire", "system", now, "有效期已过")
            expired.append(article_id)
        for article_id in expired:
            await self._after_change(article_id)
        return expired

    async def flag_review_due(self, on_flagged=None) -> dict[str, list[dict]]:
        """Flag published articles past their review date; returns them grouped by owning unit code.

        Only rows this call flags are returned (a conditional update), so two sweeps running at once
        never both report the same article. ``on_flagged(conn, rows)`` runs in the same transaction
        (the review sweep records the owners' notices there): if it fails, nothing is flagged and the
        next sweep tries again. Each row has ``id``, ``title``, ``unit_id``, ``unit_code``,
        ``unit_name`` and ``review_due_at``.
        """
        now = self.clock.now()
        async with self.engine.begin() as conn:
            due = (await conn.execute(_select().where(
                kb_articles.c.status == "published", kb_articles.c.review_due_at.is_not(None),
                kb_articles.c.review_due_at <= now, kb_articles.c.review_flagged_at.is_(None))
                .order_by(kb_articles.c.id))).mappings().all()
            rows: list[dict] = []
            if due:
                flagged = set((await conn.execute(
                    kb_articles.update().where(kb_articles.c.id.in_([r["id"] for r in due]),
                                               kb_articles.c.review_flagged_at.is_(None))
                    .values(review_flagged_at=now).returning(kb_articles.c.id))).scalars())
                rows = [{"id": r["id"], "title": r["title"], "unit_id": r["unit_id"], "unit_code": r["unit_code"],
                         "unit_name": r["unit_name"], "review_due_at": r["review_due_at"]}
                        for r in due if r["id"] in flagged]
            if rows and on_flagged is not None:
                await on_flagged(conn, rows)
        grouped: dict[str, list[dict]] = {}
        for r in rows:
            grouped.setdefault(r["unit_code"] or "", []).append({"id": r["id"], "title": r["title"]})
        return grouped

    async def _after_change(self, article_id: int) -> dict:
        article = await self.get(article_id)
        if self.index is not None:
            try:
                await self.index.upsert([article_doc(article)])
            except Exception:  # the index catches up through jobs.index_pending
                log.warning("search index unavailable; article %s will be indexed later", article_id)
        return article


def article_doc(article: dict) -> SearchDoc:
    return SearchDoc(
        kind="article", ref_id=str(article["id"]), title=article["title"], body=article["body_text"],
        category=article["category"], unit=article["unit_code"], status=article["status"],
        date=_parse_dt(article["updated_at"]),
        extra={"unit_name": article["unit_name"], "version": article["version"],
               "keywords": list(article.get("keywords") or [])},  # ranked like the title (search.base.doc_text)
    )


def _same(current: dict, item: ArticleInput) -> bool:
    """Whether an edit would store exactly what is stored (every field; the unit when it names one)."""
    return (item.title.strip() == current["title"] and clean_html(item.body) == current["body_html"]
            and item.category == current["category"] and item.unit in (None, current["unit_code"])
            and list(item.keywords) == list(current.get("keywords") or [])
            and all(getattr(item, name) == _parse_dt(current[name])
                    for name in ("valid_from", "valid_to", "review_due_at")))


def _parse_dt(value):
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _select():
    return sa.select(kb_articles, units.c.code.label("unit_code"), units.c.name.label("unit_name")).select_from(
        kb_articles.outerjoin(units, units.c.id == kb_articles.c.unit_id))


def _filtered(query, *, status: str | None = None, unit: str | None = None, category: str | None = None,
              review_flagged: bool = False, unit_id: int | None = None, q: str | None = None, viewer=None,
              pending: bool = False):
    """``query`` (over kb_articles joined to units) narrowed by the list filters (and to what ``viewer`` may read)."""
    if viewer is not None and (readable := visible_to(viewer)) is not None:
        query = query.where(readable)
    if pending and (viewer is None or is_editor(viewer)):
        # the editors' review queue: published articles whose revision waits (none other can be published)
        query = query.where(kb_articles.c.status == "published", kb_articles.c.id.in_(
            sa.select(kb_article_revisions.c.article_id).where(kb_article_revisions.c.state == "pending")))
    elif pending:  # a unit's to-do: its own articles' revisions, pending or rejected (others see none)
        own = getattr(viewer, "unit_id", None) if getattr(viewer, "role", None) == "unit" else None
        query = query.where(sa.false() if own is None else kb_articles.c.unit_id == own)
        query = query.where(kb_articles.c.id.in_(sa.select(kb_article_revisions.c.article_id)))
    if status:
        query = query.where(kb_articles.c.status == status)
    if unit:
        query = query.where(units.c.code == unit)
    if unit_id is not None:
        query = query.where(kb_articles.c.unit_id == unit_id)
    if category:  # a category and the ones under it (C0102: C010202), as the ticket list and search filter
        query = query.where(kb_articles.c.category.startswith(category, autoescape=True))
    if review_flagged:
        query = query.where(kb_articles.c.review_flagged_at.is_not(None))
    # every space-separated part of ``q`` in the title or the body (公积金 提取); ILIKE on PostgreSQL, lower() LIKE
    # lower() on SQLite; % and _ in the text match themselves
    for part in (q or "").split():
        query = query.where(sa.or_(kb_articles.c.title.icontains(part, autoescape=True),
                                   kb_articles.c.body_text.icontains(part, autoescape=True)))
    return query


async def _with_pending(conn, items: list[dict], viewer) -> list[dict]:
    """``items`` with ``revision_state`` (pending, rejected or None) and ``has_pending_revision`` (pending) of a
    revision the viewer may see (editors, the owning unit; None and false for anyone else)."""
    ids = [a["id"] for a in items]
    states = dict((await conn.execute(sa.select(kb_article_revisions.c.article_id, kb_article_revisions.c.state).where(
        kb_article_revisions.c.article_id.in_(ids)))).all()) if ids else {}
    for a in items:
        state = states.get(a["id"]) if viewer is None or can_edit(viewer, a) else None
        a["revision_state"] = state
        a["has_pending_revision"] = state == "pending"
    return items


def _public(row) -> dict:
    out = dict(row)
    for key, value in out.items():
        if isinstance(value, dt.datetime):
            out[key] = value.isoformat()
    out["status_label"] = STATUS_LABELS.get(out["status"], out["status"])
    # Past its review date and flagged to the owning unit by the review sweep; an edit clears it.
    out["review_due"] = out.get("review_flagged_at") is not None
    return out


async def unit_code_of(conn, unit: str) -> str:
    """A unit's code from its code or its full name (spaces around it ignored); :class:`InvalidInput` when
    no unit (or several) has it."""
    unit = unit.strip()
    code = (await conn.execute(sa.select(units.c.code).where(units.c.code == unit))).scalar()
    if code is None:
        named = (await conn.execute(sa.select(units.c.code).where(units.c.name == unit).limit(2))).scalars().all()
        if len(named) > 1:
            raise InvalidInput(f"有多个单位名为 {unit}，请使用单位编码")
        code = named[0] if named else None
    if code is None:
        raise InvalidInput(f"单位 {unit} 不存在（可用单位编码或全称）")
    return code


async def _unit_id(conn, code: str | None) -> int | None:
    if not code:
        return None
    unit_id = (await conn.execute(sa.select(units.c.id).where(units.c.code == code))).scalar()
    if unit_id is None:
        raise InvalidInput(f"单位 {code} 不存在")
    return unit_id


async def _require_category(conn, code: str | None) -> None:
    """400 unless ``code`` is a category of the taxonomy (as a ticket's category is checked)."""
    if code and (await conn.execute(sa.select(categories.c.id).where(categories.c.code == code))).scalar() is None:
        raise InvalidInput(f"字段 {field_name('category')} 不合法：分类 {code} 不存在")


def _version_row(row) -> dict:
    out = {key: value.isoformat() if isinstance(value, dt.datetime) else value for key, value in dict(row).items()}
    out["recorded"] = list(row["recorded"] or [])
    return out


async def _version_fields(conn, version: dict) -> dict:
    """The fields a version row records besides title and body, as :func:`knowledge.diff.version_diff`
    takes them: ``{field: (value, text shown)}``; a field the row does not record is left out (unknown)."""
    recorded = set(version["recorded"])
    fields: dict = {"keywords": (list(version["keywords"] or []), "、".join(version["keywords"] or []))}
    if "category" in recorded:
        code = version["category"]
        name = code and (await conn.execute(sa.select(categories.c.name).where(categories.c.code == code))).scalar()
        fields["category"] = (code, f"{name}（{code}）" if name else code)
    if "unit" in recorded:  # no unit: 平台通用, as the console shows it
        unit_id = version["unit_id"]
        unit = None if unit_id is None else (await conn.execute(sa.select(units.c.code, units.c.name).where(
            units.c.id == unit_id))).first()
        fields["unit"] = (None, "平台通用") if unit_id is None else (
            {"id": unit_id, "code": unit and unit.code, "name": unit and unit.name}, unit.name if unit else f"单位 {unit_id}")
    for name in ("valid_from", "valid_to", "review_due_at"):
        if name in recorded:
            fields[name] = (version[name], _day_text(version[name], end=name != "valid_from"))
    return fields


def _day_text(value: str | None, end: bool) -> str | None:
    """A stored instant as China time: the date alone when it is that day's start (or end), as entered."""
    if value is None:
        return None
    local = dt.datetime.fromisoformat(value).astimezone(CHINA)
    whole = local.time() == (dt.time(23, 59, 59, 999999) if end else dt.time(0))
    return local.date().isoformat() if whole else local.strftime("%Y-%m-%d %H:%M")


async def _record(conn, article_id: int, action: str, who: str, now: dt.datetime, note: str | None = None) -> None:
    """A version row: every editable field as the article has it now (``recorded``: all of them)."""
    row = (await conn.execute(sa.select(kb_articles).where(kb_articles.c.id == article_id))).mappings().one()
    await conn.execute(kb_article_versions.insert().values(
        article_id=article_id, version=row["version"], title=row["title"], body_html=row["body_html"],
        keywords=row["keywords"], category=row["category"], unit_id=row["unit_id"], valid_from=row["valid_from"],
        valid_to=row["valid_to"], review_due_at=row["review_due_at"], recorded=list(VERSION_FIELDS),
        status=row["status"], action=action, changed_by=who, note=note, created_at=now))
