"""The scale-out backend against a real SPARQL server: a store on disk (the curated build and the
fixture registers) is pushed into an Oxigraph server with `caregraph load --to`, and both
backends give the same answers to the competency questions, the accountability chains, the
escalation routes, the place answers, the CLI and the HTTP API; an import run through the
remote backend lands there; and every failure is a plain message naming what and where."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from caregraph import accountability, escalation, places, responsibility, store_contents
from caregraph.actors import directory
from caregraph.api.app import create_app
from caregraph.api.settings import Settings
from caregraph.build import open_store
from caregraph.cli import main
from caregraph.dates import parse_day
from caregraph.escalation_catalogue import list_routes
from caregraph.namespaces import ACTOR
from caregraph.store import SparqlEndpointStore, StoreError, open_endpoint
from conftest import FIXTURES
from fixtures.oxigraph_server import CannotStart, OxigraphServer, free_port

REGISTERS = FIXTURES / "registers"
QUESTIONS = json.loads((FIXTURES / "competency.json").read_text())
ABUSE = "my mum is being abused in her care home, who do I tell?"
TODAY = dt.date.today()
PAST = dt.date(2015, 6, 1)


def start(folder: Path, **options) -> OxigraphServer:
    try:
        return OxigraphServer(folder, **options)
    except CannotStart as exc:
        pytest.skip(f"no Oxigraph server to test against: {exc}")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An on-disk store: the curated build and the fixture registers (as the place tests import them)."""
    path = tmp_path_factory.mktemp("remote") / "local.oxigraph"
    for source, file in (("cqc-directory", "16_September_2026_CQC_directory.csv"),
                         ("cqc-directory", "cqc_directory_2016-02_noheader.csv"), ("cqc-api", "api"),
                         ("ods", "etr.csv")):
        assert run("--store", str(path), "import", source, str(REGISTERS / file))[0] == 0
    assert run("--store", str(path), "import", "cqc-export", str(REGISTERS / "asc_locations_export.csv"),
               "--with-names")[0] == 0
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, local: Path):
    """An Oxigraph server holding what `caregraph load --to` pushed from the local store."""
    live = start(tmp_path_factory.mktemp("oxigraph") / "data")
    code, out = run("--store", str(local), "load", "--to", live.store_url)
    assert code == 0, out
    assert "5 import(s)" in out
    assert f"caregraph --backend {live.backend} serve" in out
    yield live
    live.stop()


@pytest.fixture(scope="module")
def local_store(local: Path):
    return open_store(local)[0]


@pytest.fixture(scope="module")
def remote_store(server: OxigraphServer) -> SparqlEndpointStore:
    return open_endpoint(server.backend)


def test_load_pushes_every_graph_with_its_triples(local_store, remote_store):
    assert remote_store.graphs() == local_store.graphs()
    assert len(remote_store) == len(local_store)
    for graph in local_store.graphs():
        assert set(remote_store.triples(graph)) == set(local_store.triples(graph)), graph


def test_the_competency_questions_get_the_same_answers(local_store, remote_store):
    differ, answered = [], 0
    for case in QUESTIONS:
        day = parse_day(case["as_of"])
        here = responsibility.ask(local_store, case["question"], day, limit=3).as_json()
        there = responsibility.ask(remote_store, case["question"], day, limit=3).as_json()
        answered += bool(here["answers"])
        if here != there:
            differ.append(case["question"])
    assert not differ, f"answered differently by the remote backend: {differ}"
    assert answered >= 0.9 * len(QUESTIONS)


def test_the_accountability_chains_are_the_same(local_store, remote_store):
    # The national and role actors (the hundreds of councils and boards chain through them).
    actors = [a for a in directory(local_store) if a.iri.startswith(ACTOR)]
    assert len(actors) > 30
    for day in (TODAY, PAST):
        for actor in actors:
            here = [c.as_json() for c in accountability.chains(local_store, actor, day)]
            assert here == [c.as_json() for c in accountability.chains(remote_store, actor, day)], (actor.id, day)
    assert accountability.single_points_of_failure(remote_store, TODAY) == \
        accountability.single_points_of_failure(local_store, TODAY)


