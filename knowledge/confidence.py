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
from knowledge.places import is_relative

# jieba part-of-speech tags of context words: time, pronoun, adverb, numeral, measure word, preposition,
# conjunction, auxiliary, modal particle, interjection, onomatopoeia, direction.
CONTEXT_TAGS = ("t", "r", "d", "m", "q", "p", "c", "u", "y", "e", "o", "f")
RARE = 10  # dictionary frequency assumed for a character jieba's dictionary lacks
# A question asking for a kind of fact (how much, which number, when, what share, where, which address or
# e-mail) is only answered by an article that states a fact of that kind: kind -> (how questions ask for it,
# how articles state it). "where" is met by any place, office, channel or number the article names.
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
    "email": (re.compile(r"邮箱|电子邮件|电子信箱|e-?mail", re.I),
              re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    "address": (re.compile(r"地址|具体位置|门牌"),
                re.compile(r"地址|位于|[路街巷道]\d+号|\d+号(?!码)|\d+[楼层室]")),
    "where": (re.compile(r"(?:在|去|到)?哪(?:里|儿)?(?:办|交|领|缴|申请|补|换|开|报名|登记|预约|投诉|举报|反映|打|查)"
                         r"|什么地方|哪个(?:窗口|部门|网点|营业厅|大厅)|去哪"),
              re.compile(r"地址|地点|位于|窗口|大厅|网点|营业厅|[路街巷道]\d+号"
                         r"|(?:到|在|向|去|前往|由)[^，。；\n]{1,20}(?:办|申请|领|缴|登记|报名|补|换|投诉|举报|反映|咨询|预约)"
                         r"|部门|[^\W\d]局|厅|派出所|中心|服务站|办事处|管理所|街道|社区|居委会|村委会|公司|银行|医院"
                         r"|网上|线上|登录|小程序|APP|公众号|官网|网站|拨打|电话|\d{5,}", re.I)),
    "time": (re.compile(r"几号|哪天|哪一天|几月|什么时候|何时|几点|多久|多长时间|期限|截止|(?:几|多少)个?(?:天|工作日)"),
             re.compile(r"\d+\s*个?(?:月|日|号|时|点|天|年|小时|工作日)"
                        r"|[一二三四五六七八九十两半]+个?(?:月|日|天|年|小时|工作日)|当月|当天|当日|即时|当场|次日|季度")),
}

# A qualifier (:meth:`MatchScorer.lacking_qualifier`) weighs at least this much information.
QUALIFIER_WEIGHT = 9.0
NOUN_TAGS = ("n", "vn", "eng")  # jieba tags of nouns (not ns, nr: a place is judged by knowledge.places)

# Verbs that ask rather than name an act (需要什么材料, 可以投诉吗).
MODAL_VERBS = frozenset("需要 可以 能够 才能 必须 应该 应当 知道 想问 请问 要求 允许 觉得 希望 打算 准备 想要".split())


# What makes a clause a question, and the words that ask how an act is done (the act follows them).
ASKS = re.compile(r"怎|如何|咋|哪|什么|啥|多少|(?<!好)几(?!乎)|吗|能否|是否|可否|有没有|能不能|可不可以|会不会"
                  r"|要不要|行不行|为什么|为啥|[么呢][？?]?$|[？?]$")
