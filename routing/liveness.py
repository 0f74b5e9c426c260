"""Where and when a trigger word sits: clause spans, local time cues and word boundaries.

The emergency detector asks two questions about each trigger it finds:

* Is the trigger a whole word?  ``重伤`` inside ``严重伤害`` or ``入室`` inside
  ``进入室内`` is not.  We segment the clause with jieba and reject a match that
  straddles word boundaries on both sides, sits at the start or in the middle of a
  longer word (``跳楼价``), or ends an idiom (``引狼入室``).  A match at the end of
  a longer word is kept, because Chinese compounds put the head last
  (``食物中毒`` is still ``中毒``), and so is one that starts a set phrase
  (``昏迷不醒``).
* When does the trigger happen?  Time cues are read in the trigger's own clause
  first, then in the nearest clause before it in the same sentence, then in the
  nearest clause after it.  A "now" word elsewhere in a long letter
  (``现在物业还不清扫楼道``) says nothing about a fire described three sentences
  earlier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Clause and sentence delimiters. A clause keeps its trailing punctuation so that
# "了！" and "！！" can still be read as cues.
# An ASCII full stop ends a sentence too (letters typed on a phone), but not inside a number (3.5).
CLAUSE_DELIM = "。！？!?；;，,、\n"
SENTENCE_DELIM = "。！？!?\n"
_DOT = r"(?<!\d)\.|\.(?!\d)"
_SENTENCE_RE = re.compile(rf"(?:[^{SENTENCE_DELIM}.]|(?<=\d)\.(?=\d))+(?:[{SENTENCE_DELIM}]|{_DOT})*|(?:[{SENTENCE_DELIM}]|{_DOT})+")
_CLAUSE_RE = re.compile(rf"(?:[^{CLAUSE_DELIM}.]|(?<=\d)\.(?=\d))+(?:[{CLAUSE_DELIM}]|{_DOT})*|(?:[{CLAUSE_DELIM}]|{_DOT})+")

# Past time: relative words, dates, "since then", narrative report style.
PAST_RE = re.compile(
    r"上周|上个?月|去年|前年|前几天|前段时间|之前|曾经|(?<![姓老小])曾(?=[在经被于多两三几一])|以前|当时|那天|那年|当年|年前|个?月前"
    r"|上次|昨[天晚日]|前天|早年|早些年|多年来|这些年|几年来|一年来|至今|迄今|事后|后来|有一次|有一回"
    r"|(?:19|20)\d{2}\s*年|\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{1,2}\s*月份|今年\s*\d{1,2}\s*月|\d{1,2}\s*[时点]许"
    r"|(发生|出现|出|遭|遭遇|着|起|失|受|见|看|看到|看见|碰到|遇到|遇见|听|听到|经历)过"
    r"|已经?(被)?(扑灭|处理|解决|抢救|送医|抓获|结束|找到|找回|救出|私了|结案|立案|报案)|(?<![没未])(找到|找回|救出来)了|平安(回家|到家)"
)
# "Now" in a short message: these words, "了！", "！！".
NOW_RE = re.compile(
    r"正在|现在|此刻|此时|目前|还在|仍在|一直在|马上|赶紧|赶快|快[来点派救帮]|救命|紧急|刚刚|刚才|立即|立刻|请速|求救|救救"
    r"|了[!！]|[!！]{2}")
# A call for help.
URGENT_RE = re.compile(r"救命|救救|求救|快[来派救]|赶紧|赶快|请速|马上派|立即派|立刻派")
# In a long letter "现在" and "目前" mean "nowadays", "！" is emphasis and "打电话给我求救" is narrative; only these
# anchor a trigger there: an action going on or just over, someone still not found, or an imperative call for help.
STRONG_NOW_RE = re.compile(
    r"正在|此刻|还在|仍在|刚刚|刚才|就在刚才|到现在(还|都)?(没|未)|还(没|未)(有)?(找到|回来|回家|联系上|出来|救出)")
LETTER_URGENT_RE = re.compile(r"救命|救救我|快[来派救]|请速|(马上|立即|立刻|赶紧|赶快)(派|来|出警|过来)")

# A message longer than this is a letter, not a live report typed in a chat or said on the phone:
# a trigger in it needs a "now" anchor of its own (a long letter narrates; it does not raise an alarm).
LETTER_CHARS = 150


@dataclass(frozen=True)
class Clause:
    text: str  # with trailing punctuation
    start: int  # offset in the whole text
    sentence: int  # index of its sentence
    index: int  # index within its sentence


def clauses(text: str) -> list[Clause]:
    out: list[Clause] = []
    for si, sm in enumerate(_SENTENCE_RE.finditer(text)):
        for ci, cm in enumerate(_CLAUSE_RE.finditer(sm.group(0))):
            out.append(Clause(cm.group(0), sm.start() + cm.start(), si, ci))
    return out


def sentences(text: str) -> list[str]:
    return _SENTENCE_RE.findall(text)


def own_time(clause: str) -> str | None:
    """'now', 'past' or None for one clause; a now word outweighs a past word in the same clause."""
    if NOW_RE.search(clause):
        return "now"
    if PAST_RE.search(clause):
        return "past"
    return None


def local_time(cl: Clause, sentence_clauses: list[Clause]) -> str | None:
    """The time of a trigger's clause: its own cue, else the nearest cue before it, else after it, in its sentence."""
    t = own_time(cl.text)
    if t:
        return t
    for other in reversed(sentence_clauses[:cl.index]):
        t = own_time(other.text)
        if t:
            return t
    for other in sentence_clauses[cl.index + 1:]:
        t = own_time(other.text)
        if t:
            return t
    return None


