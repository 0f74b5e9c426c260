"""Chinese word segmentation with jieba and run-time user dictionaries.

Each :class:`Segmenter` owns its own ``jieba.Tokenizer`` with a private copy of
the word table, so several models with different dictionaries can live side by side.
Text that is already segmented (space-separated tokens, as in many public
training sets) is split on whitespace instead of being segmented again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import jieba

from hotline.textnorm import normalise

WORD_RE = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")

# Function words that carry no routing signal. Public segmented corpora drop
# them, so raw text is filtered the same way to keep features comparable.
STOPWORDS = frozenset(
    "的 了 在 是 我 我们 你 你们 他 她 它 他们 和 与 及 或 也 都 就 而 着 把 被 让 给 对 向 从 "
    "这 那 这个 那个 这些 那些 有 没有 一个 一些 什么 怎么 如何 吗 呢 吧 啊 呀 哦 嗯 "
    "请 您 您好 你好 谢谢 尊敬 领导 为 以 之 其 于 所 并 还 又 但 但是 因为 所以 如果 "
    "已经 一直 非常 很 太 更 最 能 会 要 可以 可能 应该 需要 希望 相关 有关 部门 问题 情况".split()
)

logging.getLogger("jieba").setLevel(logging.WARNING)


def looks_segmented(text: str) -> bool:
    """True when CJK text is already space-separated into tokens."""
    cjk = len(CJK_RE.findall(text))
    return cjk > 0 and text.count(" ") >= max(2, cjk // 6)


class Segmenter:
    """Turns text into routing tokens (jieba words minus punctuation and stop words)."""

    def __init__(self, words: Iterable[str] = (), *, hmm: bool = False) -> None:
        # jieba's own default tokenizer loads the shipped dictionary once per process
        # (~1.4 s); each Segmenter takes a private copy of its word table (~20 ms),
        # so user words added here never leak into other segmenters.
        jieba.dt.initialize()
        self._tk = jieba.Tokenizer()
        self._tk.FREQ, self._tk.total = dict(jieba.dt.FREQ), jieba.dt.total
        self._tk.initialized = True
        self.hmm = hmm
        self.user_words: list[str] = []
        self.add_words(words)

    def add_words(self, words: Iterable[str]) -> None:
        """Add user dictionary words (place names, domain terms); takes effect immediately."""
        for w in words:
            w = w.strip().split(" ")[0] if w else ""
            if len(w) >= 2 and w not in self.user_words:
                self._tk.add_word(w, freq=None)
                self.user_words.append(w)

    def load_userdict(self, path: str | Path) -> int:
        """Load a dictionary file: one word per line, optionally followed by frequency/POS."""
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        before = len(self.user_words)
        self.add_words(line for line in lines if line.strip() and not line.startswith("#"))
        return len(self.user_words) - before

    def tokens(self, text: str) -> list[str]:
        text = normalise(text)
        if looks_segmented(text):
            raw = text.split()
        else:
            raw = self._tk.lcut(text, HMM=self.hmm)
        return [t for t in (r.strip().lower() for r in raw) if t and WORD_RE.search(t) and t not in STOPWORDS]

    def prepare(self, text: str) -> str:
        """Space-joined tokens, the form the classifier's vectorizers take."""
        return " ".join(self.tokens(text))