MANNER_WORDS = frozenset("怎么 怎样 如何 咋 怎么样".split())
# Words asking what (a thing, not a manner): the thing is the noun after them (什么奖励, 何种方式, 哪些材料), else
# the last noun before them (审批流程是什么, 担保额度是多少).
WHAT_WORDS = re.compile(r"^(?:有何|何种|何|什么样|什么|啥|哪些|哪个|哪种|哪类|哪|多少|几)")
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
    qualifier: str | None = None  # a word qualifying a topic word that the article lacks (lacking_qualifier)
    lacks_thing: bool = False  # the thing a what-question asks for is not named (judge_shown: an FAQ pair)

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

    def asked_thing(self, question: str) -> str | None:
        """The thing a what-question asks for, read in the last clause that asks what: the first noun after
        its asking word (奖励 in 有何奖励, 方式 in 采用何种接运方式; a verb right after it counts, 要求 in 有何要求),
        else the last noun before it (流程 in 审批流程是什么, 额度 in 担保额度是多少); words of two or more
        characters, not places or names. None for a question that asks how (the act check's matter), for a
        kind of fact (什么时候, 什么电话: :data:`FACT_KINDS`), or naming no such word."""
        asking = [c for c in _clauses(self.tokenizer.tagged(question)) if any(WHAT_WORDS.match(w) for w, _ in c)]
        if not asking:
            return None
        clause = asking[-1]
        at = next(i for i, (word, _) in enumerate(clause) if WHAT_WORDS.match(word))
        nouns = [(i, word) for i, (word, flag) in enumerate(clause) if len(word) > 1 and flag.startswith(NOUN_TAGS)
                 and not flag.startswith(("ns", "nr")) and not re.search(r"\d", word) and not WHAT_WORDS.match(word)]
        if at + 1 < len(clause):  # 有何要求, 有什么帮助: the word right after may be a verb used as a noun
            word, flag = clause[at + 1]
            if len(word) > 1 and flag in ("v", "vn") and word not in MODAL_VERBS and not ASKS.search(word):
                nouns = [(at + 1, word)]
        after = [word for i, word in nouns if i > at]
        before = [word for i, word in nouns if i < at]
        thing = after[0] if after else before[-1] if before else None
        # 什么时候, 什么电话: a kind of fact (lacks_asked_fact), not a thing to be named
        asked_facts = [found.group() for asks, _ in FACT_KINDS.values() if (found := asks.search(question))]
        return None if thing is None or any(thing in fact for fact in asked_facts) else thing

    def lacking_qualifier(self, question: str, text: str, topic: str) -> str | None:
        """A word of the question that qualifies a word of the article's ``topic`` (its title and keywords)
        but that ``text`` lacks: 养老保险 in 城乡居民养老保险怎么缴费 against 城乡居民医保参保缴费 (the shared
        城乡居民 qualifies another insurance), 货车 in 货车噪音扰民 against 施工噪音扰民投诉, 医院 in 医院的停车费
        against 小区停车收费. The two words stand side by side in the question (的 between them
        allowed); the qualifier is a weighty noun (no place, name, context word, modal or asking word) that
        neither ``text`` nor ``topic`` holds (nor a part longer than its half: 停车 holds 停车费, 保险 does not
        hold 养老保险), next to a noun ``topic`` holds.
        None when there is none."""
        clauses = _clauses(self.tokenizer.tagged(question))
        asking = [c for c in clauses if ASKS.search("".join(word for word, _ in c))]
        for clause in asking or clauses:  # a story around the question is not what is asked
            kinds: list[str | None] = []  # per word: "head" (a noun of the topic), "lacking" (a qualifier) or None
            words = [(word, flag) for word, flag in clause if word != "的"]  # 医院的停车费: side by side
            for word, flag in words:
                if len(word) < 2 or not flag.startswith(NOUN_TAGS) or flag.startswith(("ns", "nr")) \
                        or is_relative(word) or word in MODAL_VERBS or ASKS.search(word) \
                        or re.search(r"\d", word) or (len(word) == 2 and word[0] == word[1]):  # 问问: no noun
                    kinds.append(None)
                    continue
                if self._holds(topic, word):
                    kinds.append("head")
                elif flag == "vn" and kinds and kinds[-1] == "head":  # 标准贴出来: a verb after its object
                    kinds.append(None)
                elif not self._holds(text, word) and self.weight(word) >= QUALIFIER_WEIGHT:
                    kinds.append("lacking")
                else:
                    kinds.append(None)
            for (a, ka), (b, kb) in zip(zip([w for w, _ in words], kinds), zip([w for w, _ in words[1:]], kinds[1:])):
                if {ka, kb} == {"head", "lacking"}:
                    return a if ka == "lacking" else b
        return None

    def _holds(self, text: str, word: str) -> bool:
        """Whether ``text`` holds ``word`` or a part of it longer than its half (停车 of 停车费, not 保险 of
        养老保险), or a synonym of one."""
        parts = [w for w in dict.fromkeys([word, *self.tokenizer.words(word)]) if len(w) * 2 > len(word)]
        return any(self.share([part], text) > 0 for part in parts)

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
            out.append(Match(q, t, lead, missing, lacks_asked_fact(question, texts[i]), lacks_act,
                             self.lacking_qualifier(question, texts[i], topics[i])))
        return out

    def judge_shown(self, question: str, shown: str, context: str, topic: str) -> Match:
        """The checks of :meth:`match` on the text the citizen will be shown (``shown``: an FAQ article's
        pair): ``question`` is the share of the question's topic words in ``shown`` or ``context`` (the
        article's title and keywords, which name what its pairs are about: 防控违规行为 for 举报后多久会处理),
        ``missing`` the largest share of one of them in neither; the asked fact and act are looked for in
        ``shown`` alone, and the
        qualifier against ``topic``; the thing a what-question asks for (:meth:`asked_thing`, 奖励 in 有何奖励)
        must be named in ``shown``: sibling pairs of an FAQ differ by little else (审批流程 / 审批材料).
        ``topic`` and ``lead`` are left to the article's match (1.0)."""
        own, missing = self._shares(self.topic_words(question), f"{shown} {context}")
        act = self.asked_act(question)
        lacks_act = act is not None and self.share([act], shown) == 0.0
        thing = self.asked_thing(question)
        return Match(own, 1.0, 1.0, missing, lacks_asked_fact(question, shown), lacks_act,
                     self.lacking_qualifier(question, f"{shown} {context}", topic),
                     thing is not None and self.share([thing], shown) == 0.0)
