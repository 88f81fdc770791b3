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

import pytest

from conftest import FIXTURES, fresh_curated
from caregraph import actors, escalation, matching, reading, responsibility, spelling, thesaurus
from caregraph.build import build
from caregraph.dates import parse_day
from caregraph.importers.run import import_source
from caregraph.resources import ontology_dir
from caregraph.store import IMPORT_GRAPHS, Store

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


def test_a_rebuild_from_changed_sources_changes_the_answer(tmp_path: Path):
    store = fresh_curated()
    responsibility.ask(store, UNHEARD_OF)
    root = tmp_path / "ontology"
    shutil.copytree(ontology_dir(), root)
    with (root / DUTY_FILE).open("a") as turtle:
        turtle.write(f'\n<{DUTY}> <https://w3id.org/caregraph/def#searchTerms> "{UNHEARD_OF}" .\n')
    build(store, root)
    assert [a.duty["uri"] for a in responsibility.ask(store, UNHEARD_OF).answers][:1] == [DUTY]


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
