"""Alignment for policy teams: where housing, health and care duties meet, miss each other,
overlap and change, as the law stood on a date.

Everything is computed from the graph through named queries, so new duties, actors and
successions are picked up as soon as they are in the knowledge:

- the **matrix**: themes (narrower themes rolled up into broader ones) x sectors, with the
  duties in force in each cell and their accountable holders;
- **bridges**: duties that tie sectors together: a duty about integration (co-operation,
  joint planning, information sharing), or a duty that binds bodies of different sectors
  (a duty to refer to or consult another sector's body, a cross-sector duty whose holders
  sit in two sectors). An actor's sector is where most of the duties it is accountable or
  responsible for lie;
- **gaps**: two sectors that both hold duties in a theme with no bridge in that theme tying
  them; themes one sector covers alone; actors with duties and no way for a person to
  escalate (no escalation route names them and no ombudsman or court has jurisdiction);
- **overlaps**: duties with more than one accountable body on the date; two bodies playing
  the same role for one council's area;
- **single points of failure** of the accountability network (networkx);
- **changes** between two dates, each with the law that made it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

import networkx as nx

from caregraph import accountability, citations, places
from caregraph.actors import directory
from caregraph.dates import holds
from caregraph.namespaces import ID, STATUS, short_id
from caregraph.store import Store, date_literal, value

SECTOR = ID + "sector/"
CROSS_SECTOR = SECTOR + "cross-sector"
NOT_COMMENCED = STATUS + "not-commenced"
CENTRAL = 10          # how many of the most central bodies to name


@dataclass
class DutyFacts:
    iri: str
    label: str
    sectors: set[str]                     # almost always one; the shapes do not forbid more
    valid_from: dt.date | None
    valid_to: dt.date | None
    status: str | None
    themes: set[str] = field(default_factory=set)
    assignments: list[tuple[str, str, object, object, object, object, str | None]] = field(default_factory=list)
    basis: list[dict[str, str]] = field(default_factory=list)

    def in_force(self, day: dt.date) -> bool:
        return self.valid_from is not None and self.status != NOT_COMMENCED and \
            holds(self.valid_from, self.valid_to, day)

    def holders(self, day: dt.date, roles: tuple[str, ...] = ("accountable",)) -> list[str]:
        """The distinct holders in the given RACI roles on `day` (assignment and holder both in existence)."""
        found = [h for h, role, start, end, h_start, h_end, _ in self.assignments
                 if role in roles and holds(start, end, day) and holds(h_start, h_end, day)]
        return sorted(dict.fromkeys(found))


@dataclass
class Knowledge:
    """What the alignment views read from the store, once per store generation."""

    duties: dict[str, DutyFacts]
    labels: dict[str, str]
    themes: list[str]                     # in hierarchy order: each broad theme, then its narrower ones
    broader: dict[str, str | None]
    bridging_themes: set[str]
    sectors: list[str]
    escalation: dict[str, list[tuple[str, str, object, object]]]
    successions: list[dict]
    actors: dict[str, dict]


def knowledge(store: Store) -> Knowledge:
    return store.cached("alignment-knowledge", lambda: _load(store))


def _load(store: Store) -> Knowledge:
    duties: dict[str, DutyFacts] = {}
    for row in store.select("alignment_duties"):
        iri = row["duty"].value
        facts = duties.get(iri)
        if facts is None:
            facts = duties[iri] = DutyFacts(iri, value(row["label"]), set(), value(row["from"]), value(row["to"]),
                                            row["status"].value if row["status"] else None)
        if row["sector"] is not None:
            facts.sectors.add(row["sector"].value)
        if row["theme"] is not None:
            facts.themes.add(row["theme"].value)
    for row in store.select("duty_assignments"):
        facts = duties.get(row["duty"].value)
        if facts is None:
            continue
        entry = (row["holder"].value, value(row["role"]), value(row["from"]), value(row["to"]),
                 value(row["holderFrom"]), value(row["holderTo"]), row["basis"].value if row["basis"] else None)
        if entry not in facts.assignments:
            facts.assignments.append(entry)
    for row in store.select("duty_legal_basis"):
        if row["duty"].value in duties:
            citations.add(duties[row["duty"].value].basis, row["basis"], row["label"])
    labels: dict[str, str] = {}
    broader: dict[str, str | None] = {}
    bridging: set[str] = set()
    sectors: list[str] = []
    for row in store.select("alignment_themes"):
        concept = row["concept"].value
        labels[concept] = value(row["label"])
        if value(row["kind"]) == "sector":
            if concept not in sectors:
                sectors.append(concept)
            continue
        broader.setdefault(concept, row["broader"].value if row["broader"] else None)
        if value(row["bridging"]):
            bridging.add(concept)
    escalation: dict[str, list[tuple[str, str, object, object]]] = {}
    for row in store.select("alignment_escalation"):
        escalation.setdefault(row["actor"].value, []).append(
            (row["via"].value, value(row["kind"]), value(row["from"]), value(row["to"])))
    events: dict[str, dict] = {}
    for row in store.select("alignment_successions"):
        event = events.setdefault(row["event"].value, {
            "id": short_id(row["event"].value), "uri": row["event"].value, "label": value(row["label"]),
            "date": value(row["date"]), "before": row["before"].value, "after": row["after"].value,
            "caveat": value(row["caveat"]), "law": []})
        citations.add(event["law"], row["basis"], row["basisLabel"])
    actors: dict[str, dict] = {}
    for row in store.select("alignment_actors"):
        entry = actors.setdefault(row["actor"].value, {"label": value(row["label"]), "from": value(row["from"]),
                                                       "to": value(row["to"]), "law": []})
        citations.add(entry["law"], row["basis"], row["basisLabel"])
    for facts in duties.values():
        facts.basis = citations.sorted_citations(facts.basis)
    for event in events.values():
        event["law"] = citations.sorted_citations(event["law"])
    for entry in actors.values():
        entry["law"] = citations.sorted_citations(entry["law"])
    used = set().union(*(d.themes for d in duties.values())) if duties else set()
    order = {s: i for i, s in enumerate(sorted(sectors, key=lambda s: (s == CROSS_SECTOR, labels[s])))}
    sectors.sort(key=order.get)
    return Knowledge(duties, labels, _theme_order(broader, labels, used), broader, bridging, sectors, escalation,
                     sorted(events.values(), key=lambda e: (e["date"] or dt.date.min, e["id"])), actors)


def _theme_order(broader: dict[str, str | None], labels: dict[str, str], used: set[str]) -> list[str]:
    """Themes that hold duties, each broad theme followed by its narrower ones, by label."""
    children: dict[str | None, list[str]] = {}
    for theme, parent in broader.items():
        children.setdefault(parent if parent in broader else None, []).append(theme)
    out: list[str] = []

    def walk(parent: str | None) -> None:
        for theme in sorted(children.get(parent, []), key=lambda t: labels.get(t, t).lower()):
            if theme in used:
                out.append(theme)
            walk(theme)
    walk(None)
    return out


# -- shared helpers ----------------------------------------------------------------------

def _ref(k: Knowledge, iri: str) -> dict[str, str]:
    label = k.labels.get(iri) or k.actors.get(iri, {}).get("label")
    if label is None and iri in k.duties:
        label = k.duties[iri].label
    return {"id": short_id(iri), "uri": iri, "label": label or short_id(iri)}


def _actor_ref(store: Store, iri: str) -> dict[str, str]:
    actor = directory(store).by_iri.get(iri)
    return actor.as_json() if actor else {"id": short_id(iri), "uri": iri, "label": short_id(iri)}


def _in_force(k: Knowledge, day: dt.date) -> list[DutyFacts]:
    return sorted((d for d in k.duties.values() if d.in_force(day)), key=lambda d: (d.label.lower(), d.iri))


def actor_sectors(store: Store, day: dt.date) -> dict[str, str]:
    """Each actor's sector on `day`: where most of the duties it is accountable or responsible
    for lie (care, health or housing; ties go to the sector listed first)."""
    k = knowledge(store)
    counts: dict[str, Counter] = {}
    for duty in _in_force(k, day):
        for holder in duty.holders(day, ("accountable", "responsible")):
            for sector in duty.sectors - {CROSS_SECTOR}:
                counts.setdefault(holder, Counter())[sector] += 1
    rank = {s: i for i, s in enumerate(k.sectors)}
    return {actor: min(c, key=lambda s: (-c[s], rank.get(s, 99))) for actor, c in counts.items()}


# -- the matrix ------------------------------------------------------------------------------

def matrix(store: Store, day: dt.date) -> dict:
    """Themes x sectors: the duties in force on `day` in each cell, with their accountable holders."""
    k = knowledge(store)
    cells: dict[tuple[str, str], list[dict]] = {}
    for duty in _in_force(k, day):
        entry = {"id": short_id(duty.iri), "uri": duty.iri, "label": duty.label,
                 "accountable": [_actor_ref(store, h) for h in duty.holders(day)]}
        for theme in duty.themes:
            for sector in duty.sectors:
                cells.setdefault((theme, sector), []).append(entry)
    return {
        "sectors": [_ref(k, s) for s in k.sectors],
        "themes": [dict(_ref(k, t), broader=short_id(k.broader[t]) if k.broader.get(t) else None)
                   for t in k.themes],
        "cells": [{"theme": short_id(t), "sector": short_id(s), "count": len(cells.get((t, s), [])),
                   "duties": cells.get((t, s), [])}
                  for t in k.themes for s in k.sectors],
    }


def matrix_counts(store: Store, day: dt.date) -> dict[tuple[str, str], int]:
    """(theme id, sector id) -> duties in force, straight from the aggregate query the heatmap draws."""
    return {(short_id(r["theme"].value), short_id(r["sector"].value)): int(value(r["duties"]))
            for r in store.select("alignment_matrix", [{"day": date_literal(day)}])}


# -- bridges and the sector network -------------------------------------------------------------

def bridges(store: Store, day: dt.date) -> list[dict]:
    """Duties in force on `day` that tie sectors together, each with why and the sectors it ties."""
    k = knowledge(store)
    sector_of = actor_sectors(store, day)
    found = []
    for duty in _in_force(k, day):
        holders = duty.holders(day, ("accountable", "responsible", "consulted", "informed"))
        holder_sectors = {sector_of[h] for h in holders if h in sector_of}
        why = ["cross-sector duty"] if CROSS_SECTOR in duty.sectors else []
        bridging = sorted(duty.themes & k.bridging_themes, key=lambda t: k.labels.get(t, t))
        if bridging:
            why.append("about " + ", ".join(k.labels[t] for t in bridging))
        ties = holder_sectors | (duty.sectors - {CROSS_SECTOR})
        if len(ties) > 1:
            why.append("binds bodies in " + " and ".join(k.labels[s] for s in _ordered(k, ties)))
        if not bridging and len(ties) < 2:
            continue  # a cross-sector duty whose holders all sit in one sector ties nothing together
        found.append({
            "duty": {"id": short_id(duty.iri), "uri": duty.iri, "label": duty.label},
            "sectors": [short_id(s) for s in _ordered(k, duty.sectors)],
            "themes": [short_id(t) for t in sorted(duty.themes)],
            "ties": [short_id(s) for s in _ordered(k, ties)],
            "why": why,
            "holders": [dict(_actor_ref(store, h), role=role, sector=short_id(sector_of[h]) if h in sector_of else None)
                        for role in ("accountable", "responsible", "consulted", "informed")
                        for h in duty.holders(day, (role,))],
            "law": duty.basis,
        })
    return found


def _ordered(k: Knowledge, sectors: set[str]) -> list[str]:
    return [s for s in k.sectors if s in sectors]


def network(store: Store, day: dt.date, found_bridges: list[dict] | None = None) -> dict:
    """The sector network: sectors as nodes, an edge for each pair a bridge ties, weighted by bridges."""
    k = knowledge(store)
    edges: dict[tuple[str, str], list[str]] = {}
    for bridge in bridges(store, day) if found_bridges is None else found_bridges:
        for a, b in combinations(bridge["ties"], 2):
            edges.setdefault((a, b), []).append(bridge["duty"]["id"])
    return {"nodes": [_ref(k, s) for s in k.sectors if s != CROSS_SECTOR],
            "edges": [{"source": a, "target": b, "bridges": len(ds), "duties": ds} for (a, b), ds in sorted(edges.items())]}


# -- gaps ----------------------------------------------------------------------------------------

def gaps(store: Store, day: dt.date, found_bridges: list[dict] | None = None) -> list[dict]:
    """Unbridged sectors within a theme, themes one sector covers alone, and actors with duties
    but no escalation for a person, on `day`."""
    k = knowledge(store)
    found_bridges = bridges(store, day) if found_bridges is None else found_bridges
    in_force = _in_force(k, day)
    by_theme: dict[str, list[DutyFacts]] = {}
    for duty in in_force:
        for theme in duty.themes:
            by_theme.setdefault(theme, []).append(duty)
    out: list[dict] = []
    for theme in k.themes:
        duties = by_theme.get(theme, [])
        sectors = set().union(*(d.sectors for d in duties)) - {CROSS_SECTOR}
        ties = [set(b["ties"]) for b in found_bridges if short_id(theme) in b["themes"]]
        for a, b in combinations(_ordered(k, sectors), 2):
            if not any({short_id(a), short_id(b)} <= t for t in ties):
                out.append({"kind": "unbridged-sectors", "theme": _ref(k, theme),
                            "sectors": [short_id(a), short_id(b)],
                            "duties": sorted(short_id(d.iri) for d in duties if d.sectors & {a, b}),
                            "message": f"{k.labels[a]} and {k.labels[b]} both hold duties about {k.labels[theme]}, "
                                       "and no duty in force ties the two together"})
        all_sectors = set().union(*(d.sectors for d in duties))
        if len(all_sectors) == 1 and sectors:
            only = next(iter(sectors))
            out.append({"kind": "single-sector-theme", "theme": _ref(k, theme), "sectors": [short_id(only)],
                        "duties": sorted(short_id(d.iri) for d in duties),
                        "message": f"only {k.labels[only]} holds duties about {k.labels[theme]}"})
    holders: dict[str, list[str]] = {}
    for duty in in_force:
        for holder in duty.holders(day):
            holders.setdefault(holder, []).append(short_id(duty.iri))
    for actor, duties in sorted(holders.items()):
        ways = [via for via, kind, start, end in k.escalation.get(actor, []) if holds(start, end, day)]
        if not ways:
            ref = _actor_ref(store, actor)
            out.append({"kind": "no-escalation", "actor": ref, "duties": sorted(duties),
                        "message": f"{ref['label']} is accountable for {len(duties)} duty(ies) in force, and no "
                                   "escalation route names it and no ombudsman or court has jurisdiction over it"})
    return out


# -- overlaps ------------------------------------------------------------------------------------

def overlaps(store: Store, day: dt.date) -> list[dict]:
    """Duties with more than one accountable body on `day`, and two bodies playing the same role
    for one council's area on `day`."""
    k = knowledge(store)
    out: list[dict] = []
    for duty in _in_force(k, day):
        accountable = duty.holders(day)
        if len(accountable) > 1:
            out.append({"kind": "several-accountable", "duty": {"id": short_id(duty.iri), "uri": duty.iri,
                                                                 "label": duty.label},
                        "bodies": [_actor_ref(store, h) for h in accountable],
                        "message": f"{duty.label}: {len(accountable)} bodies are accountable on {day.isoformat()} "
                                   "(the rule is exactly one)"})
    index = places.councils(store)
    roles = directory(store)
    serving: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row in store.select("place_council_bodies"):
        if holds(value(row["from"]), value(row["to"]), day):
            key = (row["council"].value, row["role"].value)
            entry = (row["body"].value, value(row["label"]))
            if entry not in serving.setdefault(key, []):
                serving[key].append(entry)
    for (council_iri, role), bodies in sorted(serving.items()):
        council = index.by_iri.get(council_iri)
        if len(bodies) < 2 or (council is not None and not council.exists_on(day)):
            continue
        place = council.label if council else short_id(council_iri)
        role_label = roles.by_iri[role].label if role in roles.by_iri else short_id(role)
        out.append({"kind": "same-role-one-place",
                    "place": {"id": council.gss if council else short_id(council_iri), "uri": council_iri,
                              "label": place},
                    "role": {"id": short_id(role), "uri": role, "label": role_label},
                    "bodies": [{"id": short_id(b), "uri": b, "label": label} for b, label in sorted(bodies)],
                    "message": f"{len(bodies)} bodies are the {role_label} for {place} on {day.isoformat()}"})
    return out


