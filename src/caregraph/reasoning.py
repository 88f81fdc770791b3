"""Prove the ontology and curated knowledge consistent with HermiT (via owlready2, Java)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import rdflib

from caregraph.namespaces import CG, GENID, INFERRED_GRAPH, PROVENANCE_GRAPH, XSD
from caregraph.store import Store


_DATE = XSD + "date"
_DATETIME = XSD + "dateTime"


class JavaMissing(RuntimeError):
    """HermiT runs on Java, which is not installed."""


@dataclass
class ConsistencyReport:
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    message: str = ""
    axioms: int = 0

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable


def _curated_graph(store: Store) -> rdflib.Graph:
    # The reasoner sees what was written, not what caregraph materialised from it. Skolem
    # IRIs go back to blank nodes, so OWL lists and class expressions read as such; named
    # nodes (assignments, links, steps) stay individuals.
    graph = rdflib.Graph()
    for name in store.graphs():
        if name in (INFERRED_GRAPH, PROVENANCE_GRAPH) or "/graph/import/" in name:
            continue
        for t in store.triples(name):
            graph.add(tuple(_to_rdflib(term) for term in (t.subject, t.predicate, t.object)))
    return graph


def _to_rdflib(term):
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        if term.value.startswith(GENID):
            return rdflib.BNode(term.value.removeprefix(GENID).replace("/", "_"))
        # xsd:date is outside the OWL 2 datatype map HermiT implements; xsd:dateTime is in it.
        return rdflib.URIRef(_DATETIME if term.value == _DATE else term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == _DATE:
        return rdflib.Literal(f"{term.value}T00:00:00Z", datatype=rdflib.URIRef(_DATETIME))
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def check_consistency(store: Store) -> ConsistencyReport:
    """Run HermiT over the curated graphs; names every unsatisfiable class."""
    java = shutil.which("java")
    if java is None:
        raise JavaMissing("Java is not installed, so the HermiT reasoner cannot run; install a Java "
                          "runtime (e.g. `apt install default-jre-headless`) and try again")
    import owlready2

    owlready2.JAVA_EXE = java
    graph = _curated_graph(store)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "caregraph.nt"
        graph.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        onto = world.get_ontology(path.as_uri()).load(format="ntriples")
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            return ConsistencyReport(False, [], f"the knowledge is inconsistent: {exc}", len(graph))
        unsat = sorted(c.iri for c in world.inconsistent_classes() if c.iri.startswith(CG))
    return ConsistencyReport(True, unsat, "", len(graph))
