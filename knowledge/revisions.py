"""Pending revisions: a unit's edit of a published article waits for an editor while the article stays live.

A member unit fixing a phone number in a published article must not take it offline: its edit (and an
editor's edit made with ``to_review``, as ``hotline kb import --draft`` makes it) is stored as the article's
pending revision (``kb_article_revisions``, at most one per article; a new edit replaces it), and search,
agent assist and the chatbot keep answering from the published fields. Then:

* an editor publishes it (``publish_revision``): applied to the article as a new version, recorded as an
  ``edit`` by its author and a ``publish_revision`` by the editor, the review flag cleared, the index
  refreshed. Refused (409) when the article changed since the revision was written (``base_version`` no
  longer its version: publishing would silently undo that change), when the article is no longer
  published, or when the revision's end date has passed (as ``publish`` refuses);
* an editor rejects it with a reason (``reject_revision``): the live article is untouched and the revision
  is kept, ``state`` rejected with the reason, for the unit to read; its next edit makes it pending again;
* the owning unit (or an editor) withdraws it (``withdraw_revision``), pending or rejected.

Every step writes a version row (``propose``, ``publish_revision``, ``reject_revision``,
``withdraw_revision``) with the live fields, so the article's history shows it. Only editors and the owning
unit see a revision (:func:`knowledge.articles.can_edit`) and the ``propose``, ``reject_revision`` and
``withdraw_revision`` rows of the history (:data:`PRIVATE_ACTIONS`); ``version`` guards the revision as an
article's guards the article (``expected_revision``; 409 when it changed since it was read, and ``0``:
the edit was made while the article had none, 409 if one was made meanwhile).

The unit's (or a ``to_review``) edit and the revision (:func:`settle`):

* an edit equal to the live article while the revision (on the current version) exists withdraws it
  (a ``withdraw_revision`` row, :data:`REVERTED_NOTE`): the unit reverted its proposal;
* an article no longer published (expired, archived, restored to draft) keeps its revision but nothing
  publishes it: the unit's next edit starts from it (:func:`edit_base`) and, saved through the usual
  path (an expired article back to review), takes it in: the revision is removed, a ``withdraw_revision``
  row (:data:`MERGED_NOTE`) records it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hotline.tables import units
from hotline.validation import field_name
from knowledge.article_input import EDITABLE, ArticleInput, MissingField, check_note
from knowledge.articles import (STATUS_LABELS, _parse_dt, _record, _require_category, _same, _unit_id,
                                _version_fields, can_edit, is_editor, version_conflict)
from knowledge.diff import version_diff
from knowledge.errors import Conflict, Forbidden, NotFound
from knowledge.sanitize import clean_html, plain_text
from knowledge.tables import VERSION_FIELDS, kb_article_revisions, kb_articles

STATE_LABELS = {"pending": "待审核", "rejected": "未通过"}
# history rows only editors and the owning unit see (publish_revision is a real version change: everyone)
PRIVATE_ACTIONS = frozenset({"propose", "reject_revision", "withdraw_revision"})
REVERTED_NOTE = "修改内容与当前发布版本相同，已撤回"
MERGED_NOTE = "知识未发布，该修改已并入本次编辑"
FIELDS = ("title", "body_html", "body_text", "category", "unit_id", "keywords", "valid_from", "valid_to",
          "review_due_at")


async def revision_of(conn, article: dict) -> dict | None:
    """The article's revision (pending or rejected) as the API shows it, or None. ``stale``: the article
    changed since the revision was written (it cannot be published)."""
    row = (await conn.execute(sa.select(kb_article_revisions, units.c.code.label("unit_code"),
                                        units.c.name.label("unit_name")).select_from(
        kb_article_revisions.outerjoin(units, units.c.id == kb_article_revisions.c.unit_id)).where(
        kb_article_revisions.c.article_id == article["id"]))).mappings().first()
    if row is None:
        return None
    out = {key: value.isoformat() if isinstance(value, dt.datetime) else value for key, value in dict(row).items()}
    out["keywords"] = list(out["keywords"] or [])
    out["state_label"] = STATE_LABELS.get(out["state"], out["state"])
    out["stale"] = out["base_version"] != article["version"]
    return out


def edit_base(current: dict) -> dict:
    """What a unit's edit (or a ``to_review`` one) starts from: the article's pending (or rejected) revision
    while that was written on the article's current version (published or not any more), else the article
    itself."""
    revision = current.get("pending_revision")
    if revision is None or revision["stale"]:
        return current
    return {**current, **{column: revision[column] for column in EDITABLE.values()}}


def revision_conflict(revision: dict | None) -> Conflict:
    if revision is None:
        return Conflict("待审核的修改已不存在（已被发布、退回或撤回），请刷新后重试")
    return Conflict(f"待审核的修改已被更新（当前为第 {revision['version']} 稿），请刷新后重试")


def check_expected(revision: dict | None, expected_revision: int | None) -> None:
    """409 unless the revision is the one the edit was made on: ``expected_revision`` its version, ``0``
    none (the form was opened while the article had no revision), None not checked (API clients)."""
    if expected_revision is None:
        return
    if expected_revision == 0:
        if revision is not None:
            raise Conflict("该知识刚有人提交了修改，请刷新后在该修改的基础上重新编辑")
        return
    if revision is None or revision["version"] != expected_revision:
        raise revision_conflict(revision)


async def settle(service, user, current: dict, item: ArticleInput) -> dict | None:
    """A unit's edit equal to the live article while its revision (on the current version) exists: the
    revision is withdrawn (the unit reverted it) and the article returned; None when there is nothing to
    settle this way."""
    revision = current.get("pending_revision")
    if revision is None or revision["stale"] or not _same(current, item):
        return None
    now = service.clock.now()
    async with service.engine.begin() as conn:
        await _drop(conn, current, revision, user.username, now, REVERTED_NOTE)
    return await service.get(current["id"])


async def merge_into_edit(conn, current: dict, who: str, now: dt.datetime) -> None:
    """Inside the edit's transaction (the article already updated): the revision of an article no longer
    published, which the edit started from (:func:`edit_base`), is taken in and removed."""
    revision = current.get("pending_revision")
    if revision is not None and not revision["stale"] and current["status"] != "published":
        await _drop(conn, current, revision, who, now, MERGED_NOTE)


async def _drop(conn, current: dict, revision: dict, who: str, now: dt.datetime, note: str | None) -> None:
    gone = await conn.execute(kb_article_revisions.delete().where(
        kb_article_revisions.c.id == revision["id"], kb_article_revisions.c.version == revision["version"]))
    if gone.rowcount != 1:
        raise Conflict("待审核的修改已被他人更新，请刷新后重试")
    await _record(conn, current["id"], "withdraw_revision", who, now, note)


async def propose(service, user, current: dict, item: ArticleInput, expected_revision: int | None) -> dict:
    """Store ``item`` as the published article's pending revision (a second edit replaces the first); the
    article's own fields, status and version are unchanged. An edit equal to the pending revision changes
    nothing; one equal to the live article proposes nothing."""
    revision = current.get("pending_revision")
    check_expected(revision, expected_revision)
    if _same(current, item):  # equal to the live article: a revision on it is withdrawn (ArticleService.update)
        return current
    now = service.clock.now()
    if item.valid_to and item.valid_to < now:
        raise Conflict("失效日期已过，这样的修改发布后会立即失效；请修改失效日期，或请平台编辑执行“过期”操作下线")
    article_id = current["id"]
    async with service.engine.begin() as conn:
        unit_id = await _unit_id(conn, item.unit) if item.unit else current["unit_id"]
        if item.category != current["category"]:
            await _require_category(conn, item.category)
        if not is_editor(user) and unit_id != user.unit_id:
            raise Forbidden("成员单位只能编辑本单位的知识")
        body = clean_html(item.body)
        values = dict(title=item.title.strip(), body_html=body, body_text=plain_text(body), category=item.category,
                      unit_id=unit_id, keywords=list(item.keywords), valid_from=item.valid_from,
                      valid_to=item.valid_to, review_due_at=item.review_due_at)
        if revision is not None and revision["state"] == "pending" and not revision["stale"] \
                and _same_values(revision, values):
            return current  # a save without edits of the revision
        # the article as read (still published, same version); the row is locked until this commits
        held = await conn.execute(kb_articles.update().where(
            kb_articles.c.id == article_id, kb_articles.c.version == current["version"],
            kb_articles.c.status == "published").values(version=kb_articles.c.version))
        if held.rowcount != 1:
            raise Conflict("知识已被他人修改，请刷新后重试")
        values.update(base_version=current["version"], state="pending", reason=None, reviewed_by=None,
                      reviewed_at=None, updated_by=user.username, updated_at=now)
        if revision is None:
            try:
                async with conn.begin_nested():
                    await conn.execute(kb_article_revisions.insert().values(
                        article_id=article_id, version=1, created_by=user.username, created_at=now, **values))
            except IntegrityError:  # another edit made the revision meanwhile
                raise Conflict("该知识刚有人提交了修改，请刷新后重试") from None
        else:
            done = await conn.execute(kb_article_revisions.update().where(
                kb_article_revisions.c.id == revision["id"],
                kb_article_revisions.c.version == revision["version"]).values(
                version=revision["version"] + 1, **values))
            if done.rowcount != 1:
                raise Conflict("待审核的修改已被他人更新，请刷新后重试")
        await _record(conn, article_id, "propose", user.username, now,
                      f"提交修改待审核（基于第 {current['version']} 版），审核通过前当前版本继续有效")
    return await service.get(article_id)


def _same_values(revision: dict, values: dict) -> bool:
    return all((_parse_dt(revision[name]) if name in ("valid_from", "valid_to", "review_due_at") else revision[name])
               == values[name] for name in values)


async def _pending(service, user, article_id: int, expected_version, expected_revision) -> tuple[dict, dict]:
    """The article and its pending revision, checked against the versions the user read."""
    current = await service.get(article_id)
    if not can_edit(user, current):
        raise Forbidden("无权操作该知识条目")
    revision = current["pending_revision"]
    if revision is None:
        raise Conflict("该知识没有待审核的修改")
    if expected_version is not None and expected_version != current["version"]:
        raise version_conflict(current)
    if expected_revision is not None and expected_revision != revision["version"]:
        raise revision_conflict(revision)
    return current, revision


async def publish_revision(service, user, article_id: int, note, expected_version=None, expected_revision=None):
    """An editor publishes the pending revision: it becomes the article's next version, still published."""
    if not is_editor(user):
        raise Forbidden("只有平台编辑可以发布待审核的修改")
    note = check_note(note)
    current, revision = await _pending(service, user, article_id, expected_version, expected_revision)
    if revision["state"] != "pending":
        raise Conflict("该修改已被退回，不能发布；单位重新修改后再审核")
    if current["status"] != "published":
        raise Conflict(f"“{STATUS_LABELS[current['status']]}”状态的知识不能发布待审核的修改，请退回该修改")
    if revision["stale"]:
        raise Conflict(f"待审核的修改基于第 {revision['base_version']} 版，知识已更新为第 {current['version']} 版，"
                       "发布会覆盖其间的修改；请退回该修改，由单位在最新版本上重新修改")
    now = service.clock.now()
    if revision["valid_to"] and _parse_dt(revision["valid_to"]) < now:
        raise Conflict("修改后的失效日期已过，不能发布；请退回修改，或执行“过期”操作下线")
    values = {name: _parse_dt(revision[name]) if name in ("valid_from", "valid_to", "review_due_at")
              else revision[name] for name in FIELDS}
    async with service.engine.begin() as conn:
        done = await conn.execute(kb_articles.update().where(
            kb_articles.c.id == article_id, kb_articles.c.version == current["version"],
            kb_articles.c.status == "published").values(
            **values, review_flagged_at=None, version=current["version"] + 1, updated_by=user.username,
            updated_at=now))
        if done.rowcount != 1:
            raise Conflict("知识已被他人修改，请刷新后重试")
        gone = await conn.execute(kb_article_revisions.delete().where(
            kb_article_revisions.c.id == revision["id"], kb_article_revisions.c.version == revision["version"],
            kb_article_revisions.c.state == "pending"))
        if gone.rowcount != 1:
            raise Conflict("待审核的修改已被他人更新，请刷新后重试")
        await _record(conn, article_id, "edit", revision["updated_by"], now)  # who wrote it (the diff's changed_by)
        await _record(conn, article_id, "publish_revision", user.username, now, note)
    return await service._after_change(article_id)


