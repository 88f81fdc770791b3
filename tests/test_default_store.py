"""The default store in the user's data folder, --store and --memory anywhere on the line,
`caregraph store info` and `store remove`, and a reference geography kept beside the store,
never inside the installed package."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from caregraph.build import open_store
from caregraph.cli import main
from caregraph.importers.common import sha256_of
from caregraph.resources import ontology_dir

REGISTERS = Path(__file__).resolve().parent / "fixtures" / "registers"
EXPORT = REGISTERS / "asc_locations_export.csv"      # Bedford Grange, 1-100000041, in Bedford Borough
DIRECTORY = REGISTERS / "16_September_2026_CQC_directory.csv"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder of this test's own (the session's is shared by the other tests)."""
    folder = tmp_path / "user-data"
    monkeypatch.setenv("CAREGRAPH_DATA_DIR", str(folder))
    return folder


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(path.relative_to(folder).as_posix().encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_import_then_ask_then_serve_need_no_flags(data_dir, monkeypatch):
    code, text = run("import", "cqc-export", str(EXPORT), "--as-of", "2025-03-01")
    assert code == 0 and "linked 2" in text and "Not kept" not in text
    assert (data_dir / "caregraph.oxigraph").is_dir()

    code, text = run("ask", "who do I tell about abuse", "--location", "1-100000041")
    assert code == 0
    assert "Bedford Grange" in text and "Bedford Borough Council (E06000055)" in text

    served = {}
    monkeypatch.setattr("caregraph.api.server.uvicorn.run", lambda app, **kw: served.update(app=app, **kw))
    code, text = run("serve")
    assert code == 0 and served["port"] == 8000 and served["host"] == "127.0.0.1"
    response = TestClient(served["app"]).get("/locations/1-100000041/responsible", params={"q": "abuse"})
    assert response.status_code == 200
    assert response.json()["place"]["council"]["label"] == "Bedford Borough Council"


def test_memory_keeps_nothing(data_dir):
    code, text = run("--memory", "import", "cqc-export", str(EXPORT))
    assert code == 0 and "Not kept" in text
    code, text = run("store", "info", "--json")
    assert code == 0 and json.loads(text)["imports"] == []
    code, _ = run("ask", "abuse", "--location", "1-100000041")
    assert code == 1


def test_store_is_accepted_after_the_command_and_its_parent_folders_are_made(tmp_path, data_dir):
    store = tmp_path / "not" / "there" / "caregraph.oxigraph"
    code, text = run("import", "cqc-directory", "--store", str(store), str(DIRECTORY))
    assert code == 0 and "linked 4" in text
    assert store.is_dir() and not data_dir.exists()
    # The same store, named before the command this time.
    code, text = run("--store", str(store), "store", "info", "--json")
    assert [i["id"] for i in json.loads(text)["imports"]] == ["cqc-directory/CQC_directory"]
    with pytest.raises(SystemExit) as exit_:
        run("--store", str(store), "store", "info", "--memory")
    assert exit_.value.code == 2


def test_the_store_environment_variable_is_the_default(tmp_path, data_dir, monkeypatch):
    store = tmp_path / "env" / "store"
    monkeypatch.setenv("CAREGRAPH_STORE", str(store))
    assert run("import", "cqc-directory", str(DIRECTORY))[0] == 0
    assert store.is_dir() and not data_dir.exists()


def test_store_info_lists_the_build_and_every_import_from_their_provenance(data_dir):
    assert run("import", "cqc-export", str(EXPORT), "--as-of", "2025-03-01")[0] == 0
    assert run("import", "cqc-directory", str(DIRECTORY))[0] == 0
    code, text = run("store", "info", "--json")
    assert code == 0
    info = json.loads(text)
    assert info["store"] == str(data_dir / "caregraph.oxigraph")
    assert info["build"]["graphs"] > 50 and info["build"]["triples"] > 20_000
    assert info["build"]["geography"] == "ontology/geography/councils.ttl"
    directory, export = sorted(info["imports"], key=lambda i: i["id"])
    assert export == export | {
        "id": "cqc-export/asc_locations_export", "source": "asc_locations_export.csv", "as_of": "2025-03-01",
        "sha256": sha256_of([EXPORT]), "rows_read": 3, "rows_linked": 2, "rows_skipped": 1, "triples": 38}
    assert export["imported"].endswith("Z") or "+00:00" in export["imported"]
    assert directory["as_of"] == "2026-09-16" and directory["rows_linked"] == 4
    code, text = run("store", "info")
    assert "cqc-export/asc_locations_export" in text and sha256_of([EXPORT]) in text
    assert "rows read 3, linked 2, skipped 1; 38 triples" in text


def test_store_remove_drops_one_import_and_its_provenance(data_dir):
    _, before = run("store", "info", "--json")
    assert run("import", "cqc-export", str(EXPORT))[0] == 0
    assert run("import", "cqc-directory", str(DIRECTORY))[0] == 0
    code, text = run("store", "remove", "cqc-export/asc_locations_export")
    assert code == 0 and "Removed cqc-export/asc_locations_export" in text and "38 triples" in text
    store, _ = open_store(data_dir / "caregraph.oxigraph")
    graph = "https://w3id.org/caregraph/graph/import/cqc-export/asc_locations_export"
    assert graph not in store.graphs()
    assert not store.raw.query(f"ASK {{ GRAPH ?g {{ <{graph}> ?p ?o }} }}")
    assert not store.raw.query("ASK { GRAPH ?g { <https://w3id.org/caregraph/id/location/1-100000041> ?p ?o } }")
    del store
    code, text = run("store", "info", "--json")
    assert [i["id"] for i in json.loads(text)["imports"]] == ["cqc-directory/CQC_directory"]
    # By source file name too; then the store is as before both imports.
    assert run("store", "remove", DIRECTORY.name)[0] == 0
    assert json.loads(run("store", "info", "--json")[1])["quads"] == json.loads(before)["quads"]


def test_store_remove_of_an_unknown_import_fails_plainly(data_dir, capsys):
    assert run("import", "cqc-directory", str(DIRECTORY))[0] == 0
    code, _ = run("store", "remove", "cqc-export/nothing")
    assert code == 2
    err = capsys.readouterr().err
    assert "no import 'cqc-export/nothing'" in err and "cqc-directory/CQC_directory" in err
    assert "Traceback" not in err


def test_a_geography_beside_the_store_stands_in_for_the_shipped_one(tmp_path):
    store_dir = tmp_path / "s.oxigraph"
    overlay = tmp_path / "s.oxigraph.geography"
    overlay.mkdir()
    shipped = (ontology_dir() / "geography" / "councils.ttl").read_text(encoding="utf-8")
    assert '"Bedford Borough Council"' in shipped
    (overlay / "councils.ttl").write_text(shipped.replace('"Bedford Borough Council"', '"Bedford Council (renamed)"'),
                                          encoding="utf-8")
    store, report = open_store(store_dir)
    assert not report.reused
    labels = {r["l"].value for r in store.raw.query(
        "SELECT ?l WHERE { <https://w3id.org/caregraph/id/council/E06000055> "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?l }", use_default_graph_as_union=True)}
    assert labels == {"Bedford Council (renamed)"}
    del store
    # A changed geography rebuilds the store the next time it opens; an unchanged one is reused.
    assert open_store(store_dir)[1].reused
    (overlay / "councils.ttl").write_text(shipped, encoding="utf-8")
    assert not open_store(store_dir)[1].reused


def test_import_geography_writes_beside_the_store_and_leaves_the_package_alone(shared_data, data_dir):
    package = folder_digest(ontology_dir())
    code, text = run("import", "geography", str(shared_data / "ons"))
    assert code == 0 and "153 councils" in text
    assert folder_digest(ontology_dir()) == package
    written = data_dir / "caregraph.oxigraph.geography"
    assert sorted(p.name for p in written.iterdir()) == ["councils.ttl", "districts.ttl", "icbs.ttl"]
    info = json.loads(run("store", "info", "--json")[1])
    assert info["build"]["geography"] == str(written / "councils.ttl")


def test_import_geography_into_memory_is_refused(data_dir, capsys):
    assert run("--memory", "import", "geography", str(REGISTERS))[0] == 2
    assert "--memory keeps nothing" in capsys.readouterr().err
    assert not data_dir.exists()
