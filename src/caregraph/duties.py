"""The catalogue of duties: filter by theme, sector, holder, law and date, a page at a time,
and the full record of one duty."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field

from caregraph import responsibility
from caregraph.actors import directory
from caregraph.dates import holds
from caregraph.namespaces import DUTY, ID, LEGISLATION_ID, short_id
from caregraph.store import Store, value

THEME = ID + "theme/"
SECTOR = ID + "sector/"
MAX_PAGE = 200


class UnknownDuty(LookupError):
    """No duty has this id; carries the nearest ids."""

    def __init__(self, text: str, suggestions: list[str]) -> None:
        self.text, self.suggestions = text, suggestions
        hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no duty with id {text!r}{hint}")


class UnknownFilter(ValueError):
    """A filter value that names nothing in the graph; says which filter and what exists."""

    def __init__(self, name: str, text: str, known: list[str]) -> None:
        self.name, self.text = name, text
        close = difflib.get_close_matches(text.lower(), known, n=5, cutoff=0.5)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        super().__init__(f"{name}={text!r} matches nothing{hint}")


@dataclass
class Facets:
    """Per duty: themes (with broader ones), sectors, holders with their dates, laws."""

    themes: dict[str, set[str]] = field(default_factory=dict)
    sectors: dict[str, set[str]] = field(default_factory=dict)
    holders: dict[str, list[tuple[str, str, object, object]]] = field(default_factory=dict)
    laws: dict[str, set[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


def facets(store: Store) -> Facets:
    """The filterable facts of every duty, read once per store generation."""
    def load() -> Facets:
        out = Facets()
        for row in store.select("duty_facets"):
            duty, facet, val = row["duty"].value, value(row["facet"]), row["value"].value
            out.themes.setdefault(duty, set())
            if row["label"] is not None:
                out.labels[val] = value(row["label"])
            if facet == "theme":
                out.themes[duty].add(val)
            elif facet == "sector":
                out.sectors.setdefault(duty, set()).add(val)
            elif facet == "law":
                out.laws.setdefault(duty, set()).add(val)
            elif facet == "holder":
                entry = (val, value(row["role"]), value(row["from"]), value(row["to"]))
                if entry not in out.holders.setdefault(duty, []):
                    out.holders[duty].append(entry)
        return out
    return store.cached("duty-facets", load)


@dataclass
class Page:
    total: int
    offset: int
    limit: int
    items: list[dict]

    def as_json(self) -> dict:
        return {"total": self.total, "offset": self.offset, "limit": self.limit, "items": self.items}


def _concept(prefix: str, text: str, known: set[str], name: str) -> str:
    key = text.strip()
    candidate = key if key.startswith("http") else prefix + key.lower().replace(" ", "-")
    if candidate not in known:
        raise UnknownFilter(name, text, sorted(short_id(k) for k in known))
    return candidate


def _law(text: str, known: set[str]) -> str:
    """A provision or instrument IRI from a full IRI, a legislation.gov.uk path or a label."""
    key = text.strip()
    for candidate in (key, LEGISLATION_ID + key.strip("/"),
                      key.replace("https://www.legislation.gov.uk/", LEGISLATION_ID)):
        if candidate in known:
            return candidate
    raise UnknownFilter("legal_basis", text, sorted(k.removeprefix(LEGISLATION_ID) for k in known))


def list_duties(store: Store, *, theme: str | None = None, sector: str | None = None,
                holder: str | None = None, legal_basis: str | None = None, as_of: dt.date | None = None,
                offset: int = 0, limit: int = 20) -> Page:
    """Duties matching every filter given, ordered by label, one page of them.

    `holder` is an actor id or name and matches accountable or responsible holders (on
    `as_of` when given); `legal_basis` matches a provision or a whole instrument; without
    `as_of` duties of every date are listed (one that has ended as on its last day in force),
    with it only those in force that day.
    """
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"offset must be 0 or more and limit between 1 and {MAX_PAGE}")
    f = facets(store)
    duties = set(f.themes)
    if theme:
        wanted = _concept(THEME, theme, set().union(*f.themes.values()), "theme")
        duties = {d for d in duties if wanted in f.themes.get(d, ())}
    if sector:
        wanted = _concept(SECTOR, sector, set().union(*f.sectors.values()), "sector")
        duties = {d for d in duties if wanted in f.sectors.get(d, ())}
    if holder:
        actor = directory(store).resolve(holder)
        duties = {d for d in duties if any(
            h == actor.iri and role in ("accountable", "responsible")
            and (as_of is None or holds(start, end, as_of))
            for h, role, start, end in f.holders.get(d, []))}
    if legal_basis:
        wanted = _law(legal_basis, set().union(*f.laws.values()))
        duties = {d for d in duties if wanted in f.laws.get(d, ())}
    if as_of:
        duties = {d for d in duties if responsibility.in_force(store, d, as_of)}
    day = as_of or dt.date.today()
    ordered = sorted(duties, key=lambda d: (_label(store, d).lower(), d))
    chosen = ordered[offset:offset + limit]
    # Without a date, a duty that has ended is shown as on its last day, with its holders then.
    shown = {d: day if as_of else responsibility.shown_on(store, d, day) for d in chosen}
    answers: dict[str, responsibility.Answer] = {}
    for when in set(shown.values()):
        group = [d for d in chosen if shown[d] == when]
        answers.update(zip(group, responsibility.describe(store, group, when)))
    items = []
    for duty in chosen:
        entry = answers[duty].as_json()
        entry.pop("score")
        entry["themes"] = _themes(f, duty)
        items.append(entry)
    return Page(len(ordered), offset, limit, items)


def headlines(store: Store) -> dict[str, dict]:
    """Label and modality of every duty, read once per store generation."""
    return store.cached("duty-headlines", lambda: {
        r["duty"].value: {"label": value(r["label"]), "modality": value(r["modality"])}
        for r in store.select("duty_headlines")})


def _label(store: Store, duty: str) -> str:
    return headlines(store).get(duty, {}).get("label") or duty


def _themes(f: Facets, duty: str) -> list[dict[str, str]]:
    return sorted(({"id": short_id(t), "uri": t, "label": f.labels.get(t, short_id(t))}
                   for t in f.themes.get(duty, ())), key=lambda t: t["label"])


def duty_iri(text: str) -> str:
    key = text.strip()
    return key if key.startswith(DUTY) else DUTY + key


def get_duty(store: Store, text: str, as_of: dt.date | None = None) -> dict:
    """One duty in full, as the law stood on `as_of` (default today): what `ask` gives for it,
    plus its themes, every assignment of any date and whether it is in force that day."""
    duty = duty_iri(text)
    f = facets(store)
    if duty not in f.themes:
        ids = sorted(short_id(d) for d in f.themes)
        raise UnknownDuty(text, difflib.get_close_matches(short_id(duty), ids, n=5, cutoff=0.5))
    day = as_of or dt.date.today()
    answer = responsibility.describe(store, [duty], day)[0].as_json()
    answer.pop("score")
    answer["themes"] = _themes(f, duty)
    answer["as_of"] = day.isoformat()
    answer["in_force"] = responsibility.in_force(store, duty, day)
    actors = directory(store)
    answer["assignments"] = sorted(
        ({"holder": actors.by_iri[h].as_json() if h in actors.by_iri else {"id": short_id(h), "uri": h},
          "role": role, "valid_from": _iso(start), "valid_to": _iso(end)}
         for h, role, start, end in f.holders.get(duty, [])),
        key=lambda a: (responsibility.ROLE_ORDER.get(a["role"], 9), a["valid_from"] or "", a["holder"]["id"]))
    return answer


def _iso(day: object) -> str | None:
    return day.isoformat() if isinstance(day, dt.date) else None
