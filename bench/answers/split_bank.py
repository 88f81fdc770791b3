"""Build tests/fixtures/question-bank.json from the writers' files, split at random.

The bank was written before the matching it judges was changed, by writers who did not
see the matcher. Each style's questions are shuffled with a fixed seed and split in two:
the tuning half (which the matching may be tuned on, and which the tests run) and the
held-out half (which nobody tunes on; bench/answers reports it). Run once; re-running on
the same files gives the same split. Questions written later for tuning only (--tuning-only)
join the tuning half and leave the split of the others as it was. A later writer's file
(--add) is split on its own, style by style with the same seed, and joins the bank in
tests/fixtures/question-bank.json, whose questions keep their halves.

    python bench/answers/split_bank.py WRITER_FILE... [--tuning-only FILE...] > tests/fixtures/question-bank.json
    python bench/answers/split_bank.py --add WRITER_FILE > new-bank.json
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path


SEED = 20261207
BANK = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "question-bank.json"



def split(questions: list[dict]) -> list[dict]:
    rng = random.Random(SEED)
    out = []
    for style in sorted({q["style"] for q in questions}):
        group = sorted((q for q in questions if q["style"] == style), key=lambda q: q["id"])
        rng.shuffle(group)
        for i, q in enumerate(group):
            out.append(dict(q, half="tuning" if i % 2 == 0 else "held-out"))
    return sorted(out, key=lambda q: q["id"])


def add(path: str) -> dict:
    """The bank with a later writer's questions split on their own and appended."""
    bank = json.loads(BANK.read_text(encoding="utf-8"))
    known = {q["id"] for q in bank["questions"]}
    new = json.load(open(path, encoding="utf-8"))
    clash = known & {q["id"] for q in new}
    if clash:
        sys.exit(f"{path}: ids already in the bank: {sorted(clash)[:5]}")
    writers = sorted({q["writer"] for q in new})
    names = writers[0] if len(writers) == 1 else ", ".join(writers[:-1]) + " and " + writers[-1]
    bank["about"] += (f" Writer{'s' if len(writers) > 1 else ''} {names}'s {len(new)} questions were written later by "
                      "writers who did not see the matcher, and split on their own in the same way.")
    bank["questions"] += split(new)
    return bank


def main(args: list[str]) -> None:
    if args[:1] == ["--add"]:
        json.dump(add(args[1]), sys.stdout, indent=1, ensure_ascii=False)
        print()
        return
    split_at = args.index("--tuning-only") if "--tuning-only" in args else len(args)
    questions = [q for path in args[:split_at] for q in json.load(open(path, encoding="utf-8"))]
    extra = [dict(q, half="tuning") for path in args[split_at + 1:] for q in json.load(open(path, encoding="utf-8"))]
    bank = {"about": (f"caregraph's question bank: {len(questions)} questions by two writers who did not see the "
                      f"matcher, split per style at random with seed {SEED} (bench/answers/split_bank.py) into a "
                      f"tuning half and a held-out half, and {len(extra)} more questions by a third writer, "
                      "written later for tuning only. Tune only on the tuning half; the tests run it. "
                      "expect: (holder, basis) pairs of which one must be in the top 3 answers; [] means the "
                      "question is outside caregraph's scope and must be declined."),
            "seed": SEED, "questions": split(questions) + sorted(extra, key=lambda q: q["id"])}
    json.dump(bank, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
