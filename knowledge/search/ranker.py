"""In-memory ranking: BM25 over jieba words fused with BM25 over character bigrams.

Pure functions over numpy/scipy arrays, used by the embedded index, by
``hotline kb evaluate`` and by the benchmark. A :class:`Segment` is an
immutable block of documents (term-frequency matrices, one per view); the
ranker scores several segments with shared statistics so a small, fresh
segment of recent changes can sit next to a large one (like Lucene segments).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

VIEWS = ("words", "bigrams")


@dataclass
class Field:
    vocab: dict[str, int]
    tf: sp.csc_matrix  # docs x terms, raw counts
    dl: np.ndarray     # document lengths
    df: np.ndarray     # document frequency per term

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]]) -> "Field":
        vocab: dict[str, int] = {}
        lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
        setdefault = vocab.setdefault
        cols = np.fromiter((setdefault(tok, len(vocab)) for tokens in token_lists for tok in tokens),
                           dtype=np.int32, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(token_lists), dtype=np.int32), lengths)
        tf = sp.csc_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)),
                           shape=(len(token_lists), len(vocab)))
        tf.sum_duplicates()  # repeated (doc, term) pairs become term frequencies
        df = np.diff(tf.indptr).astype(np.int64)
        return cls(vocab, tf, lengths.astype(np.float32), df)

    def df_of(self, term: str) -> int:
        j = self.vocab.get(term)
        return int(self.df[j]) if j is not None else 0

    def rows_with(self, term: str) -> np.ndarray:
        """The documents (row numbers) that contain ``term``."""
        j = self.vocab.get(term)
        return self.tf.indices[self.tf.indptr[j]:self.tf.indptr[j + 1]] if j is not None else _NO_ROWS


_NO_ROWS = np.zeros(0, dtype=np.int32)


@dataclass
class Segment:
    size: int
    fields: dict[str, Field]

    @classmethod
    def build(cls, words: Sequence[Sequence[str]], bigrams: Sequence[Sequence[str]]) -> "Segment":
        return cls(len(words), {"words": Field.build(words), "bigrams": Field.build(bigrams)})

    def containing(self, words: Iterable[str], bigrams: Iterable[str],
                   bigram_groups: Iterable[Sequence[str]] = ()) -> np.ndarray:
        """Which documents contain any of ``words`` or ``bigrams``, or every bigram of one of the groups."""
        mask = np.zeros(self.size, dtype=bool)
        for view, terms in (("words", words), ("bigrams", bigrams)):
            for term in terms:
                mask[self.fields[view].rows_with(term)] = True
        for group in map(set, bigram_groups):
            if group:
                hits = np.zeros(self.size, dtype=np.int32)
                for term in group:
                    hits[self.fields["bigrams"].rows_with(term)] += 1
                mask |= hits == len(group)
        return mask


class Ranker:
    """BM25 (k1, b) per view; final score = words/max + bigram_weight * bigrams/max."""

    def __init__(self, k1: float = 1.2, b: float = 0.75, bigram_weight: float = 1.0) -> None:
        self.k1, self.b, self.bigram_weight = k1, b, bigram_weight

    def _view_scores(self, segments: Sequence[Segment], view: str,
                     terms: Sequence[str] | Mapping[str, float]) -> list[np.ndarray]:
        """BM25 per segment; ``terms`` is a token list (repeats count) or token -> query weight."""
        n = sum(s.size for s in segments)
        out = [np.zeros(s.size, dtype=np.float32) for s in segments]
        if n == 0 or not terms:
            return out
        total_len = float(sum(s.fields[view].dl.sum() for s in segments))
        avgdl = max(total_len / n, 1.0)
        weights = dict(terms) if isinstance(terms, Mapping) else Counter(terms)
        for seg, scores in zip(segments, out):
            if seg.size == 0:
                continue
            fld = seg.fields[view]
            norm = self.k1 * (1 - self.b + self.b * fld.dl / avgdl)
            for term, qtf in weights.items():
                j = fld.vocab.get(term)
                if j is None:
                    continue
                df = sum(s.fields[view].df_of(term) for s in segments)
                idf = float(bm25_idf(n, df))
                lo, hi = fld.tf.indptr[j], fld.tf.indptr[j + 1]
                rows = fld.tf.indices[lo:hi]
                tf = fld.tf.data[lo:hi]
                scores[rows] += qtf * idf * tf * (self.k1 + 1) / (tf + norm[rows])
        return out

    def score(self, segments: Sequence[Segment], words: Sequence[str] | Mapping[str, float],
              bigrams: Sequence[str]) -> list[np.ndarray]:
        """Fused scores, one array per segment (same order)."""
        word = self._view_scores(segments, "words", words)
        total = [w.copy() for w in word]
        _normalise(total)
        if self.bigram_weight:
            big = self._view_scores(segments, "bigrams", bigrams)
            _normalise(big)
            for t, g in zip(total, big):
                t += self.bigram_weight * g
        return total


def _normalise(arrays: list[np.ndarray]) -> None:
    top = max((float(a.max()) for a in arrays if a.size), default=0.0)
    if top > 0:
        for a in arrays:
            a /= top


class TitleLines:
    """Which character pairs each title line of a segment's documents holds, for :meth:`coverage`.

    ``lines`` holds, per document, its lines' pairs; pairs are columns of ``vocab`` (the segment's bigram
    view, which holds them all: the lines are part of what that view was built from).
    """

    def __init__(self, lines: Sequence[Sequence[Sequence[str]]], vocab: Mapping[str, int]) -> None:
        rows, cols, owner = [], [], []
        for doc, doc_lines in enumerate(lines):
            for line in doc_lines:
                found = {vocab[p] for p in line if p in vocab}
                if found:
                    rows.extend([len(owner)] * len(found))
                    cols.extend(found)
                    owner.append(doc)
        self.owner = np.array(owner, dtype=np.int32)  # line -> document row
        self.pairs = sp.csc_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                   shape=(len(owner), len(vocab)))
        self.size = len(lines)

    def coverage(self, query_cols: Sequence[int], idf: np.ndarray, line_weight: np.ndarray) -> np.ndarray:
        """Per document, the largest share of one title line's idf-weighted pairs that are query pairs (0..1).

        ``idf`` is per column, ``line_weight`` the sum of each line's idf (``pairs @ idf``)."""
        out = np.zeros(self.size, dtype=np.float32)
        if not query_cols or not len(self.owner):
            return out
        cols = np.asarray(query_cols, dtype=np.int64)
        covered = self.pairs[:, cols] @ idf[cols]
        lines = np.flatnonzero(covered)
        if lines.size:
            np.maximum.at(out, self.owner[lines], covered[lines] / np.maximum(line_weight[lines], 1e-9))
        return out


def bm25_idf(n, df):
    """BM25's inverse document frequency of terms held by ``df`` of ``n`` documents (numbers or arrays)."""
    return np.log1p((n - df + 0.5) / (df + 0.5))


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best positive scores, best first."""
    candidates = np.flatnonzero(scores > 0)
    if candidates.size > k:
        part = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = candidates[part]
    return candidates[np.argsort(-scores[candidates], kind="stable")]


class BM25:
    """Plain BM25 over one token view (the baseline the benchmark compares against)."""

    def __init__(self, token_lists: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.segment = Segment(len(token_lists), {"words": Field.build(token_lists)})
        self.ranker = Ranker(k1, b, bigram_weight=0.0)

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        return self.ranker._view_scores([self.segment], "words", terms)[0]
