"""Version diffs: sentences aligned as before, and the words changed inside a changed sentence.

Plain text is split into sentences after 。！？ (a closing quote or bracket stays with its
sentence). Sentences are aligned with difflib; inside a block of replaced sentences the old and
new ones are paired in order by similarity (those not similar enough stay removed and added),
and a pair is compared token by token: one Chinese character, or one run of Latin letters and
digits (so "2025" → "2026" reads as one number replaced, not one digit). A lone unchanged character between two changes
is folded into them, so "三个工作日" → "五个自然日" reads as "三个工作" → "五个自然", not shards.

:func:`version_diff` returns three views of the same comparison:

* ``diff``: the unified diff of the title, the other fields both versions recorded (``关键词：a、b``, one
  line each) and the sentences, one sentence a line;
* ``changes``: the changed title, the changed fields, then the changed sentences. A sentence is
  ``{"field": "title" | "body", "op": "insert" | "delete" | "replace", "old", "new", "segments":
  [{"op": "equal" | "insert" | "delete", "text"}]}``; a field (:func:`field_changes`) is ``{"field":
  "keywords" | "category" | …, "label": "关键词", "op", "from", "to", "old", "new", "segments"}``,
  ``from``/``to`` the values and ``old``/``new`` the texts shown;
* ``diff_html``: the new version with ``<del>``/``<ins>`` marks, every piece of text escaped.
"""

from __future__ import annotations

import difflib
import html
import re

from hotline.validation import FIELD_LABELS as VALIDATION_LABELS

# Fields besides title and body a version records (knowledge.tables.VERSION_FIELDS and the keywords).
FIELDS = ("category", "unit", "keywords", "valid_from", "valid_to", "review_due_at")
FIELD_LABELS = {name: VALIDATION_LABELS[name] for name in FIELDS}

SENTENCE = re.compile(r"[^。！？]*[。！？]+[”’」』）)]*|[^。！？]+")
TOKEN = re.compile(r"[0-9A-Za-z]+(?:[.%][0-9A-Za-z]+)*|\s+|.", re.S)
PAIR_CUTOFF = 0.5       # sentences less similar than this are shown as removed and added
MAX_PAIRING = 2_500     # old x new sentences in one replaced block beyond which pairing is by position
MAX_TOKENS = 4_000_000  # old x new tokens in one pair beyond which it is shown as removed and added


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.findall(text or "") if s.strip()]


def version_diff(old_title: str, old_text: str, new_title: str, new_text: str,
                 from_label: str, to_label: str, old_fields: dict | None = None,
                 new_fields: dict | None = None) -> dict:
    """``diff``, ``changes`` and ``diff_html`` between two versions' titles, other fields and plain-text
    bodies. ``old_fields`` / ``new_fields`` map a field of :data:`FIELDS` to ``(value, text shown)``; a
    field missing from either side is unknown there and not compared (:func:`field_changes`)."""
    old_fields, new_fields = old_fields or {}, new_fields or {}
    known = [f for f in FIELDS if f in old_fields and f in new_fields]
    old_body, new_body = sentences(old_text), sentences(new_text)
    unified = difflib.unified_diff([f"标题：{old_title}", *_field_lines(known, old_fields), *old_body],
                                   [f"标题：{new_title}", *_field_lines(known, new_fields), *new_body],
                                   from_label, to_label, lineterm="")
    title, body = compare([old_title], [new_title]), compare(old_body, new_body)
    fields = field_changes(old_fields, new_fields)
    changes = [{"field": "title", **entry} for entry in title if entry["op"] != "equal"] + fields + [
        {"field": "body", **entry} for entry in body if entry["op"] != "equal"]
    listed = "".join(f'<dt>{html.escape(c["label"])}</dt><dd>{_html([c])}</dd>' for c in fields)
    return {"diff": "\n".join(unified), "changes": changes,
            "diff_html": f'<div class="kb-diff"><h3 class="kb-diff-title">{_html(title)}</h3>'
                         + (f'<dl class="kb-diff-fields">{listed}</dl>' if listed else "")
                         + f'<div class="kb-diff-body">{_html(body)}</div></div>'}


def field_changes(old_fields: dict, new_fields: dict) -> list[dict]:
    """The fields (of :data:`FIELDS`, in that order) known on both sides whose values differ, each
    ``{"field", "label", "op", "from", "to", "old", "new", "segments"}``: ``from``/``to`` the values,
    ``old``/``new`` the texts shown, ``op`` insert (set), delete (cleared) or replace."""
    out: list[dict] = []
    for field in FIELDS:
        if field not in old_fields or field not in new_fields:
            continue  # unknown on one side (a version recorded before the field was): no change to report
        (before, old), (after, new) = old_fields[field], new_fields[field]
        if before == after:
            continue
        op = "insert" if not old else "delete" if not new else "replace"
        segments = _keyword_segments(before, after) if field == "keywords" else \
            [_seg(kind, text) for kind, text in (("delete", old), ("insert", new)) if text]
        out.append({"field": field, "label": FIELD_LABELS[field], "op": op, "from": before, "to": after,
                    "old": old or None, "new": new or None, "segments": segments})
    return out


