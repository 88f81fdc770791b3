"""What answers derive from the curated knowledge (the duty index, each duty's rows, the
speller, the thesaurus, the routes) is built once per version of the knowledge: an import
of records keeps it, a write that may change the knowledge (a SPARQL update, a rebuild)
makes the next answer read it again."""

from __future__ import annotations

import io
import json
import shutil
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import FIXTURES, fresh_curated
from caregraph import actors, escalation, matching, reading, responsibility, spelling, thesaurus
from caregraph.build import build
from caregraph.dates import parse_day
from caregraph.importers.run import import_source
from caregraph.resources import ontology_dir
from caregraph.store import IMPORT_GRAPHS, OxigraphStore, Store, named_graphs_written, writes_data_only

REGISTERS = FIXTURES / "registers"
# One file of every importer the project ships.
IMPORTS = [("cqc-directory", REGISTERS / "16_September_2026_CQC_directory.csv"),
           ("cqc-export", REGISTERS / "asc_locations_export.csv"),
           ("cqc-api", REGISTERS / "api"),
           ("ods", REGISTERS / "etr.csv"),
           ("ods", REGISTERS / "eccg.csv")]
QUESTIONS = json.loads((FIXTURES / "competency.json").read_text())[::6]
DUTY = "https://w3id.org/caregraph/id/duty/rar-reg20a-display-ratings"
DUTY_GRAPH = "https://w3id.org/caregraph/graph/knowledge/duties/regulated-activities-regulations-2014"
DUTY_FILE = "knowledge/duties/regulated-activities-regulations-2014.ttl"
UNHEARD_OF = "wombat sanctuary"
CG = "https://w3id.org/caregraph/def#"


def answers(store: Store) -> list[dict]:
    out = []
    for case in QUESTIONS:
        day = parse_day(case["as_of"])
        out.append(responsibility.ask(store, case["question"], day, limit=3).as_json())
        out.append([r.as_json() for r in escalation.routes_for(store, case["question"], day)])
    return out