def test_the_escalation_routes_are_the_same(local_store, remote_store):
    routes = list_routes(local_store)
    assert routes and routes == list_routes(remote_store)
    for route in routes:
        for day in (TODAY, PAST):
            assert escalation.load_route(local_store, route["uri"], day).as_json() == \
                escalation.load_route(remote_store, route["uri"], day).as_json()
        found = [r.as_json() for r in escalation.routes_for(local_store, route["problem"] or route["label"], TODAY)]
        assert found == [r.as_json() for r in escalation.routes_for(remote_store, route["problem"] or route["label"],
                                                                      TODAY)]


def test_place_answers_from_the_imports_are_the_same(local_store, remote_store):
    for where in ({"location": "1-100000011"}, {"location": "Werneth Court"}, {"location": "RT201"},
                  {"council": "Oldham"}, {"council": "Cambridge"}):
        here = places.ask(local_store, ABUSE, TODAY, **where).as_json()
        assert here["answers"], where
        assert here == places.ask(remote_store, ABUSE, TODAY, **where).as_json(), where
    assert places.ask(remote_store, ABUSE, TODAY, location="1-100000011").as_json()["place"]["provider"]["label"] \
        == "Werneth Care Ltd"
    with pytest.raises(places.AmbiguousPlace):
        places.find_location(remote_store, "Court")


@pytest.mark.parametrize("argv", [
    ["ask", ABUSE, "--json"],
    ["ask", "the council refuses to assess my dad", "--as-of", "2019-06-01"],
    ["ask", ABUSE, "--location", "1-100000011"],
    ["path", "cqc"],
    ["path", "social-worker", "--as-of", "2015-06-01", "--json"],
    ["escalate", "kicked out of hospital"],
    ["quality", "--json"],
], ids=lambda argv: " ".join(argv)[:40])
def test_the_cli_answers_alike_from_both_backends(local, server, argv):
    here = run("--store", str(local), *argv)
    assert here[0] == 0 and here[1]
    assert run("--backend", server.backend, *argv) == here


def test_the_backend_comes_from_caregraph_store_too(local, server, monkeypatch):
    monkeypatch.setenv("CAREGRAPH_STORE", server.backend)
    code, out = run("store", "info", "--json")
    assert code == 0
    there = json.loads(out)
    here = json.loads(run("--store", str(local), "store", "info", "--json")[1])
    assert there.pop("store") == server.backend
    here.pop("store")
    assert there == here and len(there["imports"]) == 5


@pytest.fixture(scope="module")
def apis(local_store, remote_store):
    """The HTTP application over each backend (in this process; a real `serve` is tested below)."""
    with TestClient(create_app(local_store, Settings(warm_indexes=False))) as here, \
            TestClient(create_app(remote_store, Settings(warm_indexes=False))) as there:
        yield here, there


@pytest.mark.parametrize("path", [
    "/responsible?q=" + ABUSE,
    "/responsible?q=who+inspects+home+care&as_of=2019-06-01",
    "/responsible?q=" + ABUSE + "&location=Werneth+Court",
    "/locations/1-100000011",
    "/locations/1-100000011/responsible?q=" + ABUSE,
    "/actors/cqc",
    "/escalation/routes",
])
def test_the_api_answers_alike_from_both_backends(apis, path):
    here, there = (client.get(path, headers={"Accept": "application/json"}) for client in apis)
    assert here.status_code == 200, here.text
    assert (there.status_code, there.json()) == (200, here.json())


def test_sparql_through_the_api_is_answered_by_the_engine_with_the_limits_kept(apis, local_store):
    _, there = apis
    count = there.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
                      headers={"Accept": "application/sparql-results+json"})
    assert count.status_code == 200
    assert int(count.json()["results"]["bindings"][0]["n"]["value"]) == len(local_store)
    relative = there.post("/sparql", data={"query": "SELECT ?x WHERE { BIND(<thing> AS ?x) }"},
                          headers={"Accept": "application/sparql-results+json"})
    assert relative.json()["results"]["bindings"][0]["x"]["value"].endswith("/thing")
    refused = there.get("/sparql", params={"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> "
                                                    "{ ?s ?p ?o } }"})
    assert refused.status_code == 400
    broken = there.get("/sparql", params={"query": "SELECT WHERE {"})
    assert broken.status_code == 400 and "SPARQL engine answered 400" in broken.text
    health = there.get("/health").json()
    assert health["status"] == "ok"


