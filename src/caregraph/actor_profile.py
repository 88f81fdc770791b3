"""Everything caregraph knows about one actor, and the actor catalogue a page at a time."""

from __future__ import annotations

import datetime as dt

from caregraph import accountability, responsibility
from caregraph.actors import Actor, directory
from caregraph.dates import holds
from caregraph.duties import MAX_PAGE, Page, UnknownFilter, headlines
from caregraph.namespaces import short_id
from caregraph.store import Store, iri, value


def _iso(day: object) -> str | None:
    return day.isoformat() if isinstance(day, dt.date) else None


def _kinds(store: Store) -> dict[str, tuple[str, str]]:
    """Each actor's kind concept (id, label), read once per store generation."""
    def load() -> dict[str, tuple[str, str]]:
        rows = store.select("actor_facts", [{"actor": iri(a.iri)} for a in directory(store)])
        return {r["actor"].value: (short_id(r["kind"].value), value(r["kindLabel"]) or short_id(r["kind"].value))
                for r in rows if r["kind"] is not None}
    return store.cached("actor-kinds", load)


def summary(store: Store, actor: Actor) -> dict:
    kind = _kinds(store).get(actor.iri)
    return {**actor.as_json(), "class": actor.kind, "kind": kind[0] if kind else None,
            "valid_from": _iso(actor.valid_from), "valid_to": _iso(actor.valid_to)}


def list_actors(store: Store, *, kind: str | None = None, as_of: dt.date | None = None, name: str | None = None,
                offset: int = 0, limit: int = 50) -> Page:
    """Actors ordered by label; `kind` is an actor-kind id (regulator) or a class (Post);
    `as_of` keeps those that existed that day; `name` keeps those whose names contain it."""
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"offset must be 0 or more and limit between 1 and {MAX_PAGE}")
    actors = list(directory(store))
    kinds = _kinds(store)
    if kind:
        known = {k for k, _ in kinds.values()} | {a.kind for a in actors}
        if kind not in known:
            raise UnknownFilter("kind", kind, sorted(known))
        actors = [a for a in actors if a.kind == kind or kinds.get(a.iri, ("",))[0] == kind]
    if as_of:
        actors = [a for a in actors if holds(a.valid_from, a.valid_to, as_of)]
    if name:
        needle = name.strip().lower()
        actors = [a for a in actors if needle in a.id or any(needle in n.lower() for n in a.names)]
    actors.sort(key=lambda a: (a.label.lower(), a.id))
    return Page(len(actors), offset, limit, [summary(store, a) for a in actors[offset:offset + limit]])


def profile(store: Store, actor: Actor, as_of: dt.date | None = None) -> dict:
    """The actor's facts, the law behind it, the duties it holds or oversees (on `as_of`,
    default today), whom it answers to and who answers to it, and its successions."""
    day = as_of or dt.date.today()
    actors = directory(store)
    row_of = [{"actor": iri(actor.iri)}]
    facts = store.select("actor_facts", row_of)
    first = facts[0] if facts else {}
    out = summary(store, actor)
    out.update({
        "names": list(actor.names), "as_of": day.isoformat(),
        "existed": holds(actor.valid_from, actor.valid_to, day),
        "kind_label": value(first.get("kindLabel")), "description": value(first.get("description")),
        "homepage": value(first.get("homepage")), "status": value(first.get("status")),
        "confidence": value(first.get("confidence")), "caveat": value(first.get("caveat")),
    })
    bases: list[dict[str, str]] = []
    for r in facts:
        if r["basis"] is not None:
            entry = {"uri": r["basis"].value, "label": value(r["basisLabel"]) or r["basis"].value}
            if entry not in bases:
                bases.append(entry)
    out["legal_basis"] = bases

    held: dict[str, set[str]] = {}
    for r in store.select("actor_duties", row_of):
        if holds(value(r["from"]), value(r["to"]), day) and responsibility.in_force(store, r["duty"].value, day):
            held.setdefault(r["duty"].value, set()).add(value(r["role"]))
    labels = headlines(store)
    out["duties"] = sorted(
        ({"id": short_id(d), "uri": d, "label": labels[d]["label"], "modality": labels[d]["modality"],
          "roles": sorted(roles, key=lambda r: responsibility.ROLE_ORDER.get(r, 9))}
         for d, roles in held.items()), key=lambda d: (d["label"] or "").lower())

    def link_json(link: accountability.Link, other: str) -> dict:
        counterpart = actors.by_iri.get(other)
        return {"actor": counterpart.as_json() if counterpart else {"id": short_id(other), "uri": other},
                **link.as_json()}

    links = [l for l in accountability.links(store) if holds(l.valid_from, l.valid_to, day)]
    out["answers_to"] = [link_json(l, l.target) for l in links if l.source == actor.iri]
    out["answerable_to_it"] = sorted((link_json(l, l.source) for l in links if l.target == actor.iri),
                                     key=lambda e: e["actor"]["id"])
    out["successions"] = [
        {"uri": r["event"].value, "label": value(r["label"]), "date": _iso(value(r["date"])),
         "before": _actor_ref(actors, r["before"].value), "after": _actor_ref(actors, r["after"].value)}
        for r in store.select("actor_successions", row_of)]
    return out


def _actor_ref(actors, uri: str) -> dict:
    found = actors.by_iri.get(uri)
    return found.as_json() if found else {"id": short_id(uri), "uri": uri}
