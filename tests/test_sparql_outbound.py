"""No query or update makes a request to another server unless the operator allows it.

A listener on a loopback port stands for an internal service; every way of asking the
server to reach it (SERVICE in its many spellings and places, LOAD, dataset IRIs) must be
answered without the listener receiving a single connection. A server that allows the
listener's IRI (CAREGRAPH_FEDERATION) shows that the listener does notice requests."""

from __future__ import annotations

import os
import socket
import threading

import httpx
import pyoxigraph as ox
import pytest

from caregraph.api import sandbox
from caregraph.api.sparql_update import UpdateRefused, rehearse
from fixtures.api.live_server import LiveServer

TOKEN = "outbound-test-token"
ANSWER = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"http://example.org/far"}}]}}'


class Listener:
    """A loopback TCP server that counts connections and answers each with a SPARQL JSON result."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                                 b"Content-Length: " + str(len(ANSWER)).encode() + b"\r\nConnection: close\r\n\r\n"
                                 + ANSWER)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@pytest.fixture(scope="module")
def listener():
    listening = Listener()
    yield listening
    listening.close()


@pytest.fixture(scope="module")
def server():
    live = LiveServer({"CAREGRAPH_UPDATE_TOKEN": TOKEN})
    yield live
    live.stop()


def _queries(target: str) -> dict[str, str]:
    host = target.rsplit("/", 1)[0] + "/"
    return {
        "plain": f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "lower case": f"select * where {{ service <{target}> {{ ?s ?p ?o }} }}",
        "mixed case": f"SeLeCt * WhErE {{ SeRvIcE <{target}> {{ ?s ?p ?o }} }}",
        "silent": f"SELECT * WHERE {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
        "prefixed name": f"PREFIX far: <{host}> SELECT * WHERE {{ SERVICE far:sparql {{ ?s ?p ?o }} }}",
        "empty prefix": f"PREFIX : <{host}> SELECT * WHERE {{ SERVICE :sparql {{ ?s ?p ?o }} }}",
        "BASE and a relative IRI": f"BASE <{host}> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
        "variable from VALUES": f"SELECT * WHERE {{ VALUES ?e {{ <{target}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        "variable from BIND": f"SELECT * WHERE {{ BIND(<{target}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        "sub-select": f"SELECT * WHERE {{ {{ SELECT ?s WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} }}",
        "OPTIONAL": f"SELECT * WHERE {{ ?x ?y ?z OPTIONAL {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        "UNION": f"SELECT * WHERE {{ {{ ?x ?y ?z }} UNION {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        "MINUS": f"SELECT * WHERE {{ ?s ?p ?o MINUS {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        "FILTER EXISTS": f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        "FILTER NOT EXISTS": f"ASK {{ FILTER NOT EXISTS {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }}",
        "inside GRAPH": f"SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }}",
        "nested SERVICE": f"SELECT * WHERE {{ SERVICE SILENT <urn:x> {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }}",
        "property path inside": f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s (<urn:p>|^<urn:q>)* ?o }} }}",
        "CONSTRUCT": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "ASK": f"ASK {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "DESCRIBE": f"DESCRIBE ?s WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "comment ended by a carriage return": f"SELECT * WHERE {{ ?s ?p ?o # note\rSERVICE <{target}> {{ ?a ?b ?c }}\n}}",
        "comment marker in an IRI": f"SELECT * WHERE {{ <urn:a#> ?p ?o SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "escaped quote in a string": f'SELECT * WHERE {{ BIND("\\u0022" AS ?x) SERVICE <{target}> {{ ?s ?p ?o }} }}',
        "escaped keyword": f"SELECT * WHERE {{ \\u0053ERVICE <{target}> {{ ?s ?p ?o }} }}",
        "escaped IRI": f"SELECT * WHERE {{ SERVICE <{target[:-1]}\\u{ord(target[-1]):04X}> {{ ?s ?p ?o }} }}",
        "after a long string": 'SELECT * WHERE { BIND("""a " b""" AS ?x) ' + f"SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "long string ending in a quote": "SELECT * WHERE { BIND('''a'''' AS ?x) "
                                         f"SERVICE <{target}> {{ ?s ?p ?o }} BIND('b' AS ?y) }}",
        "long string ending in two quotes": 'SELECT * WHERE { BIND("""a""""" AS ?x) '
                                            f'SERVICE <{target}> {{ ?s ?p ?o }} BIND("b" AS ?y) }}',
        "escaped # in a prefixed name": f"PREFIX e: <http://example.org/> SELECT * WHERE {{ ?s e:a\\#b ?o . "
                                        f"SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "escaped quote in a prefixed name": f"PREFIX e: <http://example.org/> SELECT * WHERE {{ ?s e:a\\'b ?o . "
                                            f"SERVICE <{target}> {{ ?s ?p ?o }} ?s ?p 'c' }}",
        "escape and # in an IRI": f"SELECT * WHERE {{ ?s <urn:\\u0041#x> ?o . SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "less-than before a comment": f"SELECT * WHERE {{ ?s ?p ?o FILTER(?o<?s)#>\n SERVICE <{target}> {{ }} }}",
        "a large query": "SELECT * WHERE { " + " ".join(f"?s <urn:p{i}> ?o{i} ." for i in range(1000))
                         + f" SERVICE <{target}> {{ ?s ?p ?o }} }}",
    }


QUERY_CASES = list(_queries("http://127.0.0.1:1/sparql"))


@pytest.mark.parametrize("case", QUERY_CASES)
@pytest.mark.parametrize("how", ["GET", "POST form", "POST body"])
def test_no_query_reaches_another_server(server, listener, case, how):
    query = _queries(listener.url)[case]
    endpoint = server.url + "/sparql"
    if how == "GET":
        response = httpx.get(endpoint, params={"query": query}, timeout=30)
    elif how == "POST form":
        response = httpx.post(endpoint, data={"query": query}, timeout=30)
    else:
        response = httpx.post(endpoint, content=query.encode(), timeout=30,
                              headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400, response.text
    assert "SERVICE" in response.text or "malformed SPARQL query" in response.text
    assert listener.connections == 0


def test_dataset_iris_are_never_fetched(server, listener):
    endpoint = server.url + "/sparql"
    for params in ({"query": f"SELECT * FROM <{listener.url}> WHERE {{ ?s ?p ?o }}"},
                   {"query": f"SELECT * FROM NAMED <{listener.url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"},
                   {"query": f"DESCRIBE <{listener.url}>"},
                   {"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": listener.url},
                   {"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": listener.url}):
        response = httpx.get(endpoint, params=params, timeout=30)
        assert response.status_code == 200, response.text
    assert listener.connections == 0


def _updates(target: str) -> dict[str, str]:
    host = target.rsplit("/", 1)[0] + "/"
    return {
        "LOAD": f"LOAD <{target}>",
        "LOAD SILENT": f"LOAD SILENT <{target}>",
        "LOAD INTO GRAPH": f"LOAD <{target}> INTO GRAPH <urn:g>",
        "lower-case load": f"load silent <{target}> into graph <urn:g>",
        "prefixed LOAD": f"PREFIX far: <{host}> LOAD far:sparql",
        "LOAD after another operation": f"INSERT DATA {{ <urn:a> <urn:b> <urn:c> }} ; LOAD <{target}>",
        "SERVICE in WHERE": f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "SERVICE SILENT in DELETE/INSERT": f"DELETE {{ ?s ?p ?o }} INSERT {{ ?s ?p ?o }} WHERE "
                                           f"{{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
        "SERVICE with a variable": f"INSERT {{ ?s ?p ?o }} WHERE {{ BIND(<{target}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        "SERVICE in a sub-select": f"INSERT {{ ?s <urn:p> <urn:o> }} WHERE {{ {{ SELECT ?s WHERE "
                                   f"{{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} }}",
        "SERVICE with WITH and USING": f"WITH <urn:g> INSERT {{ ?s ?p ?o }} USING <urn:g> WHERE "
                                       f"{{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        "comment ended by a carriage return": f"INSERT DATA {{ <urn:a> <urn:b> <urn:c> }} # x\r; LOAD <{target}>\n",
    }


UPDATE_CASES = list(_updates("http://127.0.0.1:1/sparql"))


@pytest.mark.parametrize("case", UPDATE_CASES)
def test_no_update_reaches_another_server(server, listener, case):
    before = _count(server)
    response = httpx.post(server.url + "/sparql", content=_updates(listener.url)[case].encode(), timeout=30,
                          headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400, response.text
    assert "SERVICE" in response.text or "LOAD" in response.text
    assert listener.connections == 0
    assert _count(server) == before


def test_using_iris_are_never_fetched(server, listener):
    response = httpx.post(server.url + "/sparql", params={"using-graph-uri": listener.url},
                          content=b"INSERT { <urn:a> <urn:b> ?o } WHERE { ?s ?p ?o }", timeout=30,
                          headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 204, response.text
    assert listener.connections == 0


def _count(server: LiveServer) -> int:
    response = httpx.get(server.url + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"})
    return int(next(iter(ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)))["n"].value)


def test_a_sandboxed_process_cannot_reach_the_listener_even_if_asked_directly(listener):
    """The seccomp filter of the SPARQL workers holds even for a SERVICE no check has seen."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(reader)
            if sandbox.no_network():
                try:
                    list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"))
                    os.write(writer, b"answered")
                except OSError as exc:
                    os.write(writer, f"refused: {exc}".encode()[:500])
                code = 0
        finally:
            os._exit(code)
    os.close(writer)
    _, status = os.waitpid(pid, 0)
    said = os.read(reader, 1000).decode()
    os.close(reader)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "seccomp filters are not available here"
    assert said.startswith("refused"), said
    assert listener.connections == 0


@pytest.mark.parametrize("update", ["LOAD <{url}>", "LOAD SILENT <{url}> INTO GRAPH <urn:g>",
                                    "INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}"])
def test_an_update_the_check_missed_is_stopped_by_its_rehearsal(listener, update):
    """The rehearsal runs without internet sockets: an update that tries to reach out is
    killed there and refused, before the server would run it."""
    s = ox.Store()
    with pytest.raises(UpdateRefused) as refused:
        rehearse(s, None, update.format(url=listener.url), None, 10, federation=False)
    assert refused.value.status == 400 and "reach another server" in refused.value.message
    assert listener.connections == 0 and len(s) == 0


def test_an_operator_can_allow_named_endpoints_and_only_those():
    """With CAREGRAPH_FEDERATION naming one listener, SERVICE reaches it (so a listener does
    see requests); any other endpoint, and LOAD from elsewhere, are still refused."""
    allowed, other = Listener(), Listener()
    live = LiveServer({"CAREGRAPH_FEDERATION": allowed.url, "CAREGRAPH_UPDATE_TOKEN": TOKEN})
    try:
        reached = httpx.get(live.url + "/sparql", timeout=30,
                            params={"query": f"SELECT ?s WHERE {{ SERVICE <{allowed.url}> {{ ?s ?p ?o }} }}"})
        assert reached.status_code == 200, reached.text
        assert "http://example.org/far" in reached.text
        assert allowed.connections == 1
        description = httpx.get(live.url + "/sparql", headers={"Accept": "text/turtle"}).text
        assert "BasicFederatedQuery" in description
        refused = httpx.get(live.url + "/sparql", timeout=30,
                            params={"query": f"SELECT ?s WHERE {{ SERVICE <{other.url}> {{ ?s ?p ?o }} }}"})
        assert refused.status_code == 400 and "not allowed" in refused.text
        load = httpx.post(live.url + "/sparql", content=f"LOAD <{other.url}>".encode(), timeout=30,
                          headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
        assert load.status_code == 400 and "not allowed" in load.text
        assert other.connections == 0
    finally:
        live.stop()
        allowed.close()
        other.close()
