"""The router's flags on real citizen mail: emergencies, out of scope, sensitive or mass incidents.

    python bench/detectors_bench.py [--shared PATH] [--sample 20] [--seed 0] [--json]

Runs the three detectors of ``routing/`` as the service runs them at intake (``RoutingService.suggest``:
emergency and sensitivity on title + "。" + text, scope on the text) over the 2020 泰迪杯 mayor's-mailbox
messages in ../shared/data/taidi2020 (附件3, 附件4 and 测试数据: about 9,900 messages; not shipped with the
project), and prints how many each flags, by reason.

What the figures mean: these are letters to a mayor's mailbox, written after the fact; a live emergency is
close to absent from them, so the emergency flag rate is nearly all false alarms (an upper bound on them). For
scope and sensitivity some flags are right, so the rate is only a proxy: ``--sample N`` prints N random flagged
excerpts per detector for a person to judge (the precision figures in bench/routing_results.md were judged so).
Beside them, the same run scores each detector on its labelled set in tests/routing (the cases written for the
project, hard negatives included): precision and recall there, where every case has an answer.

The peer, in the same run: plain keyword lists (``KEYWORDS``: a message is flagged when it holds any of the
words, as simple hotline systems do), scored on the same mail and the same labelled sets. Earlier runs of this
script are in bench/routing_results.md ("The router's flags on real mail").
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing.emergency import EmergencyDetector  # noqa: E402
from routing.scope import ScopeChecker  # noqa: E402
from routing.sensitive import SensitivityChecker  # noqa: E402

MAIL_FILES = ("附件3.csv", "附件4.csv", "测试数据_2801_unlabelled.csv")
# The peer: one keyword list per detector (each word a trigger of the detector's own categories).
KEYWORDS = {
    "emergency": ("着火", "起火", "火灾", "失火", "爆炸", "煤气泄漏", "燃气泄漏", "天然气泄漏", "被困", "困在", "溺水",
                  "落水", "打人", "砍人", "杀人", "抢劫", "抢东西", "绑架", "持刀", "行凶", "跳楼", "自杀", "晕倒",
                  "昏迷", "不省人事", "没有呼吸", "心脏病发", "大出血", "重伤", "走失", "中毒"),
    "scope": ("法院", "检察院", "人大", "政协", "党委", "纪委", "部队", "军队", "起诉", "诉讼", "仲裁", "复议", "判决",
              "离婚", "遗产", "借钱不还", "隐私", "机密", "走后门", "开后门"),
    "sensitive": ("群体", "上访", "静坐", "堵路", "拉横幅", "围堵", "集体", "上百", "上千", "几百", "数百", "媒体",
                  "记者", "曝光", "网上", "跳楼", "自杀", "扬言", "极端"),
}
CASES = ROOT / "tests" / "routing"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def mail(shared: Path) -> list[tuple[str, str]]:
    """(title, text) of every message, whitespace runs squeezed (the letters are padded with tabs)."""
    out = []
    for name in MAIL_FILES:
        with open(shared / "taidi2020" / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                out.append(((row["留言主题"] or "").strip(), re.sub(r"\s+", " ", row["留言详情"] or "").strip()))
    return out


def flags(messages: list[tuple[str, str]]) -> dict:
    """Each detector's flags over the messages: {detector: [(index, reasons)]}, as the service calls them."""
    emergency, scope, sensitive = EmergencyDetector(), ScopeChecker(), SensitivityChecker()
    found: dict[str, list] = {"emergency": [], "scope": [], "sensitive": []}
    started = time.perf_counter()
    for i, (title, text) in enumerate(messages):
        full = f"{title}。{text}" if title else text
        if hit := emergency.detect(full):
            found["emergency"].append((i, [f"{hit['number']} {hit['reason']}"]))
        if hit := scope.check(text or title):
            found["scope"].append((i, [hit["code"]]))
        if hit := sensitive.check(full):
            found["sensitive"].append((i, list(hit["reasons"])))
        if (i + 1) % 1000 == 0 or i + 1 == len(messages):
            log(f"已检查 {i + 1}/{len(messages)} 条（{time.perf_counter() - started:.0f} 秒）")
    return found


