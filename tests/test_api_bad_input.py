"""A catalogue of malformed and hostile requests to /sparql and the JSON API, against a real
server with an update token. Each must get the expected status and a message that names the
problem, never a traceback, a module name or a path of the server's machine; the store must
be unchanged afterwards and the server still answering."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx
import pyoxigraph as ox
import pytest

from fixtures.api.live_server import LiveServer

TOKEN = "bad-input-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
# What must never reach a client: a traceback, a module name, a path on the server's disk.
LEAKS = re.compile(r"Traceback|File \"|\bcaregraph\.\w+\.|site-packages|/work/|/home/|/usr/|/tmp/|\.py\b")


@dataclass
class Case:
    id: str
    method: str
    path: str
    status: int
    says: str  # a fragment of the message, in lower case
    params: dict | list | None = None
    content: bytes | None = None
    data: dict | None = None
    headers: dict = field(default_factory=dict)


SQ = {"Content-Type": "application/sparql-query"}
SU = {"Content-Type": "application/sparql-update", **AUTH}
CASES = [
    # -- /sparql: malformed, wrong types, repeated, misplaced ------------------------------------
    Case("malformed query", "GET", "/sparql", 400, "malformed sparql query", params={"query": "SELECT * WHERE {"}),
    Case("malformed update", "POST", "/sparql", 400, "invalid sparql update", content=b"INSERT DATA { <urn:a> }",
         headers=SU),
    Case("update of an unknown operation", "POST", "/sparql", 400, "invalid sparql update",
         content=b"CLEAR XYZ", headers=SU),
    Case("query as text/plain", "POST", "/sparql", 415, "application/sparql-query", content=b"ASK {}",
         headers={"Content-Type": "text/plain"}),
    Case("query with no content type", "POST", "/sparql", 415, "application/sparql-query", content=b"ASK {}"),
    Case("query as JSON", "POST", "/sparql", 415, "application/sparql-query", content=b'{"query": "ASK {}"}',
         headers={"Content-Type": "application/json"}),
    Case("query declared latin-1", "POST", "/sparql", 415, "utf-8", content=b"ASK {}",
         headers={"Content-Type": "application/sparql-query; charset=ISO-8859-1"}),
    Case("update declared UTF-16", "POST", "/sparql", 415, "utf-8", content="CLEAR ALL".encode("utf-16"),
         headers={**SU, "Content-Type": "application/sparql-update; charset=UTF-16"}),
    Case("query body not UTF-8", "POST", "/sparql", 400, "not utf-8", content=b"ASK { \"\xff\xfe\" }", headers=SQ),
    Case("update body not UTF-8", "POST", "/sparql", 400, "not utf-8", content=b"CLEAR GRAPH <urn:\xff>",
         headers=SU),
    Case("percent-encoded bytes that are not UTF-8", "GET", "/sparql?query=ASK%20%7B%FF%7D", 400,
         "malformed sparql query"),
    Case("NUL byte in a query", "GET", "/sparql", 400, "malformed sparql query", params={"query": "ASK {\x00}"}),
    Case("two query parameters", "GET", "/sparql", 400, "2 'query' parameters",
         params=[("query", "ASK {}"), ("query", "SELECT * {}")]),
    Case("query in the URL and the form", "POST", "/sparql?query=ASK%20%7B%7D", 400, "2 'query' parameters",
         data={"query": "ASK {}"}),
    Case("query in the URL and the body", "POST", "/sparql?query=ASK%20%7B%7D", 400, "do not also send",
         content=b"ASK {}", headers=SQ),
    Case("two update parameters", "POST", "/sparql", 400, "2 'update' parameters",
         content=b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT",
         headers={"Content-Type": "application/x-www-form-urlencoded", **AUTH}),
    Case("query and update together", "POST", "/sparql", 400, "either query or update",
         data={"query": "ASK {}", "update": "CLEAR ALL"}, headers=AUTH),
    Case("update by GET", "GET", "/sparql", 400, "must be sent by post", params={"update": "CLEAR ALL"}),
    Case("PUT", "PUT", "/sparql", 405, "method not allowed", content=b"ASK {}", headers=SQ),
    Case("unacceptable Accept", "GET", "/sparql", 406, "this endpoint offers", params={"query": "SELECT * {}"},
         headers={"Accept": "image/png"}),
    Case("empty form", "POST", "/sparql", 400, "no 'query'", data={"other": "x"}),
    # -- /sparql: injection through dataset parameters ---------------------------------------------
    Case("default-graph-uri not an IRI", "GET", "/sparql", 400, "default-graph-uri: not an iri",
         params={"query": "ASK {}", "default-graph-uri": "not an iri"}),
    Case("named-graph-uri breaking out of an IRI", "GET", "/sparql", 400, "named-graph-uri: not an iri",
         params={"query": "ASK {}", "named-graph-uri": "urn:x> } ; DROP ALL ; #"}),
    Case("using-graph-uri breaking out of an IRI", "POST", "/sparql", 400, "using-graph-uri: not an iri",
         params={"using-graph-uri": "urn:x> DROP ALL ; INSERT { <a> <b> <c> } USING <urn:y"},
         content=b"INSERT { <urn:a> <urn:b> ?o } WHERE { ?s ?p ?o }", headers=SU),
    Case("using-named-graph-uri with USING in the update", "POST", "/sparql", 400, "using or with",
         params={"using-named-graph-uri": "urn:people"},
         content=b"WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", headers=SU),
    Case("DELETE WHERE with no pattern and using-graph-uri", "POST", "/sparql", 400, "invalid sparql update",
         params={"using-graph-uri": "urn:g"}, content=b"DELETE WHERE", headers=SU),
    # -- /sparql: who may write ------------------------------------------------------------------
    Case("update without the token", "POST", "/sparql", 403, "update token", data={"update": "CLEAR ALL"}),
    Case("update with a wrong token", "POST", "/sparql", 403, "update token", data={"update": "CLEAR ALL"},
         headers={"Authorization": "Bearer wrong"}),
    Case("update with a Basic credential", "POST", "/sparql", 403, "update token", data={"update": "CLEAR ALL"},
         headers={"Authorization": f"Basic {TOKEN}"}),
    Case("LOAD from a file", "POST", "/sparql", 400, "load", content=b"LOAD <file:///etc/passwd>", headers=SU),
    # -- the JSON API: dates, limits, ids, traversal, injection ----------------------------------
    Case("a date in words", "GET", "/responsible", 400, "as_of", params={"q": "care home", "as_of": "yesterday"}),
    Case("30 February", "GET", "/responsible", 400, "as_of", params={"q": "care home", "as_of": "2024-02-30"}),
    Case("month 13", "GET", "/actors/cqc", 400, "as_of", params={"as_of": "2024-13-01"}),
    Case("a date with SPARQL in it", "GET", "/duties", 400, "as_of",
         params={"as_of": '2024-01-01"^^<urn:x> } DROP ALL #'}),
    Case("negative limit", "GET", "/responsible", 422, "limit", params={"q": "care home", "limit": -1}),
    Case("limit that is not a number", "GET", "/duties", 422, "limit", params={"limit": "ten"}),
    Case("huge limit", "GET", "/actors", 422, "limit", params={"limit": 10**12}),
    Case("negative offset", "GET", "/duties", 422, "offset", params={"offset": -5}),
    Case("empty question", "GET", "/responsible", 422, "q", params={"q": ""}),
    Case("question too long", "GET", "/escalation", 422, "problem", params={"problem": "x" * 501}),
    Case("unknown actor", "GET", "/actors/no-such-body-anywhere", 404, "no-such-body-anywhere"),
    Case("unknown duty", "GET", "/duties/no-such-duty", 404, "no-such-duty"),
    Case("unknown route", "GET", "/escalation/routes/no-such-route", 404, "no-such-route"),
    Case("unknown location", "GET", "/locations/1-000000000000", 404, "1-000000000000"),
    Case("unknown theme", "GET", "/duties", 400, "theme", params={"theme": "<script>alert(1)</script>"}),
    Case("actor id with SPARQL in it", "GET", "/actors/cqc%3E%20%7D%20DROP%20ALL%20%23", 404, "drop all"),
    Case("duty id climbing out", "GET", "/duties/..%2F..%2F..%2Fetc%2Fpasswd", 404, "not found"),
    Case("linked data path climbing out", "GET", "/id/..%2F..%2F..%2Fetc%2Fpasswd", 404, "not"),
    Case("static file climbing out", "GET", "/static/..%2F..%2Fsettings.py", 404, "not found"),
    Case("location id climbing out", "GET", "/locations/..%2F..%2Fetc%2Fpasswd", 404, "not found"),
]


@pytest.fixture(scope="module")
def server():
    live = LiveServer({"CAREGRAPH_UPDATE_TOKEN": TOKEN})
    yield live
    live.stop()


def state(url: str) -> tuple[int, int]:
    """The number of quads and the store's generation (any write moves it)."""
    response = httpx.get(url + "/sparql", params={"query": COUNT}, timeout=30)
    quads = int(next(iter(ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)))["n"].value)
    return quads, httpx.get(url + "/health", timeout=30).json()["store_generation"]


def test_the_catalogue_has_every_kind_of_case():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_answered_cleanly(server, case):
    before = state(server.url)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        request = client.build_request(case.method, case.path, params=case.params, content=case.content,
                                       data=case.data, headers=case.headers)
        if "%2F" in case.path or "%3E" in case.path:  # keep the escapes as sent, not as httpx would normalise them
            request.url = request.url.copy_with(raw_path=case.path.encode())
        response = client.send(request)
    assert response.status_code == case.status, response.text[:500]
    text = response.text
    assert case.says in text.lower(), text[:500]
    assert not LEAKS.search(text), text[:500]
    assert "root:" not in text
    assert state(server.url) == before
    assert httpx.get(server.url + "/health", timeout=30).status_code == 200
