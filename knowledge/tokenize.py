"""Chinese tokenization shared by every search backend.

Words come from jieba's search mode (long words plus their sub-words); a
second view of the text is its character bigrams, which catches words jieba
splits differently in the query and in the article. Backends receive tokens,
never raw text, so Elasticsearch needs no server-side Chinese plugin.
"""

from __future__ import annotations

import html
import logging
import math
import operator
import re

import jieba

from hotline.textnorm import normalise

_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]+>")
# Question and filler words that carry no topic (kept short and obvious).
STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 么 是 在 和 与 及 或 对 于 为 把 被 我 你 他 她 它 我们 请问 请 一下 "
    "什么 怎么 怎样 如何 哪些 哪个 哪里 多少 是否 有何 有 没有 可以 能 能否 需要 要 会 "
    "怎么办 什么样 为什么 还 也 都 就 吗 这个 那个 一个".split()
)
# Words that ask what to do rather than name a topic: a query's character pairs are taken around them, so that
# 公司没发工资怎么办 does not match 自来水水质发黄怎么办 on 怎么 and 么办. Other question words (如何, 哪些 …) keep
# their pairs: an FAQ's questions are asked the same way, and leaving them out cost 0.6 point of recall@1 on the
# policy Q&A benchmark (bench/kb_results.md).
ASKING_WORDS = re.compile("怎么办|咋办|怎么弄|如何是好")


def html_to_text(value: str) -> str:
    """Plain text of (sanitized) HTML, for indexing and snippets."""
    return html.unescape(_TAG.sub(" ", value or "")).replace("\xa0", " ")


_BASE: list = []  # jieba's parsed main dictionary, loaded once per process (read-only)
_TAGS: list = []  # jieba's word -> part-of-speech table, loaded once per process (read-only)


def _base_dictionary() -> tuple[dict, int]:
    if not _BASE:
        jieba.setLogLevel(logging.WARNING)
        base = jieba.Tokenizer()
        base.initialize()
        _BASE.append((base.FREQ, base.total))
    return _BASE[0]


def _word_tags() -> dict:
    """jieba's word -> part-of-speech table, read once per process (the dictionary file, about 0.5 s): only
    when something is tagged (the chatbot's answer rules), not for search alone."""
    if not _TAGS:
        import jieba.posseg  # its import reads the table (jieba.posseg.dt); one copy serves every tagger

        _TAGS.append(jieba.posseg.dt.word_tag_tab)
    return _TAGS[0]


def _tagger(tokenizer: jieba.Tokenizer):
    """jieba's part-of-speech tagger over a private tokenizer, sharing the one word-tag table."""
    import jieba.posseg

    tags = _word_tags()
    tagger = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)  # __init__ would read the table again
    tagger.tokenizer, tagger.word_tag_tab = tokenizer, tags
    return tagger


class Tokenizer:
    """A private jieba instance (so user words do not leak between apps) plus bigrams."""

    def __init__(self, user_words: list[str] | tuple[str, ...] = ()) -> None:
        freq, total = _base_dictionary()
        self._jieba = jieba.Tokenizer()
        self._jieba.FREQ, self._jieba.total = dict(freq), total
        self._jieba.initialized = True
        self._tagger = None
        for word in user_words:
            self.add_word(word)

    def add_word(self, word: str, freq: int | None = None) -> None:
        """Make ``word`` a word: an unknown one with frequency 20000; with ``freq``, that frequency even for a
        known word (high enough keeps a phrase whole: 没人管 over 没人 管)."""
        if not word:
            return
        if freq is not None:
            self._jieba.add_word(word, freq=freq)
        elif not self._jieba.FREQ.get(word):
            self._jieba.add_word(word, freq=20000)

    def accurate(self, text: str) -> list[str]:
        """``text`` (lower-cased) in jieba's accurate mode from the dictionary alone (no HMM guesses for unknown
        runs), spaces left out: for word lists matched as whole words."""
        return [w for w in self._jieba.cut(text.lower(), HMM=False) if w.strip()]

    def words(self, text: str) -> list[str]:
        """jieba search-mode tokens, lower-cased, without punctuation or stopwords."""
        out = []
        for tok in self._jieba.cut_for_search(normalise(text or "").lower()):
            tok = tok.strip()
            if tok and _WORD.fullmatch(tok) and tok not in STOPWORDS:
                out.append(tok)
        return out

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """``text`` in jieba's accurate mode, each word with its part-of-speech tag."""
        if self._tagger is None:
            self._tagger = _tagger(self._jieba)
        return [(p.word, p.flag) for p in self._tagger.cut(normalise(text or "").lower())]

    def tagged_words(self, text: str, tags: tuple[str, ...]) -> list[str]:
        """Words of ``text`` whose part-of-speech tag starts with one of ``tags``."""
        return [word for word, flag in self.tagged(text) if flag.startswith(tags)]

    def knows(self, word: str) -> bool:
        """Whether ``word`` is in the dictionary (jieba's, or added)."""
        return bool(self._jieba.FREQ.get(word))

    def information(self, word: str, unknown: int = 1) -> float:
        """``log(total / frequency)`` of ``word`` in the dictionary (``unknown`` for words it lacks)."""
        return math.log(self._jieba.total / (self._jieba.FREQ.get(word) or unknown))

    def plain_words(self, text: str) -> list[str]:
        """Plain BM25 baseline tokens: search mode, punctuation dropped, nothing else."""
        return [t for t in self._jieba.cut_for_search((text or "").lower()) if _WORD.fullmatch(t.strip())]

    @staticmethod
    def bigrams(text: str) -> list[str]:
        """Character bigrams inside runs of word characters (single chars kept alone)."""
        out: list[str] = []
        for run in _WORD.findall(normalise(text or "").lower()):
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(map(operator.add, run, run[1:]))
        return out