def test_a_remote_result_past_the_size_limit_is_cut_with_the_marker(remote_store):
    with TestClient(create_app(remote_store, Settings(result_limit=100_000, warm_indexes=False))) as client:
        response = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                              headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert 50_000 < len(response.content) <= 100_000 + 200  # cut between the engine's chunks, before the limit
    assert response.text.rstrip().endswith("# truncated: the result passed this server's limit of 100000 bytes "
                                           "and was cut")


def test_caregraph_serve_runs_as_a_replica_over_the_server(server, apis, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREGRAPH_")}
    env["CAREGRAPH_DATA_DIR"] = str(tmp_path)
    replica = subprocess.Popen([sys.executable, "-m", "caregraph.cli", "--backend", server.backend, "serve",
                                "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert replica.poll() is None, replica.stdout.read().decode()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "caregraph serve --backend did not answer"
            time.sleep(0.2)
        path = "/locations/1-100000011/responsible?q=" + ABUSE
        answer = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=60)
        assert answer.status_code == 200 and answer.json() == apis[0].get(path).json()
    finally:
        replica.terminate()
        replica.wait(timeout=30)


def test_an_import_through_the_remote_backend(tmp_path):
    fresh = start(tmp_path / "fresh")
    try:
        code, out = run("--memory", "load", "--to", fresh.store_url)
        assert code == 0 and "0 import(s)" in out
        watcher = SparqlEndpointStore.from_url(fresh.backend, refresh=0)
        before = watcher.generation
        code, out = run("--backend", fresh.backend, "import", "cqc-api", str(REGISTERS / "api"))
        assert code == 0, out
        assert "Not kept" not in out
        assert watcher.generation != before  # another process's caches know the graph changed
        local = tmp_path / "local.oxigraph"
        assert run("--store", str(local), "import", "cqc-api", str(REGISTERS / "api"))[0] == 0
        here, there = open_store(local)[0], open_endpoint(fresh.backend)
        assert [(i.id, i.triples, i.sha256) for i in store_contents.imports(there)] == \
            [(i.id, i.triples, i.sha256) for i in store_contents.imports(here)]
        assert places.ask(there, ABUSE, TODAY, location="1-100000011").as_json() == \
            places.ask(here, ABUSE, TODAY, location="1-100000011").as_json()
        # Removed through the backend, as from a store on disk.
        code, out = run("--backend", fresh.backend, "store", "remove", "cqc-api/api")
        assert code == 0, out
        assert store_contents.imports(open_endpoint(fresh.backend)) == []
    finally:
        fresh.stop()


def _fails(capsys, *argv: str) -> str:
    assert run(*argv)[0] == 2
    err = capsys.readouterr().err
    assert err.startswith("caregraph") and "Traceback" not in err
    return err


def test_load_says_plainly_when_the_server_cannot_be_reached_or_refuses(local, server, capsys):
    nowhere = f"http://127.0.0.1:{free_port()}/store"
    err = _fails(capsys, "--store", str(local), "load", "--to", nowhere)
    assert f"cannot reach the graph store at {nowhere}" in err and "nothing was pushed" in err
    err = _fails(capsys, "--store", str(local), "load", "--to", server.url + "/nowhere")
    assert f"{server.url}/nowhere refused graph <https://w3id.org/caregraph/graph/" in err and "404" in err
    err = _fails(capsys, "--store", str(local), "load", "--to", "ftp://example.org/store")
    assert "not an http(s) URL" in err


def test_a_backend_that_cannot_serve_says_why(tmp_path, capsys):
    port = free_port()
    err = _fails(capsys, "--backend", f"sparql+http://127.0.0.1:{port}/query", "path", "cqc")
    assert f"cannot reach the SPARQL endpoint at http://127.0.0.1:{port}/query" in err
    err = _fails(capsys, "--store", "http://127.0.0.1/query", "path", "cqc")
    assert "sparql+http://HOST:PORT/PATH" in err
    empty = start(tmp_path / "empty", union_default_graph=False)
    try:
        err = _fails(capsys, "--backend", empty.backend, "ask", ABUSE)
        assert "holds no caregraph graph" in err and "caregraph load --to" in err
        assert run("--memory", "load", "--to", empty.store_url)[0] == 0
        err = _fails(capsys, "--backend", empty.backend, "ask", ABUSE)
        assert "--union-default-graph" in err and "unionDefaultGraph" in err
    finally:
        empty.stop()
    with pytest.raises(StoreError, match="not a SPARQL endpoint URL"):
        SparqlEndpointStore.from_url("http://127.0.0.1/query")