# -- single points of failure -------------------------------------------------------------------

def single_points_of_failure(store: Store, day: dt.date) -> dict:
    """Where the accountability network on `day` hangs by one body: articulation points (removing
    one splits the network), dominators (every chain of some bodies to Parliament passes through
    them) and the most central bodies (betweenness)."""
    curated = knowledge(store).actors
    # The statutory roles and national bodies: linked records (each council, board, trust) would
    # make every one of them a leaf hanging off its role.
    simple = nx.DiGraph(accountability.graph_at(store, day)).subgraph(curated).copy()
    simple.remove_nodes_from([n for n in list(simple) if simple.degree(n) == 0])
    undirected = simple.to_undirected()
    cut = sorted(nx.articulation_points(undirected)) if undirected.number_of_nodes() else []
    # Without an articulation point its part of the network falls into as many pieces as there
    # are biconnected blocks that meet at it.
    blocks = Counter(n for block in nx.biconnected_components(undirected) for n in block)
    dominated = {a: [d for d in deps if d in curated]
                 for a, deps in accountability.single_points_of_failure(store, day).items() if a in curated}
    centrality = nx.betweenness_centrality(simple) if simple.number_of_nodes() > 2 else {}
    central = sorted(((n, c) for n, c in centrality.items() if c > 0), key=lambda x: (-x[1], x[0]))[:CENTRAL]
    return {
        "articulation_points": [dict(_actor_ref(store, a), separates=blocks[a]) for a in cut],
        "dominators": [dict(_actor_ref(store, a), dependants=[_actor_ref(store, d) for d in deps])
                       for a, deps in dominated.items() if deps],
        "central": [dict(_actor_ref(store, n), betweenness=round(c, 4)) for n, c in central],
    }