def _keyword_segments(before: list[str], after: list[str]) -> list[dict]:
    """Kept keywords equal, removed ones deleted, added ones inserted, separated by 、."""
    items = [_seg("equal" if k in after else "delete", k) for k in before] + \
        [_seg("insert", k) for k in after if k not in before]
    out: list[dict] = []
    for n, item in enumerate(items):
        if n:
            out.append(_seg("equal", "、"))
        out.append(item)
    return out


def _field_lines(known: list[str], fields: dict) -> list[str]:
    return [f"{FIELD_LABELS[f]}：{fields[f][1] or '（无）'}" for f in known]


def compare(old: list[str], new: list[str]) -> list[dict]:
    """Every sentence of both versions in order, as ``{"op", "old", "new", "segments"}``."""
    out: list[dict] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            out += [{"op": "equal", "old": s, "new": s, "segments": [_seg("equal", s)]} for s in old[i1:i2]]
        else:
            out += _pair(old[i1:i2], new[j1:j2])
    return out


def words(old: str, new: str) -> list[dict]:
    """Token-level segments turning ``old`` into ``new``; deletions come before insertions."""
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    if len(a) * len(b) > MAX_TOKENS:
        return [_seg("delete", old), _seg("insert", new)]
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    out: list[dict] = []
    removed = added = ""

    def flush():
        nonlocal removed, added
        out.extend(_seg(op, text) for op, text in (("delete", removed), ("insert", added)) if text)
        removed = added = ""

    for n, (tag, i1, i2, j1, j2) in enumerate(ops):
        same = "".join(a[i1:i2]) if tag == "equal" else None
        if same is not None and (len(same) > 1 or n in (0, len(ops) - 1)):
            flush()
            out.append(_seg("equal", same))
        elif same is not None:  # one character between two changes: part of both
            removed, added = removed + same, added + same
        else:
            removed, added = removed + "".join(a[i1:i2]), added + "".join(b[j1:j2])
    flush()
    return out


def _pair(old: list[str], new: list[str]) -> list[dict]:
    """Replaced sentences: similar ones paired in order (``replace``), the others removed and added."""
    out: list[dict] = []
    i = j = 0
    for pi, pj in _align(old, new) + [(len(old), len(new))]:
        out += [_whole("delete", s) for s in old[i:pi]] + [_whole("insert", s) for s in new[j:pj]]
        if pi < len(old) and pj < len(new):
            out.append({"op": "replace", "old": old[pi], "new": new[pj], "segments": words(old[pi], new[pj])})
        i, j = pi + 1, pj + 1
    return out


def _align(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` in order maximizing the summed similarity (above :data:`PAIR_CUTOFF`); a block
    too large for that (:data:`MAX_PAIRING`) pairs the n-th old sentence with the n-th new one."""
    if len(old) * len(new) > MAX_PAIRING:
        return [(k, k) for k in range(min(len(old), len(new))) if _similarity(old[k], new[k]) > PAIR_CUTOFF]
    sim = [[_similarity(a, b) for b in new] for a in old]
    best = [[0.0] * (len(new) + 1) for _ in range(len(old) + 1)]
    for i in range(1, len(old) + 1):
        for j in range(1, len(new) + 1):
            paired = best[i - 1][j - 1] + sim[i - 1][j - 1] if sim[i - 1][j - 1] > PAIR_CUTOFF else 0.0
            best[i][j] = max(best[i - 1][j], best[i][j - 1], paired)
    pairs: list[tuple[int, int]] = []
    i, j = len(old), len(new)
    while i and j:
        if sim[i - 1][j - 1] > PAIR_CUTOFF and best[i][j] == best[i - 1][j - 1] + sim[i - 1][j - 1]:
            i, j = i - 1, j - 1
            pairs.append((i, j))
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def _similarity(a: str, b: str) -> float:
    ta, tb = TOKEN.findall(a), TOKEN.findall(b)
    if len(ta) * len(tb) > MAX_TOKENS:  # too long to compare word by word: shown whole anyway
        return 0.0
    matcher = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    if matcher.real_quick_ratio() <= PAIR_CUTOFF or matcher.quick_ratio() <= PAIR_CUTOFF:
        return 0.0
    return matcher.ratio()


def _whole(op: str, text: str) -> dict:
    return {"op": op, "old": text if op == "delete" else None, "new": text if op == "insert" else None,
            "segments": [_seg(op, text)]}


def _seg(op: str, text: str) -> dict:
    return {"op": op, "text": text}


TAGS = {"equal": "{}", "delete": "<del>{}</del>", "insert": "<ins>{}</ins>"}


def _html(entries: list[dict]) -> str:
    return "".join(TAGS[s["op"]].format(html.escape(s["text"], quote=True))
                   for entry in entries for s in entry["segments"])
