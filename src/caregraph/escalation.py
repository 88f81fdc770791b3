"""Escalation routes: for a common problem, where a person goes, in order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from caregraph import citations, matching, reading
from caregraph.dates import holds
from caregraph.namespaces import short_id
from caregraph.store import Solution, Store, value


@dataclass
class Step:
    order: int
    actor: dict[str, str]
    action: str
    parallel: bool
    legal_basis: list[dict[str, str]] = field(default_factory=list)
    in_existence: bool = True

    def as_json(self) -> dict:
        return {"order": self.order, "actor": self.actor, "action": self.action, "parallel": self.parallel,
                "legal_basis": self.legal_basis, "actor_existed": self.in_existence}


@dataclass
class Route:
    iri: str
    label: str
    problem: str | None
    confidence: str | None
    score: float
    steps: list[Step]

    def as_json(self) -> dict:
        return {"id": short_id(self.iri), "uri": self.iri, "label": self.label, "problem": self.problem,
                "confidence": self.confidence, "score": self.score, "steps": [s.as_json() for s in self.steps]}


def _index(store: Store) -> matching.Index:
    return store.cached("route-index", lambda: matching.Index(
        matching.documents_from_rows(store.select_text("route_documents", ("route", "field", "text")))),
        knowledge=True)


# Eleven routes make for small word weights, so the bar is lower than for duties.
ROUTE_THRESHOLD = 5.0


def routes_for(store: Store, problem: str, as_of: dt.date | None = None, limit: int = 1,
               threshold: float = ROUTE_THRESHOLD) -> list[Route]:
    """The escalation routes that best fit a problem told in plain words: those of the
    problems the thesaurus recognises in it first, then the best by shared words."""
    day = as_of or dt.date.today()
    read = reading.read(store, problem)
    chosen: dict[str, float] = {}
    for match in read.problems:
        for route in match.concept.routes:
            chosen.setdefault(route, match.strength)
    found = [load_route(store, route, day, score) for route, score in chosen.items()]
    found += [r for r in routes_for_tokens(store, read.tokens, day, limit, threshold) if r.iri not in chosen]
    return found[:limit]


def routes_for_tokens(store: Store, tokens: Sequence[str], as_of: dt.date, limit: int = 1,
                      threshold: float = ROUTE_THRESHOLD) -> list[Route]:
    """The routes whose words best match a question's tokens (see `matching.tokens`)."""
    hits = _index(store).search_tokens(tokens, limit=limit, threshold=threshold)
    return [load_route(store, hit.key, as_of, hit.score) for hit in hits]


def _steps(store: Store) -> dict[str, list[Solution]]:
    """Every route's step rows, in order, read in one query per version of the knowledge (one
    route's own query took about 3 ms on the on-disk England-scale store)."""
    return store.cached("route-steps", lambda: store.select_grouped(
        "route_steps", "route", [r["route"].value for r in store.select("route_list")]), knowledge=True)


def load_route(store: Store, route_iri: str, as_of: dt.date, score: float = 0.0) -> Route:
    rows = _steps(store).get(route_iri)
    if not rows:
        raise KeyError(f"no escalation route {route_iri}")
    steps: dict[str, Step] = {}
    for row in rows:
        key = str(row["step"])
        step = steps.get(key)
        if step is None:
            # The actor as the step's own rows give it: the directory of every actor holds
            # the imported records too, and is read again after each import.
            actor = {"id": short_id(row["actor"].value), "uri": row["actor"].value, "label": value(row["actorLabel"])}
            step = steps[key] = Step(value(row["order"]), actor, value(row["action"]), bool(value(row["parallel"])),
                                     in_existence=holds(value(row["actorFrom"]), value(row["actorTo"]), as_of))
        citations.add(step.legal_basis, row["basis"], row["basisLabel"])
    for step in steps.values():
        step.legal_basis = citations.sorted_citations(step.legal_basis)
    first = rows[0]
    return Route(route_iri, value(first["label"]), value(first["problem"]), value(first["confidence"]),
                 score, sorted(steps.values(), key=lambda s: s.order))
