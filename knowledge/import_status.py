"""The workflow moves an import makes to bring an article to the status its row names (``--status-col``).

The moves are an editor's ordinary workflow actions (:data:`knowledge.articles.TRANSITIONS`), each
recorded as a version with the note 批量导入. A move the workflow has no path for (a published article
back to a draft, a draft straight to expired) is refused for that row, before anything is written.
"""

from __future__ import annotations

from knowledge.articles import STATUS_LABELS
from knowledge.errors import Conflict, InvalidInput

MOVES: dict[tuple[str, str], list[str]] = {
    ("draft", "in_review"): ["submit"],
    ("draft", "published"): ["publish"],
    ("in_review", "published"): ["publish"],
    ("in_review", "draft"): ["reject"],
    ("expired", "published"): ["publish"],
    ("published", "expired"): ["expire"],
}
# a new article is created as a draft; "expired" is made by knowledge.importer (published, then expired)
NEW: dict[str, list[str]] = {"draft": [], "in_review": ["submit"], "published": ["publish"],
                             "archived": ["archive"], "expired": ["publish", "expire"]}


def plan(current: str, target: str, *, changed: bool) -> list[str]:
    """The actions moving an article from ``current`` to ``target``; ``changed``: the row also edits it
    (an archived article is restored first, and one that stays archived cannot be edited)."""
    if current == target:
        if current == "archived" and changed:
            raise Conflict("已归档的知识不能再编辑")
        return []
    if target == "archived":
        return ["archive"]
    if current == "archived":
        return ["restore", *plan("draft", target, changed=changed)]
    if (current, target) not in MOVES:
        raise InvalidInput(f"不能把“{STATUS_LABELS[current]}”的知识直接改为“{STATUS_LABELS[target]}”"
                           "（请在控制台的知识库中操作）")
    return MOVES[(current, target)]
