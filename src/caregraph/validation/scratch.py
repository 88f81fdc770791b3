"""Scratch copies of the built graph with extra data added, so that validating a file never
writes it into a store someone relies on."""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from urllib.parse import quote

import pyoxigraph as ox

from caregraph.build import infer as materialise_inferences
from caregraph.build import fingerprint, open_store, skolemize
from caregraph.namespaces import GRAPH
from caregraph.resources import ontology_dir
from caregraph.store import OxigraphStore, Store

_curated: dict[str, OxigraphStore] = {}
GIVEN_GRAPH = ox.NamedNode(GRAPH + "validate/data")  # where data to validate is put, as given
_lock = threading.Lock()


def curated_store() -> OxigraphStore:
    """The curated graph, built in memory once per version of the sources."""
    key = fingerprint(ontology_dir())
    with _lock:
        if key not in _curated:
            _curated.clear()
            _curated[key], _ = open_store()
        return _curated[key]


def copy_of(base: Store) -> OxigraphStore:
    scratch = OxigraphStore()
    if isinstance(base, OxigraphStore):
        scratch.raw.extend(base.raw)
    else:
        buffer = io.BytesIO()
        base.dump(buffer, "nquads")
        scratch.raw.load(buffer.getvalue(), ox.RdfFormat.N_QUADS)
    return scratch


def subset(base: Store, graphs: Sequence[str]) -> OxigraphStore:
    """An in-memory copy of some of `base`'s named graphs, and of what is in no named graph
    (a SPARQL update may write there). (Querying `base` with those graphs as the default
    graph was measured 25 times slower on pyoxigraph than copying them.)"""
    scratch = OxigraphStore()
    if isinstance(base, OxigraphStore):
        scratch.raw.extend(base.raw.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    for graph in graphs:
        copy_graph(base, graph, scratch)
    return scratch


def copy_graph(base: Store, graph: str, scratch: OxigraphStore) -> None:
    """Add one of `base`'s named graphs to `scratch`, under the same name."""
    name = ox.NamedNode(graph)
    if isinstance(base, OxigraphStore):
        scratch.raw.extend(base.raw.quads_for_pattern(None, None, None, name))
    else:
        scratch.raw.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in base.triples(graph))
    scratch.generation += 1


def add_as_given(store: OxigraphStore, triples: Sequence[ox.Triple]) -> None:
    """Add data to validate as it is: no blank node renamed, nothing inferred from it (a
    closure of rdf:type would break a user's sh:maxCount on it)."""
    store.raw.extend(ox.Quad(t.subject, t.predicate, t.object, GIVEN_GRAPH) for t in triples)
    store.generation += 1


def with_additions(base: Store, additions: Sequence[tuple[str, list[ox.Triple]]]) -> OxigraphStore:
    """A copy of `base` with each (name, triples) added by `add_sources`."""
    scratch = copy_of(base)
    add_sources(scratch, additions)
    return scratch


def add_sources(store: OxigraphStore, additions: Sequence[tuple[str, list[ox.Triple]]]) -> None:
    """Add each (name, triples) as its own named graph, the way caregraph builds its sources:
    blank nodes skolemized, then inferences materialised again over the whole store."""
    for n, (name, triples) in enumerate(additions, 1):
        scope = f"validate/{n}/{quote(name, safe='')}"
        graph = ox.NamedNode(GRAPH + scope)
        store.raw.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in skolemize(triples, scope))
    materialise_inferences(store.raw)