async def reject_revision(service, user, article_id: int, note, expected_version=None, expected_revision=None):
    """An editor sends the pending revision back with a reason; the live article is untouched."""
    if not is_editor(user):
        raise Forbidden("只有平台编辑可以退回待审核的修改")
    note = check_note(note)
    if not (note or "").strip():
        raise MissingField(f"{field_name('note')}：缺少必填字段（退回修改须写明原因）")
    current, revision = await _pending(service, user, article_id, expected_version, expected_revision)
    if revision["state"] != "pending":
        raise Conflict("该修改已被退回")
    now = service.clock.now()
    async with service.engine.begin() as conn:
        done = await conn.execute(kb_article_revisions.update().where(
            kb_article_revisions.c.id == revision["id"], kb_article_revisions.c.version == revision["version"],
            kb_article_revisions.c.state == "pending").values(
            state="rejected", reason=note.strip(), reviewed_by=user.username, reviewed_at=now,
            version=revision["version"] + 1))
        if done.rowcount != 1:
            raise Conflict("待审核的修改已被他人更新，请刷新后重试")
        await _record(conn, article_id, "reject_revision", user.username, now, note.strip())
    return await service.get(article_id)


async def withdraw_revision(service, user, article_id: int, note=None, expected_version=None, expected_revision=None):
    """The owning unit (or an editor) drops the revision, pending or rejected; the live article is untouched."""
    note = check_note(note)
    current, revision = await _pending(service, user, article_id, expected_version, expected_revision)
    now = service.clock.now()
    async with service.engine.begin() as conn:
        await _drop(conn, current, revision, user.username, now, (note or "").strip() or None)
    return await service.get(article_id)


