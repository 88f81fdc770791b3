"""HermiT proves the knowledge consistent, and does notice when it is not."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from caregraph import reasoning
from caregraph.build import open_store
from caregraph.namespaces import CG, GRAPH, RDF, RDFS

pytestmark = pytest.mark.skipif(__import__("shutil").which("java") is None, reason="HermiT needs Java")


def _with(triples):
    store, _ = open_store()
    store.replace_graph(GRAPH + "knowledge/test-extra", triples)
    return store


def test_curated_knowledge_is_consistent(store):
    report = reasoning.check_consistency(store)
    assert report.ok, report


def test_an_individual_that_is_both_a_duty_and_an_actor_is_inconsistent():
    x = ox.NamedNode("https://w3id.org/caregraph/id/duty/impossible")
    store = _with([ox.Triple(x, ox.NamedNode(RDF + "type"), ox.NamedNode(CG + "Duty")),
                   ox.Triple(x, ox.NamedNode(RDF + "type"), ox.NamedNode(CG + "Organisation"))])
    report = reasoning.check_consistency(store)
    assert not report.consistent


def test_unsatisfiable_classes_are_named():
    bad = ox.NamedNode(CG + "DutyThatActs")
    store = _with([ox.Triple(bad, ox.NamedNode(RDF + "type"), ox.NamedNode("http://www.w3.org/2002/07/owl#Class")),
                   ox.Triple(bad, ox.NamedNode(RDFS + "subClassOf"), ox.NamedNode(CG + "Duty")),
                   ox.Triple(bad, ox.NamedNode(RDFS + "subClassOf"), ox.NamedNode(CG + "Actor"))])
    report = reasoning.check_consistency(store)
    assert CG + "DutyThatActs" in report.unsatisfiable


def test_missing_java_is_said_plainly(monkeypatch, store):
    monkeypatch.setattr(reasoning.shutil, "which", lambda name: None)
    with pytest.raises(reasoning.JavaMissing, match="Java is not installed"):
        reasoning.check_consistency(store)
