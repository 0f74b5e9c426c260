"""The search contract every backend implements, and helpers they share."""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import html
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from hotline.textnorm import normalise
from knowledge.tokenize import ASKING_WORDS

KINDS = ("article", "ticket")


@dataclass(frozen=True)
class SearchDoc:
    """One searchable thing. ``key`` is "<kind>:<id>" (``article:12``, ``ticket:5``)."""

    kind: str
    ref_id: str
    title: str
    body: str  # plain text
    category: str | None = None
    unit: str | None = None
    status: str | None = None
    date: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref_id}"


@dataclass(frozen=True)
class SearchFilters:
    kinds: tuple[str, ...] = ()
    category: str | None = None  # a category code: it and its descendants (prefix match: C01 finds C010101)
    unit: str | None = None
    status: tuple[str, ...] = ()
    date_from: dt.datetime | None = None
    date_to: dt.datetime | None = None
    ref_ids: tuple[str, ...] = ()  # only these documents (e.g. the tickets a unit co-handles)


@dataclass
class SearchHit:
    key: str
    kind: str
    ref_id: str
    score: float
    title: str
    highlight: str
    category: str | None
    unit: str | None
    status: str | None
    date: dt.datetime | None
    extra: dict[str, Any]
    # What ``highlight`` was made from (plain text) and the terms marked in it: a hit's texts can be masked
    # for a viewer and its highlight made again from the masked text (:func:`masked_hit`). Not sent out.
    source: str = field(default="", repr=False)
    marked: tuple[str, ...] = field(default=(), repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key, "kind": self.kind, "id": self.ref_id, "score": round(self.score, 4),
            "title": self.title, "highlight": self.highlight, "category": self.category,
            "unit": self.unit, "status": self.status,
            "date": self.date.isoformat() if self.date else None, "extra": self.extra,
        }


@dataclass
class SearchResult:
    hits: list[SearchHit]
    total: int

    def as_json(self) -> dict[str, Any]:
        return {"total": self.total, "hits": [h.as_json() for h in self.hits]}


DocSource = Callable[[], AsyncIterator[list[SearchDoc]]]


class SearchIndex(abc.ABC):
    """Index articles and tickets; answer Chinese queries with filters and highlights."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect / load; create the index if missing."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def upsert(self, docs: Iterable[SearchDoc]) -> int:
        """Add or replace documents by key; returns how many were written."""

    @abc.abstractmethod
    async def delete(self, keys: Iterable[str]) -> None: ...

    @abc.abstractmethod
    async def search(self, query: str, filters: SearchFilters | None = None, limit: int = 10) -> SearchResult: ...

    @abc.abstractmethod
    async def count(self) -> int: ...

    @abc.abstractmethod
    async def reindex(self, source: DocSource) -> int:
        """Build a fresh index from ``source`` (batches) and switch to it; search keeps answering meanwhile."""

    def use_places(self, places) -> None:
        """Place names (:class:`knowledge.places.Places`) for place-aware ranking; the tokenizer keeps them whole."""
        self.places = places
        for name in places.words():
            if len(name) >= 3:
                self.tokenizer.add_word(name)

    def set_synonyms(self, synonyms) -> None:
        self.synonyms = synonyms
        for term in synonyms.terms():
            self.tokenizer.add_word(term)


SYNONYM_WEIGHT = 0.5  # an expanded synonym counts half as much as a word the citizen typed


class QueryTerms(NamedTuple):
    """A query's terms: ``bigrams`` include the synonyms' character pairs, ``own_bigrams`` are the query's."""

    words: list[str]
    added: list[str]
    bigrams: list[str]
    own_bigrams: list[str]
    added_bigrams: list[list[str]]  # each synonym's character pairs

    def anchors(self) -> tuple[list[str], list[str], list[list[str]]]:
        """What a document must contain one of to match: (words, bigrams, bigram groups).

        Any word typed or synonym added, any of the query's own character pairs, or all the pairs of a
        synonym (the synonym as a phrase that jieba split otherwise: 社会保险 in 社会保险费). One pair of a
        synonym alone matches nothing: 公积金 -> 住房公积金 -> 住房 would find every article about 住房.
        Without synonyms every term is the query's own, so any match is anchored: :meth:`anchored` is False
        and backends skip the check.
        """
        return [*self.words, *self.added], self.own_bigrams, self.added_bigrams

    @property
    def anchored(self) -> bool:
        """Whether matches must be checked against :meth:`anchors` (only when synonyms were added)."""
        return bool(self.added)


