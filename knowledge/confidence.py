"""How sure the chatbot is that a search hit answers a citizen's question.

Search scores rank articles but say nothing absolute (and differ between
backends), so the chatbot judges each hit with three shares in [0, 1]:

* ``question``: how much of the question the article talks about. Only the
  question's topic words count: words jieba tags as time, pronoun, adverb,
  number, measure word, preposition, conjunction or particle (昨天, 我家, 一直,
  上个月 ...) are the citizen's context, not the topic. Each word weighs by its
  information, ``log(total / frequency)`` in jieba's dictionary, so 公积金
  outweighs 准备 and 孩子 (a word the dictionary lacks, by its characters').
* ``topic``: how much of the article's title and keywords the question
  mentions (weighted the same way). An article that only mentions the asked
  word in passing (a 身份证 needed to reissue a 社保卡) scores low here.
* ``lead``: how far the hit is ahead of the best other hit, ``1 - other / own``,
  each hit weighed by its search score times the mean of its two shares (the
  search alone often scores a neighbour close: 公积金贷款 for 公积金怎么提取);
  0 when another article is as good.

``missing`` is the largest share of the question's information held by a
single topic word the article lacks: 租金 in 公租房租金多少钱 when the article
is about applying, not about rent.

``lacks_fact`` says the question asks for a kind of fact (an amount, a phone
number, a share, a time, licence points) that the article states none of (:data:`FACT_KINDS`);
``lacks_act`` that the act it asks about is not in the article (养犬登记要怎么注销
against the article on registering). The act is read in the clause that asks, as
a story may come before or after it: the first verb after 怎么/如何/咋, else the
clause's last verb; a message where no clause asks (a complaint told as a story)
names no act.

``confidence`` (the mean of the three) decides a direct answer, together with a
minimum ``topic`` share, a maximum ``missing`` one and nothing lacking;
``relevance`` (the mean of the two text shares) decides whether a hit is worth
offering as a choice. The thresholds live in :mod:`knowledge.chatbot`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from hotline.textnorm import normalise

# jieba part-of-speech tags of context words: time, pronoun, adverb, numeral, measure word, preposition,
# conjunction, auxiliary, modal particle, interjection, onomatopoeia, direction.
CONTEXT_TAGS = ("t", "r", "d", "m", "q", "p", "c", "u", "y", "e", "o", "f")
RARE = 10  # dictionary frequency assumed for a character jieba's dictionary lacks
# A question asking for a kind of fact (how much, which number, when, what share) is only answered by an
# article that states a fact of that kind: kind -> (how questions ask for it, how articles state it).
FACT_KINDS = {
    "amount": (re.compile(r"多少钱|几块钱|多少元|(?:费|价|租金|钱)[是要]?多少|[交收付]多少|收不收费|要钱吗"),
               re.compile(r"\d[\d.,]*\s*(?:元|万元|块)|免费|不收费|不收取")),
    "phone": (re.compile(r"(?:电话|号码|热线)是?多少|(?:什么|哪个)(?:电话|号码|热线)|打哪个|电话号码"
                         r"|(?:联系|咨询|报修|投诉|举报|服务|预约)(?:电话|热线)"),
              re.compile(r"\d{5,}|\d{3,4}-\d{7,8}")),
    "share": (re.compile(r"比例|百分之|几成|利率|多少个点"),
              re.compile(r"\d+(?:\.\d+)?\s*%|百分之|[\d一二三四五六七八九十]+成")),
    "points": (re.compile(r"[扣记]几分|[扣记]多少分|扣不扣分|扣分吗|记分吗"),
               re.compile(r"[扣记]\s*\d+\s*分|不扣分|不记分|记分")),
    "time": (re.compile(r"几号|哪天|哪一天|几月|什么时候|何时|几点|多久|多长时间|期限|截止"),
             re.compile(r"\d+\s*个?(?:月|日|号|时|点|天|年|小时|工作日)"
                        r"|[一二三四五六七八九十两半]+个?(?:月|日|天|年|小时|工作日)|当月|当天|当日|即时|当场|次日|季度")),
}

# Verbs that ask rather than name an act (需要什么材料, 可以投诉吗).
MODAL_VERBS = frozenset("需要 可以 能够 才能 必须 应该 应当 知道 想问 请问 要求 允许 觉得 希望 打算 准备 想要".split())


# What makes a clause a question, and the words that ask how an act is done (the act follows them).
ASKS = re.compile(r"怎|如何|咋|哪|什么|啥|多少|(?<!好)几(?!乎)|吗|能否|是否|可否|有没有|能不能|可不可以|会不会"
                  r"|要不要|行不行|为什么|为啥|[么呢][？?]?$|[？?]$")
MANNER_WORDS = frozenset("怎么 怎样 如何 咋 怎么样".split())
CLAUSE_ENDS = frozenset("，,。.？?！!；;、~～\n ")


def _asking_clause(tagged: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """The last clause that asks something, or None."""
    asking = [c for c in _clauses(tagged) if ASKS.search("".join(word for word, _ in c))]
    return asking[-1] if asking else None


def _clauses(tagged: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Tagged words split at punctuation; a question mark stays with the clause it ends."""
    out: list[list[tuple[str, str]]] = [[]]
    for word, flag in tagged:
        if word.strip() and word not in CLAUSE_ENDS:
            out[-1].append((word, flag))
            continue
        if word in "？?":
            out[-1].append((word, flag))
        out.append([])
    return [c for c in out if c]


