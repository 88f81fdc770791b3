"""Building the graph: named graphs with provenance, inference, errors with file and line,
on-disk reuse, and a broken source never touching stored data."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from caregraph.build import BuildError, build, fingerprint, graph_name, open_store, source_files
from caregraph.namespaces import GENID, GRAPH, INFERRED_GRAPH, PROVENANCE_GRAPH
from caregraph.resources import ontology_dir
from caregraph.store import OxigraphStore


@pytest.fixture
def ontology_copy(tmp_path: Path) -> Path:
    root = tmp_path / "ontology"
    shutil.copytree(ontology_dir(), root)
    return root


def test_each_source_file_is_its_own_named_graph_with_provenance(store):
    root = ontology_dir()
    graphs = set(store.graphs())
    for path in source_files(root):
        assert graph_name(root, path) in graphs
    assert {INFERRED_GRAPH, PROVENANCE_GRAPH} <= graphs
    sources = {row["graph"].value: row["source"].value for row in store.select("built_graphs")}
    assert sources[GRAPH + "caregraph"] == "ontology/caregraph.ttl"
    assert store.select("build_fingerprint")[0]["fingerprint"].value == fingerprint(root)


def test_inferences_are_materialised_at_build_time(store):
    rows = store.query("""
        PREFIX cg: <https://w3id.org/caregraph/def#>
        ASK { GRAPH <https://w3id.org/caregraph/graph/inferred> {
            ?actor cg:accountableTo ?other . ?duty cg:assignmentOf ?d2 . ?x a cg:Actor } }""")
    assert bool(rows)


def test_blank_nodes_get_readable_or_skolem_iris(store):
    assert not any(q.subject.__class__.__name__ == "BlankNode" for q in store.raw)
    named = store.query("""PREFIX cg: <https://w3id.org/caregraph/def#>
        SELECT ?a WHERE { ?d cg:assignment ?a } LIMIT 1""")
    assert "/assignment/" in next(iter(named))["a"].value
    genid = store.query(f'ASK {{ ?x ?p ?o FILTER STRSTARTS(STR(?x), "{GENID}") }}')
    assert bool(genid)  # OWL lists and axioms in the TBox


def test_malformed_turtle_fails_the_build_with_file_and_line(ontology_copy: Path):
    broken = ontology_copy / "knowledge" / "broken.ttl"
    broken.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:d ex:e "unterminated .\n')
    with pytest.raises(BuildError) as err:
        build(OxigraphStore(), ontology_copy)
    assert err.value.path == "ontology/knowledge/broken.ttl"
    assert err.value.line == 3
    assert "ontology/knowledge/broken.ttl:3" in str(err.value)


def test_on_disk_store_is_reused_when_sources_are_unchanged(tmp_path: Path, ontology_copy: Path):
    path = tmp_path / "store"
    first, report = open_store(path, ontology_copy)
    assert not report.reused
    count = len(first)
    del first
    started = time.perf_counter()
    second, report = open_store(path, ontology_copy)
    assert report.reused
    assert time.perf_counter() - started < 1.0
    assert len(second) == count


def test_changed_source_rebuilds_and_removed_file_drops_its_graph(tmp_path: Path, ontology_copy: Path):
    path = tmp_path / "store"
    store, _ = open_store(path, ontology_copy)
    sectors = ontology_copy / "vocabularies" / "sectors.ttl"
    gone = graph_name(ontology_copy, sectors)
    assert gone in store.graphs()
    del store
    sectors.unlink()
    store, report = open_store(path, ontology_copy)
    assert not report.reused
    assert gone not in store.graphs()


def test_broken_source_leaves_the_stored_graph_intact(tmp_path: Path, ontology_copy: Path):
    path = tmp_path / "store"
    store, _ = open_store(path, ontology_copy)
    before = len(store)
    (ontology_copy / "vocabularies" / "themes.ttl").write_text("this is not turtle")
    with pytest.raises(BuildError):
        build(store, ontology_copy)
    assert len(store) == before


def test_imported_graphs_survive_a_rebuild(ontology_copy: Path):
    import pyoxigraph as ox

    store = OxigraphStore()
    build(store, ontology_copy)
    imported = GRAPH + "import/example"
    store.replace_graph(imported, [ox.Triple(ox.NamedNode("http://example.org/a"),
                                             ox.NamedNode("http://example.org/b"), ox.Literal("c"))])
    build(store, ontology_copy)
    assert imported in store.graphs()