ACTIONS = {"publish_revision": publish_revision, "reject_revision": reject_revision,
           "withdraw_revision": withdraw_revision}


async def revision_diff(service, article_id: int, viewer=None) -> dict:
    """The live article compared with its pending (or rejected) revision, as :meth:`ArticleService.diff`
    compares two versions; 404 when there is none or the viewer may not see it."""
    current = await service.get(article_id, viewer)
    revision = current["pending_revision"]
    if revision is None:
        raise NotFound("该知识没有待审核的修改")
    async with service.engine.connect() as conn:
        old_fields = await _version_fields(conn, {**current, "recorded": VERSION_FIELDS})
        new_fields = await _version_fields(conn, {**revision, "recorded": VERSION_FIELDS})
    # a revision written on an older version: what changed since shows as its undoing, so the label says so
    label = (f"当前版本 v{current['version']} → 基于 v{revision['base_version']} 写的修改"
             f"（v{revision['base_version']} 之后的改动在此显示为删除）" if revision["stale"]
             else f"当前版本 v{current['version']} → 修改")
    return {"from": current["version"], "to": "revision", "base_version": revision["base_version"],
            "stale": revision["stale"], "state": revision["state"], "changed_by": revision["updated_by"],
            "changed_at": revision["updated_at"], "label": label,
            **version_diff(current["title"], plain_text(current["body_html"]), revision["title"],
                           plain_text(revision["body_html"]), f"v{current['version']}",
                           f"修改（基于 v{revision['base_version']}）", old_fields, new_fields)}