# Narrative and reported speech in a letter or an official reply: 随即…, 其称…正在…, 经调查…
NARRATIVE_RE = re.compile(r"随即|随后|当即|于是|后经|经查|经调查|调查|回复|笔录|(?<![声])称|声称|据[^，。]{0,6}(说|称|反映|介绍)")


def letter_anchored(cl: Clause, sentence_clauses: list[Clause]) -> bool:
    """In a letter, a trigger is live only when its clause says it is going on now (or its clause or a later one in
    the sentence calls for help) and nothing earlier in the sentence dates it ("2019年12月5日…还在睡梦中的…")."""
    later = "".join(c.text for c in sentence_clauses[cl.index:])
    if LETTER_URGENT_RE.search(later):
        return True
    if not STRONG_NOW_RE.search(cl.text):
        return False
    return not any(PAST_RE.search(c.text) or NARRATIVE_RE.search(c.text) for c in sentence_clauses[:cl.index + 1])


@lru_cache(maxsize=1)
def _jieba():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    jieba.dt.initialize()
    return jieba.dt, jieba.posseg.dt.word_tag_tab


def warm() -> None:
    """Load jieba's dictionary and tag table now (about 1.5 s), not on the first ticket with a trigger word."""
    _jieba()


def is_whole_word(clause: str, start: int, end: int) -> bool:
    """False when the match [start, end) is only part of other words (see the module docstring)."""
    tk, tags = _jieba()
    bounds: list[tuple[str, int, int]] = list(tk.tokenize(clause, HMM=False))
    edges = {s for _, s, _ in bounds} | {e for _, _, e in bounds}
    if start in edges and end in edges:
        return True
    for word, s, e in bounds:
        if s <= start and end <= e:  # the match lies inside one longer word
            if e == end:  # the head of a compound (食物中毒), not the tail of an idiom (引狼入室)
                return tags.get(word) != "i"
            # the start of a set phrase (昏迷不醒), not of a noun made from the word (跳楼价, 绑架案, 火灾险);
            # a one-character verb may start a verb-object word (撬锁, 偷车): its own pattern rules out 偷偷, 偷税
            return s == start and (tags.get(word) == "l" or end - start == 1)
    return start in edges or end in edges  # straddling on both sides: 严重|伤害, 进入|室内
