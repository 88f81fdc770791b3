"""Judge answers against a bank of questions with known right answers.

A question is answered right when one of the top three answers names an expected holder
(accountable or responsible on the date) and cites the expected basis, law or named
non-statutory source; a question outside caregraph's scope is answered right when it is
declined ("nothing matches").
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from caregraph import responsibility
from caregraph.dates import parse_day
from caregraph.store import Store

TOP = 3


def load(path: Path) -> list[dict]:
    """The questions of a bank file: a list, or an object with a "questions" list."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["questions"] if isinstance(data, dict) else data


def answered(store: Store, case: dict) -> bool:
    response = responsibility.ask(store, case["question"], parse_day(case.get("as_of")), limit=TOP)
    if not case["expect"]:
        return response.confidence == responsibility.OUTSIDE
    for answer in response.answers:
        holders = {h["id"] for h in answer.holders if h["role"] in ("accountable", "responsible")}
        bases = {b["uri"] for b in answer.legal_basis + answer.non_statutory_basis}
        if any(e["holder"] in holders and e["basis"] in bases for e in case["expect"]):
            return True
    return False


@dataclass
class Score:
    right: int = 0
    asked: int = 0

    @property
    def rate(self) -> float:
        return self.right / self.asked if self.asked else 0.0

    def __str__(self) -> str:
        return f"{self.rate:6.1%} ({self.right}/{self.asked})"


def score(store: Store, cases: Iterable[dict]) -> tuple[dict[str, Score], list[dict]]:
    """Scores by style and overall ("all"), and the cases answered wrong."""
    scores: dict[str, Score] = defaultdict(Score)
    wrong = []
    for case in cases:
        ok = answered(store, case)
        for key in (case.get("style", "?"), "all"):
            scores[key].asked += 1
            scores[key].right += ok
        if not ok:
            wrong.append(case)
    return dict(scores), wrong