def lacks_asked_fact(question: str, text: str) -> bool:
    """True when the question asks for a kind of fact (an amount, a phone number, a share, a time, licence
    points) that ``text`` states none of: 公租房租金多少钱 against an article on who may apply."""
    question, text = normalise(question), normalise(text)
    return any(asks.search(question) and not states.search(text) for asks, states in FACT_KINDS.values())


@dataclass(frozen=True)
class Match:
    question: float
    topic: float
    lead: float
    missing: float = 0.0  # the largest share of the question's information held by one word the article lacks
    lacks_fact: bool = False  # the question asks for a kind of fact the article does not state
    lacks_act: bool = False  # the act the question asks about (its last verb) is not in the article

    @property
    def confidence(self) -> float:
        return (self.question + self.topic + self.lead) / 3

    @property
    def relevance(self) -> float:
        return (self.question + self.topic) / 2


class MatchScorer:
    """Scores search hits against a question with the index's own tokenizer and synonyms."""

    def __init__(self, tokenizer, synonyms) -> None:
        self.tokenizer, self.synonyms = tokenizer, synonyms

    def topic_words(self, question: str) -> list[str]:
        """The question's search-mode words of two or more characters, without context words."""
        words = [w for w in dict.fromkeys(self.tokenizer.words(question)) if len(w) > 1] \
            or self.tokenizer.words(question)
        context = self.tokenizer.tagged_words(question, CONTEXT_TAGS)
        return [w for w in words if not any(w in c for c in context)] or words

    def asked_act(self, question: str) -> str | None:
        """The act a question asks about, read in the clause that asks (a story may come before or after
        it): the first verb after 怎么/如何/咋 (解除 in 怎么解除挂失), else the clause's last verb (赔偿 in
        能找供电公司赔偿吗); verbs of two or more characters that are neither modals nor asking words
        (咋办). None when no clause asks (a complaint told as a story) or the asking clause names no act."""
        clause = _asking_clause(self.tokenizer.tagged(question))
        if clause is None:
            return None
        manner = max((i for i, (word, _) in enumerate(clause) if word in MANNER_WORDS), default=-1)
        verbs = [(i, word) for i, (word, flag) in enumerate(clause)
                 if flag == "v" and len(word) > 1 and word not in MODAL_VERBS and not ASKS.search(word)]
        after = [word for i, word in verbs if i > manner >= 0]
        if after:
            return after[0]
        return verbs[-1][1] if verbs else None

    def weight(self, word: str) -> float:
        """A word's information. A word the dictionary lacks weighs as its characters do on average: most
        are segmentation scraps (哪办 from 在哪办, 钱会 from 钱会补到), which must not outweigh real words."""
        if len(word) > 1 and not self.tokenizer.knows(word):
            return sum(self.tokenizer.information(c, RARE) for c in word) / len(word)
        return self.tokenizer.information(word, RARE)

    def share(self, words: Sequence[str], text: str) -> float:
        """Information-weighted share of ``words`` found in ``text`` (a synonym counts)."""
        return self._shares(words, text)[0]

    def _shares(self, words: Sequence[str], text: str) -> tuple[float, float]:
        """(share of ``words`` found in ``text``, largest share of one word not found)."""
        haystack = normalise(text).lower()
        total = sum(self.weight(w) for w in words)
        if not total:
            return 0.0, 0.0
        lacking = [self.weight(w) for w in words
                   if not (w in haystack or any(s in haystack for s in self.synonyms.group_of(w)))]
        return 1.0 - sum(lacking) / total, max(lacking, default=0.0) / total

    def match(self, question: str, scores: Sequence[float], texts: Sequence[str],
              topics: Sequence[str]) -> list[Match]:
        """One :class:`Match` per hit; ``texts`` are the hits' whole articles, ``topics`` their titles
        and keywords, ``scores`` their search scores (best first)."""
        if not texts:
            return []
        words = self.topic_words(question)
        act = self.asked_act(question)
        shares = []
        for text, topic in zip(texts, topics):
            topic_words = [w for w in dict.fromkeys(self.tokenizer.words(topic)) if len(w) > 1]
            shares.append((*self._shares(words, text), self.share(topic_words, question)))
        weighed = [score * (q + t) / 2 for score, (q, _, t) in zip(scores, shares)]
        out = []
        for i, (q, missing, t) in enumerate(shares):
            other = max((w for j, w in enumerate(weighed) if j != i), default=0.0)
            lead = max(0.0, 1.0 - other / weighed[i]) if weighed[i] > 0 else 0.0
            lacks_act = act is not None and self.share([act], texts[i]) == 0.0
            out.append(Match(q, t, lead, missing, lacks_asked_fact(question, texts[i]), lacks_act))
        return out
