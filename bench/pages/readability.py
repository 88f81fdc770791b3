"""How plain the words on the pages are: the Flesch reading ease of every text shown to
advocates (duty descriptions, route steps, the guided path's questions and choices), scored
by textstat, as a distribution per kind and the hardest texts to rewrite first. GOV.UK
writes for a reading age of about 9, a reading ease of 60 or more.

With --before REV the knowledge of that git revision is scored too (read from git, built by
this code, no network): its figures stand beside today's, and every text whose wording
changed is listed with its score before and after.

    pip install -e '.[bench]'   # textstat before 0.7.5 (later versions fetch a word list at run time)
    python bench/pages/readability.py [--worst 15] [--before 42d69ee]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import textstat

from caregraph import guided_path
from caregraph.build import open_store
from caregraph.namespaces import short_id
from caregraph.store import value

TARGET = 60.0
REPO = Path(__file__).resolve().parents[2]

Scored = dict[tuple[str, str], tuple[float, str]]


def texts(store) -> list[tuple[str, str, str]]:
    """(kind, id, text) for every text shown to advocates; a route step's id is its route and order."""
    found = []
    for r in store.select("readable_texts"):
        ident = short_id(r["subject"].value)
        if r["order"] is not None:
            ident += f" step {value(r['order'])}"
        found.append((value(r["kind"]), ident, value(r["text"])))
    for question in guided_path.load(store).questions.values():
        found.append(("guided path", question.id, question.label))
        if question.hint:
            found.append(("guided path", question.id + " (hint)", question.hint))
        found += [("guided path", choice.id, choice.label) for choice in question.choices]
    return found


def score(store) -> Scored:
    return {(kind, ident): (textstat.flesch_reading_ease(text), text) for kind, ident, text in texts(store)}


def score_revision(rev: str) -> Scored:
    """The texts of the ontology as it stood at a git revision, built by this code in memory."""
    def git(*args: str) -> bytes:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, check=True).stdout
        except subprocess.CalledProcessError as error:
            sys.exit(f"cannot read revision {rev!r}: {error.stderr.decode().strip()}")
    with tempfile.TemporaryDirectory() as folder:
        for name in git("ls-tree", "-r", "--name-only", rev, "--", "ontology").decode().splitlines():
            target = Path(folder) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(git("show", f"{rev}:{name}"))
        store, _ = open_store(root=Path(folder) / "ontology")
        return score(store)


def distribution(scored: Scored) -> dict[str, tuple[int, float, float, float, int]]:
    """Per kind and for all: count, median, lower and upper quartile, count below the target."""
    rows = {}
    kinds = sorted({kind for kind, _ in scored})
    for kind in kinds + ["all"]:
        scores = [s for (k, _), (s, _) in scored.items() if kind in ("all", k)]
        q1, median, q3 = statistics.quantiles(scores, n=4, method="inclusive")
        rows[kind] = (len(scores), median, q1, q3, sum(s < TARGET for s in scores))
    return rows


def print_distribution(now: Scored, before: Scored | None, rev: str | None) -> None:
    print(f"{'texts':<18}{'n':>5}{'median':>9}{'p25':>8}{'p75':>8}{'< 60':>7}")
    then = distribution(before) if before else {}
    for kind, (n, median, q1, q3, below) in distribution(now).items():
        print(f"{kind:<18}{n:>5}{median:>9.1f}{q1:>8.1f}{q3:>8.1f}{below:>7}")
        if kind in then:
            n, median, q1, q3, below = then[kind]
            print(f"{'  at ' + rev:<18}{n:>5}{median:>9.1f}{q1:>8.1f}{q3:>8.1f}{below:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worst", type=int, default=15, help="how many of the hardest texts to list")
    parser.add_argument("--before", metavar="REV", help="a git revision to compare with: lists what was rewritten")
    args = parser.parse_args()
    now = score(open_store()[0])
    before = score_revision(args.before) if args.before else None
    print_distribution(now, before, args.before)
    if before is not None:
        changed = sorted(key for key in now.keys() & before.keys() if now[key][1] != before[key][1])
        print(f"\n{len(changed)} texts rewritten since {args.before} (score before -> after):")
        for kind, ident in changed:
            print(f"{before[kind, ident][0]:7.1f} -> {now[kind, ident][0]:5.1f}  {kind}: {ident}")
        added, removed = len(now.keys() - before.keys()), len(before.keys() - now.keys())
        if added or removed:
            print(f"({added} texts added and {removed} removed since {args.before} are not listed)")
    print(f"\nThe {args.worst} hardest to read:")
    for key in sorted(now, key=lambda key: now[key][0])[:args.worst]:
        text = now[key][1]
        print(f"{now[key][0]:7.1f}  {key[0]}: {key[1]}: {text[:110]}{'...' if len(text) > 110 else ''}")


if __name__ == "__main__":
    main()
