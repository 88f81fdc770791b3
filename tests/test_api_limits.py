"""Limits that hold before the damage: bodies refused while they arrive (chunked included),
over-long URLs and heads answered 414/431 rather than reset, and updates stopped at the
time limit with the store unchanged, in memory and on disk."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest

from caregraph.api.limits import HEAD_LIMIT, URL_LIMIT
from fixtures.api.live_server import LiveServer

TOKEN = "limits-test-token"
UPLOAD_LIMIT = 100_000
TIME_LIMIT = 1.5
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
CROSS_PRODUCT = ("INSERT { GRAPH <urn:x> { ?a <urn:p> ?d } } "
                 "WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } GRAPH ?z { ?g ?h ?i } }")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server():
    live = LiveServer({"CAREGRAPH_UPDATE_TOKEN": TOKEN, "CAREGRAPH_UPLOAD_LIMIT": str(UPLOAD_LIMIT),
                       "CAREGRAPH_QUERY_TIMEOUT": str(TIME_LIMIT)})
    yield live
    live.stop()


def count(url: str) -> int:
    response = httpx.get(url + "/sparql", params={"query": COUNT}, timeout=30)
    return int(next(iter(ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)))["n"].value)


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def stream(port: int, head: bytes, piece: bytes, most: int) -> tuple[bytes, int]:
    """Send `head`, then `piece` again and again (up to `most` bytes) until the server answers
    or closes; what it answered and how many bytes of body went out."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        answer = b""
        while sent < most:
            try:
                answer += sock.recv(65536)
                if answer:
                    break
            except BlockingIOError:
                pass
            except OSError:
                break
            try:
                sent += sock.send(piece)
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                break
        sock.setblocking(True)
        sock.settimeout(5)
        try:
            # The whole answer: its head and then its body, which may come in a later packet.
            while not _complete(answer):
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except OSError:
            pass
    return answer, sent


def _complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    length = next((int(line.split(b":", 1)[1]) for line in head.lower().split(b"\r\n")
                   if line.startswith(b"content-length:")), 0)
    return len(body) >= length


@pytest.mark.parametrize("path, content_type", [
    ("/sparql", "application/sparql-update"),
    ("/sparql", "application/sparql-query"),
    ("/sparql", "application/x-www-form-urlencoded"),
    ("/validate", "text/turtle"),
])
def test_a_200_mb_chunked_body_is_refused_before_it_is_read(server, path, content_type):
    before = rss(server.process.pid)
    chunk = b"x" * 65536
    piece = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Transfer-Encoding: chunked\r\n{'Authorization: Bearer ' + TOKEN + chr(13) + chr(10)}\r\n").encode()
    answer, sent = stream(server.port, head, piece, 200 * 2**20)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"limit of 100000 bytes" in answer
    assert sent < 20 * 2**20  # the server stopped reading near the limit, not at 200 MB
    assert rss(server.process.pid) - before < 30 * 2**20
    assert httpx.get(server.url + "/health").status_code == 200


def test_a_declared_length_over_the_limit_is_refused_before_any_body(server):
    head = b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: text/turtle\r\nContent-Length: 200000000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413") and b"connection: close" in answer.lower()


@pytest.mark.parametrize("size", [URL_LIMIT + 1, 2**20, 20 * 2**20])
def test_an_over_long_url_gets_414_not_a_reset(server, size):
    head = b"GET /sparql?query=" + b"a" * size
    answer, _ = stream(server.port, head, b"a" * 65536, 20 * 2**20)
    assert answer.startswith(b"HTTP/1.1 414"), answer[:200]
    assert b"send a long SPARQL query by POST" in answer
    assert httpx.get(server.url + "/health").status_code == 200


def test_a_long_url_under_the_limit_is_answered(server):
    query = "SELECT * WHERE { ?s ?p ?o } LIMIT 1 #" + "x" * (URL_LIMIT - 200)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        target = "/sparql?query=" + quote(query, safe="")
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_over_long_headers_get_431(server):
    head = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: " + b"y" * (HEAD_LIMIT + 10) + b"\r\n\r\n"
    answer, _ = stream(server.port, head, b"", 0)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]


def test_an_update_past_the_time_limit_is_stopped_and_the_store_unchanged(server):
    before = count(server.url)
    started = time.monotonic()
    response = httpx.post(server.url + "/sparql", data={"update": CROSS_PRODUCT}, headers=AUTH, timeout=60)
    took = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert "time limit" in response.text and "unchanged" in response.text
    assert took < TIME_LIMIT + 5
    assert count(server.url) == before
    assert httpx.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200


def test_an_update_with_a_where_inside_the_limit_is_applied(server):
    update = ('INSERT { GRAPH <urn:limits> { <urn:limits> <urn:n> ?n } } '
              'WHERE { SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s a ?t } } }')
    response = httpx.post(server.url + "/sparql", data={"update": update}, headers=AUTH, timeout=60)
    assert response.status_code == 204, response.text
    ask = httpx.get(server.url + "/sparql", params={"query": "ASK { GRAPH <urn:limits> { <urn:limits> <urn:n> ?n } }"})
    assert b"true" in ask.content


def test_on_disk_updates_are_time_limited_and_leave_no_copy_behind(tmp_path):
    path = tmp_path / "store"
    live = LiveServer({"CAREGRAPH_UPDATE_TOKEN": TOKEN, "CAREGRAPH_QUERY_TIMEOUT": str(TIME_LIMIT)}, store=path)
    try:
        before = count(live.url)
        stopped = httpx.post(live.url + "/sparql", data={"update": CROSS_PRODUCT}, headers=AUTH, timeout=60)
        assert stopped.status_code == 503, stopped.text
        assert count(live.url) == before
        kept = httpx.post(live.url + "/sparql", headers=AUTH, timeout=60, data={
            "update": "INSERT { GRAPH <urn:kept> { <urn:kept> <urn:is> ?t } } WHERE { <urn:none> ?p ?t } ; "
                      "INSERT DATA { GRAPH <urn:kept> { <urn:kept> <urn:is> <urn:here> } }"})
        assert kept.status_code == 204, kept.text
        assert count(live.url) == before + 1
    finally:
        live.stop()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
