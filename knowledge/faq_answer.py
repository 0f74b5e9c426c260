"""Answering a citizen from the one question of an FAQ article that they asked.

An FAQ article holds several question-answer pairs, a pair a line or paragraph ("问题？答案", or
"问：问题？" then "答：答案"), the answer running over the following lines until the next question. A
line is a question line by the search index's own rule (:func:`knowledge.search.base.faq_questions`),
so the chatbot splits an article exactly where the index sees its questions; an article with fewer
than two questions is no FAQ. Text before the first question (an introduction) belongs to no pair.

The pair answered is the one whose question shares the most of the citizen's question: its words
(with synonyms, as the search expands them) and its character pairs, each weighed by its information
in the dictionary (:meth:`knowledge.confidence.MatchScorer.weight`) and by how few of the article's
questions hold it (BM25's idf over the questions: a word every question has, 燃气 in a gas FAQ, tells
none apart). Character pairs inside filler words (怎么, 么办, 需要) do not count. When no pair is clearly
ahead of the others, :func:`choose_pair` gives None. The chatbot then answers from the article's start only
when the question asks for the FAQ as a whole; otherwise it offers the best pairs' questions
(:func:`candidate_pairs`) as choices. It answers with a chosen pair only when that pair passes the answer checks
itself (:meth:`knowledge.confidence.MatchScorer.judge_shown`), because sibling pairs share most of their
words. An article holding one question and its answer is judged as that pair (:func:`single_pair`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from knowledge.confidence import MatchScorer
from knowledge.search.base import SYNONYM_WEIGHT, SearchDoc, faq_questions, query_terms, weighted
from knowledge.search.ranker import bm25_idf
from knowledge.tokenize import STOPWORDS

CLEAR_LEAD = 0.3  # the best pair's score must be this share ahead of the runner-up's to be answered alone


@dataclass(frozen=True)
class FaqPair:
    question: str  # the question, as the search index counts it ("问：" dropped)
    text: str      # the question line and its answer lines, as written


def faq_pairs(title: str, body: str) -> list[FaqPair]:
    """The question-answer pairs of an FAQ article's plain-text ``body`` (lines), in order; [] when the
    body holds fewer than two different questions (no FAQ). Lines before the first question are left out."""
    if len(faq_questions(_article(title, body))) < 2:
        return []
    pairs: list[tuple[str, list[str]]] = []
    for line in (line.strip() for line in body.splitlines()):
        asked = _question_of(title, line)
        if asked:
            pairs.append((asked, [line]))
        elif pairs and line:
            pairs[-1][1].append(line)
    if len({question for question, _ in pairs}) < 2:
        return []
    return [FaqPair(question, "\n".join(lines)) for question, lines in pairs]


def single_pair(title: str, body: str) -> FaqPair | None:
    """The one question-answer pair of an article that is a single FAQ entry (its body starts with a question
    line by the index's rule, its title's own included, and holds no second one), or None."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if not lines or faq_pairs(title, body):
        return None
    asked = _question_of("", lines[0])
    if not asked or any(_question_of("", line) for line in lines[1:]):
        return None
    return FaqPair(asked, "\n".join(lines))


def choose_pair(scorer: MatchScorer, question: str, pairs: Sequence[FaqPair]) -> FaqPair | None:
    """The pair of ``pairs`` whose question best matches the citizen's ``question``, or None when none is
    clearly best (no shared word, or a runner-up within :data:`CLEAR_LEAD` of it)."""
    ranked = rank_pairs(scorer, question, pairs)
    if len(ranked) < 2:
        return None
    (best, best_score), (_, runner_up) = ranked[0], ranked[1]
    if best_score <= 0 or runner_up > (1 - CLEAR_LEAD) * best_score:
        return None
    return best


def candidate_pairs(scorer: MatchScorer, question: str, pairs: Sequence[FaqPair], limit: int = 3) -> list[FaqPair]:
    """Up to ``limit`` pairs sharing something with ``question``, best first: the choices offered when no
    one pair answers it."""
    return [pair for pair, score in rank_pairs(scorer, question, pairs)[:limit] if score > 0]


def rank_pairs(scorer: MatchScorer, question: str, pairs: Sequence[FaqPair]) -> list[tuple[FaqPair, float]]:
    """Every pair with its score against ``question`` (see the module's doc), best first; [] for fewer than
    two pairs (no FAQ)."""
    if len(pairs) < 2:
        return []
    tokenizer = scorer.tokenizer
    terms = query_terms(tokenizer, scorer.synonyms, question)
    bigrams = {b: 1.0 for b in terms.own_bigrams}
    for pair_bigrams in terms.added_bigrams:
        for b in pair_bigrams:
            bigrams.setdefault(b, SYNONYM_WEIGHT)
    views: list[tuple[Mapping[str, float], Callable[[str], list[str]]]] = [
        (weighted(terms.words, terms.added), tokenizer.words),
        ({b: w for b, w in bigrams.items() if not _filler(b)}, tokenizer.bigrams),
    ]
    scores = [0.0] * len(pairs)
    for asked, split in views:
        held = [set(split(pair.question)) for pair in pairs]
        for term, weight in asked.items():
            df = sum(term in h for h in held)
            if not df:
                continue
            idf = float(bm25_idf(len(pairs), df))
            for i, h in enumerate(held):
                if term in h:
                    scores[i] += weight * scorer.weight(term) * idf
    ranked = sorted(range(len(pairs)), key=scores.__getitem__, reverse=True)
    return [(pairs[i], scores[i]) for i in ranked]


def _article(title: str, body: str) -> SearchDoc:
    return SearchDoc(kind="article", ref_id="", title=title, body=body)


def _question_of(title: str, line: str) -> str | None:
    """The question ``line`` starts with, by the index's rule, or None."""
    found = faq_questions(_article(title, line))
    return found[0] if found else None


def _filler(bigram: str) -> bool:
    """Whether a character pair lies inside a filler word (怎么 and 么办 of 怎么办): it tells no question apart."""
    return any(bigram in word for word in STOPWORDS)