# -- what changed ---------------------------------------------------------------------------------

def changes(store: Store, start: dt.date, end: dt.date) -> list[dict]:
    """What changed after `start` up to `end`: duties and bodies that began or ended, duties whose
    accountable holder passed to another body, and successions, each with the law that did it."""
    if end < start:
        raise ValueError(f"the from date {start.isoformat()} is after the to date {end.isoformat()}")
    k = knowledge(store)
    out: list[dict] = []

    def within(day: object) -> bool:
        return isinstance(day, dt.date) and start < day <= end

    def ended_within(day: object) -> bool:
        return isinstance(day, dt.date) and start <= day < end

    for duty in sorted(k.duties.values(), key=lambda d: d.label.lower()):
        ref = {"id": short_id(duty.iri), "uri": duty.iri, "label": duty.label}
        if duty.status != NOT_COMMENCED and within(duty.valid_from):
            out.append({"kind": "duty-began", "date": duty.valid_from.isoformat(), "duty": ref, "law": duty.basis,
                        "message": f"{duty.label} began"})
        if ended_within(duty.valid_to):
            out.append({"kind": "duty-ended", "date": duty.valid_to.isoformat(), "duty": ref, "law": duty.basis,
                        "message": f"{duty.label} ended (last day in force)"})
        if duty.in_force(start) and duty.in_force(end):
            before, after = duty.holders(start), duty.holders(end)
            if before != after:
                out.append(_passed(store, k, duty, ref, before, after, start, end))
    for actor, facts in sorted(k.actors.items(), key=lambda a: a[1]["label"].lower()):
        ref = _actor_ref(store, actor)
        if within(facts["from"]):
            out.append({"kind": "body-began", "date": facts["from"].isoformat(), "actor": ref, "law": facts["law"],
                        "message": f"{facts['label']} began"})
        if ended_within(facts["to"]):
            law = [c for e in k.successions if e["before"] == actor for c in e["law"]] or facts["law"]
            out.append({"kind": "body-ended", "date": facts["to"].isoformat(), "actor": ref,
                        "law": citations.sorted_citations(law), "message": f"{facts['label']} ended (last day)"})
    for event in k.successions:
        if within(event["date"]):
            before, after = _actor_ref(store, event["before"]), _actor_ref(store, event["after"])
            out.append({"kind": "succession", "date": event["date"].isoformat(),
                        "event": {"id": event["id"], "uri": event["uri"], "label": event["label"]},
                        "from_body": before, "to_body": after, "law": event["law"], "caveat": event["caveat"],
                        "message": f"{before['label']} -> {after['label']}: {event['label']}"})
    return sorted(out, key=lambda c: (c["date"], c["kind"], c["message"]))