def import_all(store: Store) -> None:
    for source, path in IMPORTS:
        import_source(store, source, path, progress=io.StringIO())


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the indexes built from now on (a word index, a speller, a thesaurus)."""
    built: list[str] = []
    for module, name in ((matching, "Index"), (spelling, "Speller"), (thesaurus, "Thesaurus")):
        original = getattr(module, name)

        def counting(*args, _original=original, _name=name, **kwargs):
            built.append(_name)
            return _original(*args, **kwargs)
        monkeypatch.setattr(module, name, counting)
    return built


def test_an_import_rebuilds_no_index_of_the_knowledge_and_changes_no_answer(builds):
    store = fresh_curated()
    before = answers(store)
    built, directory, generation = len(builds), actors.directory(store), store.generation
    import_all(store)
    after = answers(store)
    assert store.generation > generation
    assert builds[built:] == [] and after == before
    # What records can change is read again: the actors now include the imported providers.
    assert actors.directory(store) is not directory


def test_a_sparql_update_to_the_curated_knowledge_changes_the_answer(builds):
    store = fresh_curated()
    assert responsibility.ask(store, UNHEARD_OF).answers == []
    import_all(store)
    built = len(builds)
    store.update(f'INSERT DATA {{ GRAPH <{DUTY_GRAPH}> {{ <{DUTY}> '
                 f'<https://w3id.org/caregraph/def#searchTerms> "{UNHEARD_OF}" }} }}')
    found = responsibility.ask(store, UNHEARD_OF)
    assert [a.duty["uri"] for a in found.answers][:1] == [DUTY]
    assert {"Index", "Speller", "Thesaurus"} <= set(builds[built:])


@pytest.mark.parametrize("disk", [False, True], ids=["in memory", "on disk"])
def test_a_rebuild_from_changed_sources_changes_the_answer(tmp_path: Path, disk: bool):
    store = on_disk(tmp_path) if disk else fresh_curated()
    responsibility.ask(store, UNHEARD_OF)
    root = tmp_path / "ontology"
    shutil.copytree(ontology_dir(), root)
    with (root / DUTY_FILE).open("a") as turtle:
        turtle.write(f'\n<{DUTY}> <https://w3id.org/caregraph/def#searchTerms> "{UNHEARD_OF}" .\n')
    copy = store._copy
    build(store, root)
    assert [a.duty["uri"] for a in responsibility.ask(store, UNHEARD_OF).answers][:1] == [DUTY]
    # A rebuild only writes data: on disk, the copy of the knowledge is rebuilt with it, not copied again.
    assert store._copy is copy
    store.close()


def test_records_never_hold_what_an_answer_reads_from_the_knowledge(monkeypatch: pytest.MonkeyPatch):
    """The promise that lets the knowledge's indexes outlive an import, checked for every
    importer: each query an answer reads gives the same rows before and after."""
    store = fresh_curated()
    read: list[tuple[str, list | None]] = []
    select, select_text = Store.select, Store.select_text

    def recording(self, name, rows=None):
        read.append((name, rows))
        return select(self, name, rows)

    def recording_text(self, name, columns):
        read.append((name, None))
        return select_text(self, name, columns)
    monkeypatch.setattr(Store, "select", recording)
    monkeypatch.setattr(Store, "select_text", recording_text)
    answers(store)
    monkeypatch.setattr(Store, "select", select)
    monkeypatch.setattr(Store, "select_text", select_text)
    assert {"duty_documents", "duty_assignments", "thesaurus_labels", "route_steps"} <= {name for name, _ in read}

    def results() -> list[list[tuple[str, ...]]]:
        return [sorted(tuple(str(term) for term in row.values()) for row in store.select(name, rows))
                for name, rows in read]
    before = results()
    import_all(store)
    assert results() == before


def test_only_a_graph_of_imported_records_is_written_as_records():
    store = fresh_curated()
    with pytest.raises(ValueError, match="not a graph of imported records"):
        with store.writing_records(DUTY_GRAPH):
            pass


def test_a_write_on_another_thread_during_an_import_still_counts_as_a_change_to_the_knowledge():
    store = fresh_curated()
    index = reading.speller(store)
    with store.writing_records(IMPORT_GRAPHS + "test/records"):
        store.replace_graph(IMPORT_GRAPHS + "test/records", [])
        assert reading.speller(store) is index
        writer = threading.Thread(target=store.update, args=(f"DROP SILENT GRAPH <{IMPORT_GRAPHS}test/other>",))
        writer.start()
        writer.join()
    assert reading.speller(store) is not index


def on_disk(folder: Path) -> OxigraphStore:
    """A store on disk holding the curated graph: its knowledge is read from a copy in memory."""
    quads = io.BytesIO()
    fresh_curated().raw.dump(quads, ox.RdfFormat.N_QUADS)
    store = OxigraphStore(folder / "store")
    store.raw.load(quads.getvalue(), ox.RdfFormat.N_QUADS)
    return store


def search_term(verb: str, text: str = UNHEARD_OF) -> str:
    return f'{verb} DATA {{ GRAPH <{DUTY_GRAPH}> {{ <{DUTY}> <{CG}searchTerms> "{text}" }} }}'


def top(store: Store, question: str = UNHEARD_OF) -> list[str]:
    return [a.duty["uri"] for a in responsibility.ask(store, question).answers][:1]


def test_on_disk_the_knowledge_is_read_from_a_copy_that_answers_as_the_store_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    store = on_disk(tmp_path)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(OxigraphStore, "_knowledge_copy", lambda self: self.raw)
            expected = answers(store)
        store.generation += 1
        assert answers(store) == expected
        copy = store._copy
        import_all(store)
        # Records never enter the copy, and an import leaves it as it was.
        assert store._copy is copy and not any(g.value.startswith(IMPORT_GRAPHS) for g in copy.named_graphs())
        assert answers(store) == expected
    finally:
        store.close()


def test_on_disk_every_kind_of_write_to_the_knowledge_changes_the_answer(tmp_path: Path, builds):
    store = on_disk(tmp_path)
    try:
        before = answers(store)
        copy = store._copy
        # An update that only writes data is applied to the copy as well: nothing is copied again.
        built = len(builds)
        store.update(search_term("INSERT"))
        assert top(store) == [DUTY] and store._copy is copy
        assert {"Index", "Speller", "Thesaurus"} <= set(builds[built:])
        store.update(search_term("DELETE"))
        assert top(store) == [] and answers(store) == before
        # One with a WHERE may read anything, records too, so it is not run on the copy; when
        # its templates name the graphs it writes, only those are copied again from the store.
        store.update(f'INSERT {{ GRAPH <{DUTY_GRAPH}> {{ ?duty <{CG}searchTerms> "{UNHEARD_OF}" }} }} '
                     f'WHERE {{ GRAPH <{DUTY_GRAPH}> {{ ?duty a <{CG}Duty> }} FILTER (?duty = <{DUTY}>) }}')
        assert top(store) == [DUTY] and store._copy is copy
        # A template writing to GRAPH ?g: its WHERE, asked first, says which graphs it will write.
        store.update(f"DELETE WHERE {{ GRAPH ?g {{ ?duty <{CG}searchTerms> \"{UNHEARD_OF}\" }} }}")
        assert top(store) == [] and store._copy is copy
        store.update(f'INSERT {{ GRAPH ?g {{ ?duty <{CG}searchTerms> "{UNHEARD_OF}" }} }} '
                     f'WHERE {{ GRAPH ?g {{ ?duty a <{CG}Duty> }} FILTER (?duty = <{DUTY}>) }}')
        assert top(store) == [DUTY] and store._copy is copy
        # With a second operation after it, the update cannot be asked first: the copy is made again.
        store.update(f"DELETE WHERE {{ GRAPH ?g {{ ?duty <{CG}searchTerms> \"{UNHEARD_OF}\" }} }} ; "
                     f"DROP SILENT GRAPH <{DUTY_GRAPH}#none>")
        assert top(store) == [] and store._copy is not copy
        assert answers(store) == before
        # A graph loaded from a file, or moved, is copied again; so is one written past the store's methods.
        graph = "https://w3id.org/caregraph/graph/knowledge/test"
        store.load_graph(graph, f'<{DUTY}> <{CG}searchTerms> "{UNHEARD_OF}" .'.encode(), ox.RdfFormat.N_TRIPLES)
        assert top(store) == [DUTY]
        store.move_graph(graph, IMPORT_GRAPHS + "test/moved")
        assert top(store) == []
        store.raw.add(ox.Quad(ox.NamedNode(DUTY), ox.NamedNode(CG + "searchTerms"), ox.Literal("wombat refuge"),
                              ox.NamedNode(graph)))
        store.generation += 1
        assert top(store, "wombat refuge") == [DUTY]
    finally:
        store.close()


@pytest.mark.parametrize("update", [
    search_term("INSERT"), search_term("DELETE"),
    search_term("INSERT", 'where to find \\" help with a LOAD'),
    f'INSERT DATA {{ GRAPH <{DUTY_GRAPH}> {{ <{DUTY}> <{CG}searchTerms> """move\n"where" copy""" }} }}',
    f"DROP SILENT GRAPH <{DUTY_GRAPH}#where> ; CLEAR DEFAULT # then DELETE WHERE, said only here",
    "PREFIX ex: <http://example.org/with#> INSERT DATA { ex:a ex:b 'using' }",
])
def test_an_update_that_only_writes_data_is_told_apart(update: str):
    assert writes_data_only(update)


@pytest.mark.parametrize("update", [
    "DELETE WHERE { ?s ?p ?o }", "insert { ?s ?p 1 } where { ?s ?p ?o }", "LOAD <http://example.org/data.ttl>",
    "MOVE <http://example.org/a> TO <http://example.org/b>", "ADD DEFAULT TO <http://example.org/b>",
    "COPY <http://example.org/a> TO DEFAULT", "WITH <http://example.org/a> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "INSERT DATA { <http://example.org/a> <http://example.org/b> 'c' } ;\nDELETE WHERE { ?s ?p ?o }",
    # An escaped "#" in a prefixed name starts no comment that could hide what follows.
    "PREFIX ex: <http://example.org/> INSERT DATA { ex:a\\#b ex:p ex:c } ; DELETE WHERE { ?s ?p ?o }",
])
def test_an_update_that_reads_is_never_taken_for_one_that_only_writes_data(update: str):
    assert not writes_data_only(update)


@pytest.mark.parametrize("update, written", [
    ("DELETE { GRAPH <http://example.org/a> { ?s ?p ?o } } INSERT { GRAPH <http://example.org/b> { ?s ?p 1 } } "
     "WHERE { GRAPH <http://example.org/c> { ?s ?p ?o } }", ({"http://example.org/a", "http://example.org/b"}, [])),
    ("WITH <http://example.org/a> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", ({"http://example.org/a"}, [])),
    ("insert { ?s ?p 1 } using <http://example.org/a> where { ?s ?p ?o }", ({""}, [])),
    ("DELETE WHERE { GRAPH <http://example.org/a> { ?s ?p ?o } }", ({"http://example.org/a"}, [])),
    ("BASE <http://example.org/> INSERT { GRAPH <a> { ?s ?p 1 } } WHERE { ?s ?p ?o }", ({"http://example.org/a"}, [])),
    ("DROP GRAPH <http://example.org/a> ; CLEAR DEFAULT", ({"http://example.org/a", ""}, [])),
    # A graph named by a variable in the one operation: its WHERE can be asked for it first.
    ("DELETE WHERE { GRAPH ?g { ?s ?p ?o } }", (set(), ["g"])),
    ("DELETE { GRAPH ?g { ?s ?p ?o } } INSERT { GRAPH <http://example.org/a> { ?s ?p 1 } } WHERE { GRAPH ?g { ?s ?p ?o } }",
     ({"http://example.org/a"}, ["g"])),
    # What the text cannot tell: GRAPH ?g beside USING or other operations, graphs read into others, everything.
    ("INSERT { GRAPH ?g { ?s ?p 1 } } USING <http://example.org/a> WHERE { GRAPH ?g { ?s ?p ?o } }", None),
    ("DELETE WHERE { GRAPH ?g { ?s ?p ?o } } ; DROP GRAPH <http://example.org/a>", None),
    ("LOAD <http://example.org/data.ttl>", None), ("MOVE <http://example.org/a> TO <http://example.org/b>", None),
    ("ADD DEFAULT TO <http://example.org/b>", None), ("CLEAR ALL", None), ("DROP NAMED", None), ("INSERT {", None),
])
def test_the_graphs_an_update_writes_are_read_from_its_text_or_left_unknown(update: str, written):
    assert named_graphs_written(update) == written