def labelled(name: str, column: str, predict) -> dict:
    """Precision and recall of a detector on its labelled case file (an empty label: must not flag);
    ``predict(text, wanted label)`` gives the detector's label ("" for none)."""
    path = CASES / name
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    tp = fp = fn = exact = 0
    for row in rows:
        want = row[column].strip()
        got = predict(row["text"], want)
        exact += want == got
        tp += bool(want) and bool(got)
        fp += bool(got) and not want
        fn += bool(want) and not got
    return {"cases": len(rows), "positives": sum(1 for r in rows if r[column].strip()),
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None, "exact": round(exact / len(rows), 4)}


def keyword_flags(messages: list[tuple[str, str]]) -> dict:
    """The peer's flag counts on the mail (scope on the text alone, as the detector)."""
    out = {}
    for name, words in KEYWORDS.items():
        texts = [text or title if name == "scope" else f"{title}。{text}" for title, text in messages]
        out[name] = sum(1 for t in texts if any(w in t for w in words))
    return out


def keyword_labelled() -> dict:
    def flags(name):
        return lambda t, want: (want or "flag") if any(w in t for w in KEYWORDS[name]) else ""
    return {"emergency": labelled("emergency_cases.csv", "number", flags("emergency")),
            "scope": labelled("scope_cases.csv", "code", flags("scope")),
            "sensitive": labelled("sensitive_cases.csv", "reason", flags("sensitive"))}


def labelled_sets() -> dict:
    emergency, scope, sensitive = EmergencyDetector(), ScopeChecker(), SensitivityChecker()
    return {
        "emergency": labelled("emergency_cases.csv", "number",
                              lambda t, _: (emergency.detect(t) or {}).get("number", "")),
        "scope": labelled("scope_cases.csv", "code", lambda t, _: (scope.check(t) or {}).get("code", "")),
        # a message may have several reasons: right when the labelled one is among them
        "sensitive": labelled("sensitive_cases.csv", "reason", lambda t, want: (
            lambda reasons: want if want in reasons else (reasons[0] if reasons else ""))(
            (sensitive.check(t) or {}).get("reasons", []))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sample", type=int, default=0, help="print this many random flagged excerpts per detector")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.shared / "taidi2020" / MAIL_FILES[0]).exists():
        sys.exit(f"错误：找不到 {args.shared / 'taidi2020'}（用 --shared 指定数据目录）")
    messages = mail(args.shared)
    log(f"泰迪杯 2020 市长信箱留言 {len(messages)} 条")
    found = flags(messages)
    result = {"messages": len(messages), "labelled": labelled_sets(),
              "keywords": {"labelled": keyword_labelled(), "flagged": keyword_flags(messages)}}
    for name, hits in found.items():
        reasons = collections.Counter(r for _, rs in hits for r in rs)
        result[name] = {"flagged": len(hits), "rate": round(len(hits) / len(messages), 4),
                        "reasons": dict(reasons.most_common())}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(f"\n{len(messages)} mayor's-mailbox messages (written after the fact: live emergencies are nearly absent)")
        for name in found:
            r, lab = result[name], result["labelled"].get(name) or {}
            print(f"\n{name}: flagged {r['flagged']} ({r['rate']:.1%})")
            for reason, count in r["reasons"].items():
                print(f"  {reason}: {count}")
            if lab:
                print(f"  labelled set ({lab['cases']} cases, {lab['positives']} positive): precision "
                      f"{lab['precision']}, recall {lab['recall']}, exact label {lab['exact']}")
            peer, peer_lab = result["keywords"]["flagged"][name], result["keywords"]["labelled"].get(name) or {}
            print(f"  peer, a keyword list ({len(KEYWORDS[name])} words): flagged {peer} ({peer / len(messages):.1%})"
                  + (f"; labelled set precision {peer_lab['precision']}, recall {peer_lab['recall']}"
                     if peer_lab else ""))
    if args.sample:
        rng = random.Random(args.seed)
        for name, hits in found.items():
            print(f"\n--- {name}: {min(args.sample, len(hits))} random flags to judge ---")
            for i, reasons in rng.sample(hits, min(args.sample, len(hits))):
                title, text = messages[i]
                print(f"[{'/'.join(reasons)}] {title}｜{text[:160]}")


if __name__ == "__main__":
    main()