def query_terms(tokenizer, synonyms, query: str) -> QueryTerms:
    """A query's words typed, synonym words added and character pairs (:class:`QueryTerms`)."""
    words = tokenizer.words(query)
    added = synonyms.expand(words)[len(words):]
    own = tokenizer.bigrams(ASKING_WORDS.sub(" ", normalise(query)))  # pairs of the topic, not of 怎么办
    per_synonym = [tokenizer.bigrams(extra) for extra in added]
    return QueryTerms(words, added, own + [b for pairs in per_synonym for b in pairs], own, per_synonym)


def weighted(words: list[str], added: list[str], places=None) -> dict[str, float]:
    """Query term -> weight: typed words 1 (place words more, see :mod:`knowledge.places`), synonyms less."""
    from knowledge.places import QUERY_PLACE_WEIGHT

    out: dict[str, float] = {}
    for w in words:
        out[w] = out.get(w, 0.0) + (QUERY_PLACE_WEIGHT if places is not None and places.is_place(w) else 1.0)
    for w in added:
        out[w] = out.get(w, 0.0) + SYNONYM_WEIGHT
    return out


def highlight(text: str, terms: Iterable[str], width: int = 100,
              mask: Callable[[str], str | None] | None = None) -> str:
    """An HTML-escaped snippet of ``text`` around the first match, matches wrapped in <em>.

    ``mask`` (e.g. :func:`hotline.identity.mask_phones_in_text`) runs on the plain text before anything
    is cut or marked: a mark may cover digits left visible, never bring hidden ones back.
    """
    if mask is not None:
        text = mask(text or "") or ""
    text = re.sub(r"\s+", " ", text or "").strip()
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
    if not terms:
        return html.escape(text[:width])
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    plain = normalise(text)  # terms are normalised (後 -> 后); offsets are the same in both
    first = pattern.search(plain)
    start = max(0, first.start() - width // 4) if first else 0
    window = text[start:start + width]
    out, pos = [], 0
    for m in pattern.finditer(plain[start:start + width]):
        out.append(html.escape(window[pos:m.start()]))
        out.append(f"<em>{html.escape(window[m.start():m.end()])}</em>")
        pos = m.end()
    out.append(html.escape(window[pos:]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return prefix + "".join(out) + suffix


def _squashed(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def snippet_source(title: str | None, body: str | None, terms: Sequence[str]) -> str:
    """The plain text a hit's highlight is made from: the body when a marked term is in it (or there is no
    title), else the title and the body; a title that is the start of the body (a ticket's title is the
    start of its text) is not repeated."""
    body = body or ""
    if not title or any(t in body for t in terms) or _squashed(body).startswith(_squashed(title)):
        return body
    return f"{title} {body}"


def make_hit(*, key: str, kind: str, ref_id: str, score: float, title: str, body: str, terms: Sequence[str],
             category: str | None, unit: str | None, status: str | None, date: dt.datetime | None,
             extra: dict[str, Any]) -> SearchHit:
    """A hit with its highlight (both backends): made from :func:`snippet_source`, which is kept with the
    terms so :func:`masked_hit` can make it again from a masked text."""
    source = snippet_source(title, body, terms)
    return SearchHit(key=key, kind=kind, ref_id=ref_id, score=score, title=title, highlight=highlight(source, terms),
                     category=category, unit=unit, status=status, date=date, extra=extra, source=source,
                     marked=tuple(terms))


_MARKS = re.compile(r"</?em>")


def masked_hit(hit: SearchHit, mask: Callable[[str], str | None]) -> SearchHit:
    """``hit`` as a viewer with hidden numbers sees it: ``mask`` applied to the plain text of every text it
    carries (title, extras), and the highlight made again from the masked source, so marks never split a
    number the mask would have hidden. A text that is the start of the source (a ticket's title, cut from
    its text, possibly inside a number) is cut from the masked source instead, so a cut number stays hidden.
    """
    source = hit.source or html.unescape(_MARKS.sub("", hit.highlight or "")).strip("…")
    masked_source = mask(source) or ""
    starts = [(source, masked_source)]  # texts a cut-off copy may start: the source, and its body after the title
    if hit.title and source.startswith(hit.title + " "):
        body = source[len(hit.title) + 1:]
        starts.append((body, mask(body) or ""))

    def hide(value):
        if not isinstance(value, str) or not value:
            return value
        for plain, masked in starts:
            if plain.startswith(value):  # masking never lengthens a text: the cut stays within the masked one
                return masked[:len(value)]
        return mask(value)

    extra = {k: hide(v) for k, v in (hit.extra or {}).items()}
    return dataclasses.replace(hit, title=hide(hit.title), highlight=highlight(masked_source, hit.marked),
                               extra=extra, source=masked_source)


def highlight_terms(words: Sequence[str], added: Sequence[str] = ()) -> list[str]:
    """Terms worth marking: multi-character words, or single ones if that is all there is.

    jieba splits a compound it does not know into characters (犬只登记 -> 犬 只 登记); consecutive
    single characters of the query are put back together (犬只), so the phrase is marked, not just 登记.
    """
    terms: list[str] = []
    for group in (words, added):
        run: list[str] = []
        for w in [*group, ""]:
            if len(w) == 1:
                run.append(w)
                continue
            if len(run) > 1:
                terms.append("".join(run))
            run = []
            if w:
                terms.append(w)
    if any(len(w) > 1 for w in (*words, *added)):
        return [t for t in terms if len(t) > 1]
    return terms + [w for w in (*words, *added) if w not in terms]  # 狗咬 and, failing that, 狗 and 咬


# What the ranker sees of a document (``doc_text``) changes with upgrades: bump this with it, and the index
# job rebuilds an index made under an older version once (``knowledge.jobs.rebuild_if_outdated``).
# 1: title and keywords twice; 2: an FAQ article's questions counted like its title; 3: articles' plain text
# keeps its paragraphs as lines (migration 0011), so every question of an FAQ written as paragraphs counts;
# 4: an answer line ("答：…？") is no question, though it holds a question mark; 5: articles' plain text
# keeps list bullets and numbers, table rows as "甲 | 乙" lines and links' addresses (migration 0014).
DOC_TEXT_VERSION = 5

# A line of an article that starts with a question: "问题？答案" or "问：问题？" (an FAQ article, one pair a line),
# after a list item's "• " or "1. " (never part of the question); never an answer's line ("答：您是否已登记？…"). A table row's cells
# ("问题？ | 答案") are lines of their own here.
_QUESTION_LINE = re.compile(r"(?>\s*(?:(?:•|\d{1,3}\.)\s+)?)(?!答\s*[:：])(?:问[:：]\s*)?([^？?\n]{4,80}[？?])")


def faq_questions(doc: SearchDoc) -> list[str]:
    """The questions an article's body lines start with, other than its title's lines: what citizens ask,
    ranked like the title (an FAQ kept as question-answer lines has no other place for them)."""
    if doc.kind != "article" or not doc.body:
        return []
    title_lines = {line.strip() for line in (doc.title or "").splitlines()}
    found = (_QUESTION_LINE.match(cell) for line in doc.body.splitlines() for cell in line.split(" | "))
    return list(dict.fromkeys(m.group(1).strip() for m in found if m and m.group(1).strip() not in title_lines))


def doc_text(doc: SearchDoc) -> str:
    """Text the ranker sees: the title, the keywords and an FAQ article's questions twice each (a cheap
    field boost), then the body.

    Keywords are ``extra["keywords"]``: the terms an editor added so the document is found (an article's
    keywords and synonyms, an FAQ's other wordings of its question); they count like the title.
    """
    keywords = " ".join(str(k) for k in (doc.extra or {}).get("keywords") or ())
    boosted = "\n".join(part for part in (doc.title or "", keywords, *faq_questions(doc)) if part)
    return f"{boosted}\n{boosted}\n{doc.body or ''}"
