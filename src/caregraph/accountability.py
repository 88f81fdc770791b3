"""Accountability chains: who an actor answers to, up to Parliament, as of a date.

The edges come from the store's qualified accountability links; networkx does the graph
work (chains to the root, cycles, single points of failure).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import networkx as nx

from caregraph import citations
from caregraph.actors import Actor, directory
from caregraph.dates import holds
from caregraph.namespaces import ACTOR
from caregraph.store import Store, value

PARLIAMENT = ACTOR + "parliament"


@dataclass
class Link:
    """One qualified link: `source` answers to `target` in the way `relation` says."""

    iri: str
    source: str
    target: str
    relation: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    legal_basis: list[dict[str, str]] = field(default_factory=list)
    caveat: str | None = None

    def as_json(self) -> dict:
        return {"relation": self.relation, "legal_basis": self.legal_basis, "caveat": self.caveat,
                "valid_from": _iso(self.valid_from), "valid_to": _iso(self.valid_to)}


@dataclass
class Chain:
    """A path of links from an actor to Parliament."""

    actors: list[Actor]
    links: list[Link]

    def as_json(self) -> list[dict]:
        steps = []
        for i, actor in enumerate(self.actors):
            step = actor.as_json()
            if i < len(self.links):
                step["answers_to"] = self.links[i].as_json()
            steps.append(step)
        return steps


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def links(store: Store) -> list[Link]:
    """Every accountability link in the store."""
    def load() -> list[Link]:
        by_iri: dict[str, Link] = {}
        for row in store.select("accountability_links"):
            key = str(row["link"])
            link = by_iri.get(key)
            if link is None:
                link = by_iri[key] = Link(key, row["actor"].value, row["counterpart"].value,
                                          value(row["relation"]), value(row["from"]), value(row["to"]),
                                          caveat=value(row["caveat"]))
            citations.add(link.legal_basis, row["basis"], row["basisLabel"])
        for link in by_iri.values():
            link.legal_basis = citations.sorted_citations(link.legal_basis)
        return list(by_iri.values())

    return store.cached("accountability-links", load)


def graph_at(store: Store, day: dt.date) -> nx.MultiDiGraph:
    """The accountability graph as it stood on `day`: links in force between actors that existed."""
    actors = directory(store)
    graph = nx.MultiDiGraph()
    for actor in actors:
        if holds(actor.valid_from, actor.valid_to, day):
            graph.add_node(actor.iri)
    for link in links(store):
        if holds(link.valid_from, link.valid_to, day) and link.source in graph and link.target in graph:
            graph.add_edge(link.source, link.target, link=link)
    return graph


def chains(store: Store, actor: Actor, day: dt.date, limit: int = 10, max_length: int = 12) -> list[Chain]:
    """The chains from `actor` to Parliament on `day`, shortest first."""
    graph = graph_at(store, day)
    if actor.iri not in graph:
        return []
    if actor.iri == PARLIAMENT:
        return [Chain([actor], [])]
    if PARLIAMENT not in graph:
        return []
    found: list[Chain] = []
    simple = nx.DiGraph(graph)  # one edge per pair is enough to enumerate paths
    for path in nx.shortest_simple_paths(simple, actor.iri, PARLIAMENT):
        if len(path) - 1 > max_length or len(found) >= limit:
            break
        hops = [min((d["link"] for d in graph.get_edge_data(a, b).values()), key=lambda l: l.relation)
                for a, b in zip(path, path[1:])]
        found.append(Chain([directory(store).get(iri) for iri in path], hops))
    return found


def cycles(store: Store, day: dt.date | None = None) -> list[list[str]]:
    """Cycles of accountability (each should be empty in curated knowledge)."""
    graph = graph_at(store, day) if day else _all_links_graph(store)
    return [list(c) for c in nx.simple_cycles(nx.DiGraph(graph))]


def unanchored(store: Store, day: dt.date) -> list[str]:
    """Actors that existed on `day` but had no chain to Parliament."""
    graph = graph_at(store, day)
    if PARLIAMENT not in graph:
        return sorted(graph.nodes)
    reaching = nx.ancestors(graph, PARLIAMENT) | {PARLIAMENT}
    return sorted(set(graph.nodes) - reaching)


def single_points_of_failure(store: Store, day: dt.date) -> dict[str, list[str]]:
    """Actors through which every chain of some other actor passes, with those actors.

    If such an actor failed, nobody else would hold the dependent actors to account.
    """
    graph = nx.DiGraph(graph_at(store, day)).reverse()
    if PARLIAMENT not in graph:
        return {}
    dominators = nx.immediate_dominators(graph, PARLIAMENT)
    dependants: dict[str, list[str]] = {}
    for node, dominator in dominators.items():
        if node != PARLIAMENT and dominator != PARLIAMENT:
            dependants.setdefault(dominator, []).append(node)
    return {k: sorted(v) for k, v in sorted(dependants.items())}


def _all_links_graph(store: Store) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for link in links(store):
        graph.add_edge(link.source, link.target, link=link)
    return graph
