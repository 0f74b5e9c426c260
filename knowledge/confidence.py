"""How sure the chatbot is that a search hit answers a citizen's question.

Search scores rank articles but say nothing absolute (and differ between
backends), so the chatbot judges each hit with three shares in [0, 1]:

* ``question``: how much of the question the article talks about. Only the
  question's topic words count: words jieba tags as time, pronoun, adverb,
  number, measure word, preposition, conjunction or particle (昨天, 我家, 一直,
  上个月 ...) are the citizen's context, not the topic. Each word weighs by its
  information, ``log(total / frequency)`` in jieba's dictionary, so 公积金
  outweighs 准备 and 孩子.
* ``topic``: how much of the article's title and keywords the question
  mentions (weighted the same way). An article that only mentions the asked
  word in passing (a 身份证 needed to reissue a 社保卡) scores low here.
* ``lead``: how far the hit is ahead of the best other hit, ``1 - other / own``,
  each hit weighed by its search score times the mean of its two shares (the
  search alone often scores a neighbour close: 公积金贷款 for 公积金怎么提取);
  0 when another article is as good.

``confidence`` (the mean of the three) decides a direct answer, together with a
minimum ``topic`` share; ``relevance`` (the mean of the two text shares)
decides whether a hit is worth offering as a choice. The thresholds live in
:mod:`knowledge.chatbot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from hotline.textnorm import normalise

# jieba part-of-speech tags of context words: time, pronoun, adverb, numeral, measure word, preposition,
# conjunction, auxiliary, modal particle, interjection, onomatopoeia, direction.
CONTEXT_TAGS = ("t", "r", "d", "m", "q", "p", "c", "u", "y", "e", "o", "f")
RARE = 10  # dictionary frequency assumed for words jieba does not know (names, typos, new words)


@dataclass(frozen=True)
class Match:
    question: float
    topic: float
    lead: float

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

    def weight(self, word: str) -> float:
        return self.tokenizer.information(word, RARE)

    def share(self, words: Sequence[str], text: str) -> float:
        """Information-weighted share of ``words`` found in ``text`` (a synonym counts)."""
        haystack = normalise(text).lower()
        total = sum(self.weight(w) for w in words)
        found = sum(self.weight(w) for w in words
                    if w in haystack or any(s in haystack for s in self.synonyms.group_of(w)))
        return found / total if total else 0.0

    def match(self, question: str, scores: Sequence[float], texts: Sequence[str],
              topics: Sequence[str]) -> list[Match]:
        """One :class:`Match` per hit; ``texts`` are the hits' whole articles, ``topics`` their titles
        and keywords, ``scores`` their search scores (best first)."""
        if not texts:
            return []
        words = self.topic_words(question)
        shares = []
        for text, topic in zip(texts, topics):
            topic_words = [w for w in dict.fromkeys(self.tokenizer.words(topic)) if len(w) > 1]
            shares.append((self.share(words, text), self.share(topic_words, question)))
        weighed = [score * (q + t) / 2 for score, (q, t) in zip(scores, shares)]
        out = []
        for i, (q, t) in enumerate(shares):
            other = max((w for j, w in enumerate(weighed) if j != i), default=0.0)
            lead = max(0.0, 1.0 - other / weighed[i]) if weighed[i] > 0 else 0.0
            out.append(Match(q, t, lead))
        return out
