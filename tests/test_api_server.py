"""`caregraph serve` itself: an on-disk store built on first start and reopened after, SPARQL
workers opening it read-only, updates that persist, and several worker processes."""

from __future__ import annotations

import argparse
import asyncio
import io
import socket

import httpx
import pyoxigraph as ox
import pytest
import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol
from uvicorn.server import ServerState

from caregraph.api.server import NoDelayHTTPProtocol, run_cli
from fixtures.api.live_server import LiveServer

TOKEN = "server-test-token"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
MARKER = "https://example.org/api-server-test#marker"


def count(url: str) -> int:
    response = httpx.get(url + "/sparql", params={"query": COUNT})
    return int(next(iter(ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)))["n"].value)


def test_disk_store_is_built_once_reopened_and_keeps_updates(tmp_path, store):
    path = tmp_path / "store"
    first = LiveServer({"CAREGRAPH_UPDATE_TOKEN": TOKEN}, store=path)
    try:
        assert count(first.url) == len(store)
        insert = f'INSERT DATA {{ GRAPH <{MARKER}> {{ <{MARKER}> <{MARKER}> "kept" }} }}'
        response = httpx.post(first.url + "/sparql", data={"update": insert},
                              headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 204
        assert count(first.url) == len(store) + 1  # the workers reopened the store and see it
    finally:
        first.stop()
    second = LiveServer(store=path)  # no token: the store opens read-only
    try:
        assert count(second.url) == len(store) + 1
        refused = httpx.post(second.url + "/sparql", data={"update": f"DROP GRAPH <{MARKER}>"},
                             headers={"Authorization": f"Bearer {TOKEN}"})
        assert refused.status_code == 403 and count(second.url) == len(store) + 1
        answer = httpx.get(second.url + "/responsible", params={"q": "care home unsafe"}).json()
        assert answer["answers"]
    finally:
        second.stop()


def test_several_worker_processes_share_the_disk_store(tmp_path, store):
    server = LiveServer(store=tmp_path / "store", workers=2)
    try:
        assert {count(server.url) for _ in range(4)} == {len(store)}
        assert httpx.get(server.url + "/actors/cqc").json()["id"] == "cqc"
    finally:
        server.stop()


@pytest.mark.parametrize("workers, env, words", [(0, {}, "--workers"),
                                                 (2, {"CAREGRAPH_UPDATE_TOKEN": TOKEN}, "--workers 1")])
def test_serve_refuses_settings_that_cannot_work(monkeypatch, workers, env, words):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    args = argparse.Namespace(store=None, host="127.0.0.1", port=0, workers=workers)
    assert run_cli(args, out) == 2
    assert words in out.getvalue()


def test_serve_reports_a_store_it_cannot_open(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store should be")
    out = io.StringIO()
    args = argparse.Namespace(store=str(blocker), host="127.0.0.1", port=0, workers=1)
    assert run_cli(args, out) == 2
    assert "cannot open the store" in out.getvalue()


@pytest.mark.parametrize("protocol, nodelay", [(AutoHTTPProtocol, False), (NoDelayHTTPProtocol, True)])
def test_connections_have_nagles_algorithm_off(protocol, nodelay):
    """uvicorn binds the socket for --workers N with protocol number 0, so asyncio leaves Nagle's
    algorithm on; the server's protocol turns it off (else a response written in two pieces
    waits for the client's delayed ACK)."""
    async def accept_one() -> int:
        config = uvicorn.Config(app=lambda scope, receive, send: None, log_level="warning")
        config.load()
        state = ServerState()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        server = await asyncio.get_running_loop().create_server(
            lambda: protocol(config=config, server_state=state, app_state={}), sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        while not state.connections:
            await asyncio.sleep(0.01)
        (connection,) = state.connections
        value = connection.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        server.close()
        return value
    assert bool(asyncio.run(asyncio.wait_for(accept_one(), 10))) is nodelay
