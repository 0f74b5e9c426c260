"""Text normalisation for analysis (routing, search), never for what is stored.

Citizens sometimes type traditional characters (後, 沒, 電梯壞了) or
full-width letters and digits (ＡＢＣ１２３). Classifier, gazetteer, detectors
and the search tokenizer all see :func:`normalise`'s output, so 電梯壞了 and
电梯坏了 are the same request. Every mapping is one character to one
character: offsets found in normalised text are valid in the original.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

TABLE_FILE = Path(__file__).with_name("t2s_chars.txt")

# Full-width ASCII letters and digits -> ASCII (punctuation is left alone:
# detectors and parsers rely on Chinese punctuation such as ， and ？).
_WIDTH = {cp: cp - 0xFEE0 for lo, hi in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
          for cp in range(lo, hi + 1)}


@lru_cache(maxsize=1)
def _table() -> tuple[dict[int, int], re.Pattern]:
    table = dict(_WIDTH)
    for line in TABLE_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            src, dst = line.split("\t")
            table[ord(src)] = ord(dst)
    # Most text needs nothing; one regex scan finds that out far faster than translate().
    anything = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(table)) + "]")
    return table, anything


# 著 is simplified in 著名/显著 but stands for 着 in traditional text (著火, 看著, 著急);
# it is rewritten only in text that has other traditional characters.
_ZHE = re.compile(r"(?<![显土卓编原名巨论撰合专遗昭])著(?![名作称述者录])")


def normalise(text: str) -> str:
    """Simplified characters and ASCII letters/digits; same length as ``text``."""
    if not text:
        return text
    table, anything = _table()
    if not anything.search(text):
        return text
    text = text.translate(table)
    return _ZHE.sub("着", text) if "著" in text else text
