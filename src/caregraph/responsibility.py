""""Who is responsible for X?": a question in a person's words to duties, holders, law,
oversight and the escalation route, as the law stood on a date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from caregraph import citations, escalation, matching
from caregraph.dates import holds
from caregraph.namespaces import STATUS, short_id
from caregraph.store import Solution, Store, value

ROLE_ORDER = {"accountable": 0, "responsible": 1, "consulted": 2, "informed": 3}


@dataclass
class Answer:
    duty: dict
    legal_basis: list[dict[str, str]]
    holders: list[dict[str, str]]
    oversight: list[dict[str, str]]
    score: float

    def as_json(self) -> dict:
        return {"duty": self.duty, "legal_basis": self.legal_basis, "holders": self.holders,
                "oversight": self.oversight, "score": self.score}


@dataclass
class Response:
    question: str
    as_of: dt.date
    answers: list[Answer]
    escalation: escalation.Route | None = None
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"question": self.question, "as_of": self.as_of.isoformat(),
                "answers": [a.as_json() for a in self.answers],
                "escalation": self.escalation.as_json() if self.escalation else None,
                "notes": self.notes}


def _index(store: Store) -> matching.Index:
    return store.cached("duty-index", lambda: matching.Index(
        matching.documents_from_rows(store.select("duty_documents"), "duty")))


def _validity(store: Store) -> dict[str, tuple[object, object, str | None]]:
    def load() -> dict[str, tuple[object, object, str | None]]:
        return {row["duty"].value: (value(row["from"]), value(row["to"]),
                                    row["status"].value if row["status"] else None)
                for row in store.select("duty_validity")}
    return store.cached("duty-validity", load)


def shown_on(store: Store, duty: str, day: dt.date) -> dt.date:
    """The day to describe a duty on when no date was asked for: `day` itself, or, for a duty
    that had ended by then, its last day in force, so it shows who held it rather than no one."""
    _, end, _ = _validity(store).get(duty, (None, None, None))
    return end if isinstance(end, dt.date) and end < day else day


def _rows(store: Store, name: str, duties: list[str]) -> list[Solution]:
    """The rows of a per-duty query for the given duties. Every duty's rows are read in one
    query and kept per version of the graph: on the on-disk England-scale store the four
    queries of one answer took about 5 ms, a dictionary lookup takes microseconds."""
    grouped = store.cached("duty-rows/" + name, lambda: store.select_grouped(name, "duty", _validity(store)))
    return [row for duty in duties for row in grouped.get(duty, ())]


def in_force(store: Store, duty: str, day: dt.date) -> bool:
    start, end, status = _validity(store).get(duty, (None, None, None))
    if start is None:  # enacted but never commenced, or not yet operational
        return False
    return status != STATUS + "not-commenced" and holds(start, end, day)


def ask(store: Store, question: str, as_of: dt.date | None = None, limit: int = 5) -> Response:
    """Ranked answers to `question` as the law stood on `as_of` (default today)."""
    day = as_of or dt.date.today()
    hits = [h for h in _index(store).search(question) if in_force(store, h.key, day)][:limit]
    answers = describe(store, [h.key for h in hits], day, {h.key: h.score for h in hits})
    routes = escalation.routes_for(store, question, day)
    response = Response(question, day, answers, routes[0] if routes else None)
    if not answers:
        response.notes.append("Nothing in caregraph's knowledge matches this question as the law stood "
                              f"on {day.isoformat()}; try other words, or name the problem or the body.")
    return response


def describe(store: Store, duties: list[str], day: dt.date, scores: dict[str, float] | None = None) -> list[Answer]:
    """Full answers for the given duty IRIs, in the order given."""
    if not duties:
        return []
    summaries = {r["duty"].value: r for r in _rows(store, "duty_summary", duties)}
    bases: dict[str, list[dict[str, str]]] = {d: [] for d in duties}
    for r in _rows(store, "duty_legal_basis", duties):
        citations.add(bases[r["duty"].value], r["basis"], r["label"])
    holders: dict[str, list[dict[str, str]]] = {d: [] for d in duties}
    own_basis: dict[str, list[dict[str, str]]] = {d: [] for d in duties}
    for r in _rows(store, "duty_assignments", duties):
        duty = r["duty"].value
        if not (holds(value(r["from"]), value(r["to"]), day) and holds(value(r["holderFrom"]), value(r["holderTo"]), day)):
            continue
        entry = {"id": short_id(r["holder"].value), "uri": r["holder"].value,
                 "label": value(r["holderLabel"]), "role": value(r["role"])}
        if entry not in holders[duty]:
            holders[duty].append(entry)
        if entry["role"] == "accountable":
            citations.add(own_basis[duty], r["basis"], r["basisLabel"])
    oversight: dict[str, list[dict[str, str]]] = {d: [] for d in duties}
    for r in _rows(store, "duty_oversight", duties):
        if holds(value(r["from"]), value(r["to"]), day):
            entry = {"id": short_id(r["actor"].value), "uri": r["actor"].value, "label": value(r["label"])}
            if entry not in oversight[r["duty"].value]:
                oversight[r["duty"].value].append(entry)
    answers = []
    for duty in duties:
        s = summaries[duty]
        answers.append(Answer(
            duty={"id": short_id(duty), "uri": duty, "label": value(s["label"]),
                  "description": value(s["description"]), "modality": value(s["modality"]),
                  "sector": value(s["sector"]), "status": value(s["status"]),
                  "confidence": value(s["confidence"]), "caveat": value(s["caveat"]),
                  "valid_from": _iso(value(s["from"])), "valid_to": _iso(value(s["to"]))},
            # Where the holder on that date acts under its own provision, that is the law to cite.
            legal_basis=citations.sorted_citations(own_basis[duty] or bases[duty]),
            holders=sorted(holders[duty], key=lambda h: (ROLE_ORDER.get(h["role"], 9), h["label"])),
            oversight=sorted(oversight[duty], key=lambda o: o["label"]),
            score=(scores or {}).get(duty, 0.0)))
    return answers


def _iso(day: object) -> str | None:
    return day.isoformat() if isinstance(day, dt.date) else None