def _passed(store: Store, k: Knowledge, duty: DutyFacts, ref: dict, before: list[str], after: list[str],
            start: dt.date, end: dt.date) -> dict:
    """An accountable holder change, with the law: the succession that moved the body's functions,
    else the new assignment's own basis, else the duty's."""
    events = [e for e in k.successions if e["before"] in before and e["after"] in after
              and isinstance(e["date"], dt.date) and start < e["date"] <= end]
    own = [{"uri": b, "label": k.labels.get(b, b)} for h, role, s, e, _, _, b in duty.assignments
           if b and role == "accountable" and h in after and holds(s, e, end)]
    law = [c for e in events for c in e["law"]] or own or duty.basis
    date = min((e["date"] for e in events), default=None) or min(
        (s for h, role, s, _, _, _, _ in duty.assignments
         if role == "accountable" and h in after and isinstance(s, dt.date) and start < s <= end), default=end)
    old, new = [_actor_ref(store, h) for h in before], [_actor_ref(store, h) for h in after]
    return {"kind": "duty-passed", "date": date.isoformat(), "duty": ref, "from_body": old, "to_body": new,
            "law": citations.sorted_citations(_dedupe(law)),
            "message": f"{duty.label}: accountable body {', '.join(b['label'] for b in old) or 'none'} -> "
                       f"{', '.join(b['label'] for b in new) or 'none'}"}


def _dedupe(items: list[dict]) -> list[dict]:
    return list({i["uri"]: i for i in items}.values())


# -- everything ------------------------------------------------------------------------------------

def alignment(store: Store, day: dt.date, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """The full alignment on `day`, with the changes between `start` and `end` when both are given."""
    found = bridges(store, day)
    out = {"as_of": day.isoformat(), "matrix": matrix(store, day), "bridges": found,
           "network": network(store, day, found), "gaps": gaps(store, day, found), "overlaps": overlaps(store, day),
           "single_points_of_failure": single_points_of_failure(store, day)}
    if start is not None or end is not None:
        if start is None or end is None:
            raise ValueError("give both a from date and a to date to see what changed")
        out["changes"] = {"from": start.isoformat(), "to": end.isoformat(), "items": changes(store, start, end)}
    return out
