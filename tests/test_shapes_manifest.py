"""The shapes, tested in the W3C manner: every shape has a conforming snippet and an invalid twin,
listed as `sht:Validate` entries (W3C SHACL test suite format) with the expected report, and
both engines must produce exactly that report: pySHACL, the reference, and the fast engine,
whose results must therefore be equal to pySHACL's.

Data graphs are named graphs of the TriG files next to the manifests (`<duties.trig#valid>`).
Each is built the way caregraph builds a source file, against caregraph's own model and
vocabularies: blank nodes skolemized, inferences materialised.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDF

from caregraph.resources import ontology_dir, shapes_dir
from caregraph.store import OxigraphStore
from caregraph.validation import load_shapes, read_rdf, validate
from caregraph.validation.compiler import focus_nodes_query
from caregraph.validation.rdf_input import from_rdflib
from caregraph.validation.scratch import with_additions

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shapes"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
CGT = rdflib.Namespace("https://w3id.org/caregraph/test#")


@dataclass(frozen=True)
class Entry:
    iri: str
    label: str
    data: str  # the data graph's IRI: a TriG file and the graph's fragment
    shapes: Path
    conforms: bool
    expected: frozenset
    covers: tuple[str, ...]

    def __str__(self) -> str:
        return self.iri.rsplit("#", 1)[-1]


def _path(iri: str) -> Path:
    return Path(unquote(urlparse(iri).path))


def _key(report: rdflib.Graph, node) -> tuple:
    def one(p):
        return next(iter(report.objects(node, p)), None)

    def text(term):
        return None if term is None else str(term)

    value = one(SH.value)
    return (text(one(SH.focusNode)), text(one(SH.resultPath)),
            str(from_rdflib(value)) if value is not None else None,
            text(one(SH.sourceConstraintComponent)), text(one(SH.resultSeverity)),
            text(one(SH.sourceShape)), text(one(SH.resultMessage)))


@cache
def manifest_entries() -> tuple[Entry, ...]:
    graph = rdflib.Graph()
    top = FIXTURES / "manifest.ttl"
    graph.parse(top, publicID=top.as_uri())
    for include in list(graph.objects(None, MF.include)):
        graph.parse(_path(str(include)), publicID=str(include))
    entries = []
    for manifest in graph.subjects(RDF.type, MF.Manifest):
        for node in rdflib.collection.Collection(graph, graph.value(manifest, MF.entries)):
            action, result = graph.value(node, MF.action), graph.value(node, MF.result)
            conforms = graph.value(result, SH.conforms).toPython()
            expected = frozenset(_key(graph, r) for r in graph.objects(result, SH.result))
            entries.append(Entry(str(node), str(graph.value(node, rdflib.RDFS.label)),
                                 str(graph.value(action, SHT.dataGraph)),
                                 _path(str(graph.value(action, SHT.shapesGraph))),
                                 conforms, expected, tuple(sorted(str(c) for c in graph.objects(node, CGT.covers)))))
    return tuple(sorted(entries, key=lambda e: e.iri))


@pytest.fixture(scope="module")
def model() -> OxigraphStore:
    """caregraph's model and vocabularies, built as the background every snippet is added to."""
    root = ontology_dir()
    sources = [root / "caregraph.ttl", *sorted((root / "vocabularies").glob("*.ttl"))]
    return with_additions(OxigraphStore(), [(p.name, read_rdf(p)) for p in sources])


@cache
def _trig(path: Path) -> dict[str, list[ox.Triple]]:
    graphs: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(path=str(path), format=ox.RdfFormat.TRIG, base_iri=path.as_uri()):
        graphs.setdefault(str(quad.graph_name.value), []).append(quad.triple)
    return graphs


def data_store(model: OxigraphStore, entry: Entry) -> OxigraphStore:
    graphs = _trig(_path(entry.data))
    assert entry.data in graphs, f"{entry}: no graph <{entry.data}>"
    return with_additions(model, [(str(entry), graphs[entry.data])])


def keys(report) -> frozenset:
    return frozenset(r.key() for r in report.results)


@pytest.mark.parametrize("entry", manifest_entries(), ids=str)
@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_manifest_entry(model: OxigraphStore, entry: Entry, engine: str):
    report = validate(data_store(model, entry), shapes=entry.shapes, engine=engine)
    assert report.engine == engine
    assert report.conforms == entry.conforms
    got = keys(report)
    assert got == entry.expected, (f"{entry.label}\nunexpected: {sorted(got - entry.expected)}\n"
                                   f"missing: {sorted(entry.expected - got)}")


def _all_shapes() -> set[str]:
    """Every shape of caregraph that carries a constraint: property shapes and SHACL-SPARQL shapes."""
    graph = load_shapes().graph
    props = {str(p) for p in graph.objects(None, SH.property)}
    sparql = {str(s) for s in graph.subjects(SH.sparql, None)}
    return props | sparql


def test_every_shape_has_a_conforming_and_an_invalid_entry(model: OxigraphStore):
    graph = load_shapes().graph
    valid = {c: e for e in manifest_entries() if e.conforms for c in e.covers}
    invalid = {c: e for e in manifest_entries() if not e.conforms for c in e.covers}
    missing = sorted(s for s in _all_shapes() if s not in valid or s not in invalid)
    assert not missing, f"shapes without a passing and a failing manifest entry: {missing}"
    for shape in _all_shapes():
        # The failing twin fails that shape...
        assert shape in {k[5] for k in invalid[shape].expected}, f"{invalid[shape]} does not fail {shape}"
        # ...and the passing snippet gives it something to check.
        parent = shape if (rdflib.URIRef(shape), SH.sparql, None) in graph else \
            str(next(graph.subjects(SH.property, rdflib.URIRef(shape))))
        query = focus_nodes_query(graph, rdflib.URIRef(parent))
        store = data_store(model, valid[shape])
        assert list(store.query(query)), f"{valid[shape]} has no node that {shape} targets"


def test_every_shape_has_a_message():
    graph = load_shapes().graph
    for shape in _all_shapes():
        node = rdflib.URIRef(shape)
        carriers = [node, *graph.objects(node, SH.sparql)]
        assert any(graph.value(c, SH.message) for c in carriers), f"{shape} has no sh:message"


def test_manifests_name_only_real_shape_files():
    # By name: an installed package carries its own copy of the repository's shapes/.
    shipped = {path.name for path in shapes_dir().glob("*.ttl")}
    for entry in manifest_entries():
        assert entry.shapes.is_file() and entry.shapes.name in shipped, entry
