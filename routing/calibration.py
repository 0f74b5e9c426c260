"""How far the router's confidence can be trusted: what an operator needs to set the auto-dispatch threshold.

``calibration(confidences, correct)`` takes, per message, the confidence of the suggested category (as the
service computes it, unknown-word guard included) and whether that category was right, and returns:

* ``ece``: the expected calibration error over ten equal-width bins (0 = a suggestion made at confidence c is
  right a share c of the time; the larger, the less the figure means what it says);
* ``bins``: per bin, how many messages, their mean confidence and the share that was right;
* ``thresholds``: per threshold, the share of messages at or above it (they would be dispatched without a
  person) and the share of those that was right; ``threshold`` marks the one asked about (the configured
  ``HOTLINE_ROUTING_AUTO_THRESHOLD`` in the CLI).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
BINS = 10


def calibration(confidences: Sequence[float], correct: Sequence[bool],
                thresholds: Sequence[float] = THRESHOLDS) -> dict:
    conf = np.clip(np.asarray(confidences, dtype=np.float64), 0.0, 1.0)
    right = np.asarray(correct, dtype=bool)
    if conf.shape != right.shape:
        raise ValueError("confidences and correct differ in length")
    n = len(conf)
    if n == 0:
        return {"n": 0, "ece": None, "bins": [], "thresholds": []}
    which = np.minimum((conf * BINS).astype(int), BINS - 1)  # 1.0 falls in the last bin
    bins, ece = [], 0.0
    for b in range(BINS):
        inside = which == b
        count = int(inside.sum())
        if not count:
            continue
        mean, hit = float(conf[inside].mean()), float(right[inside].mean())
        ece += count / n * abs(mean - hit)
        bins.append({"from": b / BINS, "to": (b + 1) / BINS, "n": count,
                     "mean_confidence": round(mean, 4), "accuracy": round(hit, 4)})
    rows = []
    for t in sorted(set(thresholds)):
        above = conf >= t
        count = int(above.sum())
        rows.append({"threshold": t, "share": round(count / n, 4),
                     "accuracy": round(float(right[above].mean()), 4) if count else None})
    return {"n": n, "ece": round(ece, 4), "bins": bins, "thresholds": rows}
