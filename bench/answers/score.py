"""How well caregraph answers questions it was and was not tuned on, beside a revision before.

Scores the question bank's tuning half and held-out half (tests/fixtures/question-bank.json)
and the unseen sets, never tuned on: tests/fixtures/questions-unseen.json (written apart from
the bank, read once), tests/fixtures/questions-unseen-e.json (266 questions by an
independent writer on 2026-12-07, before that day's matching changes) and
tests/fixtures/questions-unseen-f.json (300 questions by another writer who saw only the list
of duties, written before the next round of changes; its misses are not read). Per style: the share
whose top three answers name an expected holder under an expected basis, and for out-of-scope
questions the share declined. Also counts in-scope questions wrongly declined, and times a
warm answer.

With --before REV the same questions are scored on that git revision (checked out in a
temporary worktree and run in a separate process, its own code and knowledge), side by side.

    python bench/answers/score.py [--before 681467c] [--misses held-out]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SETS = {"tuning": ("question-bank.json", "tuning"), "held-out": ("question-bank.json", "held-out"),
        "unseen": ("questions-unseen.json", None), "unseen-e": ("questions-unseen-e.json", None),
        "unseen-f": ("questions-unseen-f.json", None)}

# Runs inside the process that scores a revision: only uses what every revision has
# (responsibility.ask, answers with holders and legal_basis), so it can judge old code too.
SCORER = r'''
import json, sys, time
from caregraph import responsibility
from caregraph.build import open_store
from caregraph.dates import parse_day
store = open_store()[0]
def judge(case):
    r = responsibility.ask(store, case["question"], parse_day(case.get("as_of")), limit=3)
    declined = getattr(r, "confidence", None) == "outside" if hasattr(r, "confidence") else not r.answers
    if not case["expect"]:
        return declined, declined
    for a in r.answers:
        holders = {h["id"] for h in a.holders if h["role"] in ("accountable", "responsible")}
        bases = {b["uri"] for b in a.legal_basis + list(getattr(a, "non_statutory_basis", []))}
        if any(e["holder"] in holders and e["basis"] in bases for e in case["expect"]):
            return True, declined
    return False, declined
cases = json.load(sys.stdin)
out = []
for case in cases:
    ok, declined = judge(case)
    out.append({"id": case["id"], "ok": ok, "declined": declined})
times = []
for case in cases[:60]:
    t = time.perf_counter(); responsibility.ask(store, case["question"], parse_day(case.get("as_of"))); times.append(time.perf_counter() - t)
json.dump({"results": out, "warm_ms": sorted(times)[len(times) // 2] * 1000}, sys.stdout)
'''


def load_sets() -> dict[str, list[dict]]:
    sets = {}
    for name, (filename, half) in SETS.items():
        path = REPO / "tests" / "fixtures" / filename
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        questions = data["questions"] if isinstance(data, dict) else data
        sets[name] = [q for q in questions if half is None or q["half"] == half]
    return sets


def run(src: Path, cases: list[dict]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    done = subprocess.run([sys.executable, "-c", SCORER], input=json.dumps(cases), capture_output=True, text=True,
                          env=env, cwd=src.parent, check=True)
    return json.loads(done.stdout)


def table(sets: dict[str, list[dict]], results: dict[str, dict]) -> dict[str, dict[str, tuple[int, int]]]:
    """(right, asked) per set and style, plus declines of in-scope questions."""
    scores: dict[str, dict[str, tuple[int, int]]] = {}
    for name, cases in sets.items():
        by_id = {r["id"]: r for r in results[name]["results"]}
        rows: dict[str, list[int]] = {}
        for case in cases:
            r = by_id[case["id"]]
            for key in (case["style"], "all"):
                rows.setdefault(key, [0, 0])
                rows[key][0] += r["ok"]
                rows[key][1] += 1
            if case["expect"]:
                rows.setdefault("in scope, declined", [0, 0])
                rows["in scope, declined"][0] += r["declined"]
                rows["in scope, declined"][1] += 1
        scores[name] = {k: (v[0], v[1]) for k, v in rows.items()}
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="a git revision to score side by side (e.g. 681467c)")
    parser.add_argument("--misses", choices=list(SETS), help="list the questions of this set answered wrong")
    args = parser.parse_args()
    sets = load_sets()
    everything = [q for cases in sets.values() for q in cases]
    now = run(REPO / "src", everything)
    split = {name: {"results": [r for r in now["results"] if r["id"] in {q["id"] for q in cases}]}
             for name, cases in sets.items()}
    columns = [("now", table(sets, split))]
    before_ms = None
    if args.before:
        with tempfile.TemporaryDirectory() as tmp:
            tree = Path(tmp) / "before"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), args.before],
                           check=True, capture_output=True)
            try:
                old = run(tree / "src", everything)
            finally:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=True)
        before_ms = old["warm_ms"]
        columns.append((f"before ({args.before})", table(sets, {
            name: {"results": [r for r in old["results"] if r["id"] in {q["id"] for q in cases}]}
            for name, cases in sets.items()})))
    styles = sorted({k for col in columns for s in col[1].values() for k in s} - {"all", "in scope, declined"})
    for name in sets:
        print(f"\n## {name} ({len(sets[name])} questions)")
        print("| style | " + " | ".join(label for label, _ in columns) + " |")
        print("|---|" + "---|" * len(columns))
        for style in [*styles, "all", "in scope, declined"]:
            cells = []
            for _, scores in columns:
                right, asked = scores[name].get(style, (0, 0))
                cells.append(f"{right / asked:.1%} ({right}/{asked})" if asked else "-")
            print(f"| {style} | " + " | ".join(cells) + " |")
    print(f"\nwarm answer, median over 60 questions: {now['warm_ms']:.2f} ms"
          + (f" (before: {before_ms:.2f} ms)" if before_ms is not None else ""))
    if args.misses:
        by_id = {r["id"]: r for r in now["results"]}
        print(f"\nmissed in {args.misses}:")
        for case in sets[args.misses]:
            if not by_id[case["id"]]["ok"]:
                print(f"  [{case['style']}] {case['question']}")


if __name__ == "__main__":
    main()
