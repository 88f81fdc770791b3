"""The W3C SPARQL 1.1 Protocol and Service Description test manifests, replayed against a real
`caregraph serve` (from ../shared/conformance; skipped when absent).

Query tests are sent without the update token (read-only requests); update tests, and the
loading of each test's `ut:graphData`, carry it. Every entry must pass: there is no list of
exceptions, because every entry applies to caregraph's endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS

from fixtures.api.live_server import LiveServer

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance"
PROTOCOL = CONFORMANCE / "sparql11-protocol" / "manifest.ttl"
SERVICE_DESCRIPTION = CONFORMANCE / "sparql11-service-description" / "manifest.ttl"
TOKEN = "protocol-manifest-token"

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")

# What each mf:expectedFormat allows as a Content-Type.
FORMATS = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"},
    "RDF": {"text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json"},
}
RESULT_PARSERS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                  "application/sparql-results+xml": ox.QueryResultsFormat.XML}


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    statuses: set[str]  # status classes such as "2xx"
    boolean: bool | None
    format: str | None


@dataclass
class Entry:
    name: str
    graphs: list[tuple[Path, str]] = field(default_factory=list)  # data file, graph name
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def is_update(self) -> bool:
        return self.name.startswith(("update_", "bad_update"))


def _entries(manifest: Path) -> list[tuple[str, rdflib.URIRef, rdflib.Graph]]:
    graph = rdflib.Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
    top = graph.value(predicate=RDF.type, object=MF.Manifest)
    return [(str(e).rsplit("#", 1)[1], e, graph) for e in Collection(graph, graph.value(top, MF.entries))]


def _protocol_entries() -> list[Entry]:
    if not PROTOCOL.is_file():
        return []
    entries = []
    for name, node, graph in _entries(PROTOCOL):
        entry = Entry(name)
        for data in graph.objects(node, UT.graphData):
            entry.graphs.append((Path(str(graph.value(data, UT.graph)).removeprefix("file://")),
                                 str(graph.value(data, RDFS.label))))
        action = graph.value(node, MF.action)
        for request in Collection(graph, graph.value(action, HT.requests)):
            headers = {str(graph.value(h, HT.fieldName)): str(graph.value(h, HT.fieldValue))
                       for h in Collection(graph, graph.value(request, HT.headers))} \
                if graph.value(request, HT.headers) is not None else {}
            body = graph.value(request, HT.body)
            response = graph.value(request, HT.resp)
            expected_boolean = graph.value(response, MF.expectedBoolean)
            expected_format = graph.value(response, MF.expectedFormat)
            entry.exchanges.append(Exchange(
                method=str(graph.value(request, HT.methodName)),
                path=str(graph.value(request, HT.absolutePath)),
                headers=headers,
                body=None if body is None else str(graph.value(body, CNT.chars)),
                statuses={str(s).rsplit("StatusCode", 1)[1] for s in graph.objects(response, MF.expectedStatus)},
                boolean=None if expected_boolean is None else bool(expected_boolean.toPython()),
                format=None if expected_format is None else str(expected_format)))
        entries.append(entry)
    return entries


ENTRIES = _protocol_entries()


@pytest.fixture(scope="module")
def server():
    # These tests are about the protocol, not the time limit (tests/test_api_limits.py): an
    # update first runs on a copy of the store, which can take seconds on a busy 2-core machine.
    live = LiveServer({"CAREGRAPH_UPDATE_TOKEN": TOKEN, "CAREGRAPH_QUERY_TIMEOUT": "30"})
    yield live
    live.stop()


def _load(server: LiveServer, path: Path, name: str) -> None:
    update = f"DROP SILENT GRAPH <{name}> ; INSERT DATA {{ GRAPH <{name}> {{\n{path.read_text()}\n}} }}"
    response = httpx.post(server.url + "/sparql", content=update.encode(),
                          headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 204, response.text


def _send(server: LiveServer, exchange: Exchange, token: bool) -> httpx.Response:
    # The manifest's paths start with /sparql/; caregraph's endpoint is /sparql.
    path = "/sparql" + exchange.path[len("/sparql/"):] if exchange.path.startswith("/sparql/") else exchange.path
    headers = {"Host": "www.example", **exchange.headers}
    if token:
        headers["Authorization"] = f"Bearer {TOKEN}"
    body = None
    if exchange.body is not None:
        declared = exchange.headers.get("content-type", "").lower()
        body = exchange.body.encode("utf-16" if "charset=utf-16" in declared else "utf-8")
    return httpx.request(exchange.method, server.url + path, content=body, headers=headers, timeout=30)


@pytest.mark.skipif(not ENTRIES, reason=f"the SPARQL 1.1 Protocol manifest is not present at {PROTOCOL}")
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_protocol_manifest_entry(server, entry):
    missing = [str(path) for path, _ in entry.graphs if not path.is_file()]
    if missing:
        pytest.skip(f"the manifest's data is not present: {', '.join(missing)}")
    for path, name in entry.graphs:
        _load(server, path, name)
    for exchange in entry.exchanges:
        response = _send(server, exchange, token=entry.is_update)
        status_class = f"{response.status_code // 100}xx"
        assert status_class in exchange.statuses, f"{exchange.method} {exchange.path}: {response.status_code} " \
                                                  f"{response.text[:300]}"
        if status_class == "4xx":  # an error names the problem, never a trace
            assert response.text.strip() and "Traceback" not in response.text
        media = response.headers.get("content-type", "").split(";")[0].strip()
        if exchange.format is not None:
            assert media in FORMATS[exchange.format], media
        if exchange.boolean is not None:
            assert bool(ox.parse_query_results(response.content, RESULT_PARSERS[media])) is exchange.boolean


def test_the_manifest_lists_every_entry_this_test_runs():
    if not ENTRIES:
        pytest.skip(f"the SPARQL 1.1 Protocol manifest is not present at {PROTOCOL}")
    assert len(ENTRIES) == 34
    assert all(e.exchanges for e in ENTRIES)


# -- the service description manifest ----------------------------------------------------------
def _description(server: LiveServer) -> tuple[httpx.Response, rdflib.Graph]:
    response = httpx.get(server.url + "/sparql", headers={"Accept": "text/turtle"})
    return response, rdflib.Graph().parse(data=response.text, format="turtle")


def _returns_rdf(server: LiveServer) -> None:
    response, graph = _description(server)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    assert len(graph) > 0


def _has_endpoint_triple(server: LiveServer) -> None:
    _, graph = _description(server)
    assert (None, SD.endpoint, rdflib.URIRef(server.url + "/sparql")) in graph


def _conforms_to_schema(server: LiveServer) -> None:
    """The shape the Service Description document gives its terms (section 3)."""
    _, graph = _description(server)
    services = list(graph.subjects(RDF.type, SD.Service))
    assert len(services) == 1
    service = services[0]
    assert isinstance(graph.value(service, SD.endpoint), rdflib.URIRef)
    languages = set(graph.objects(service, SD.supportedLanguage))
    assert languages and languages <= {SD.SPARQL10Query, SD.SPARQL11Query, SD.SPARQL11Update}
    assert all(isinstance(f, rdflib.URIRef) for f in graph.objects(service, SD.resultFormat))
    assert set(graph.objects(service, SD.feature)) <= {SD.DereferencesURIs, SD.UnionDefaultGraph,
                                                         SD.RequiresDataset, SD.EmptyGraphs, SD.BasicFederatedQuery}
    for dataset in graph.objects(service, SD.defaultDataset):
        assert (dataset, RDF.type, SD.Dataset) in graph
        for default in graph.objects(dataset, SD.defaultGraph):
            assert (default, RDF.type, SD.Graph) in graph
        for named in graph.objects(dataset, SD.namedGraph):
            assert isinstance(graph.value(named, SD.name), rdflib.URIRef)
    used = {p for p in graph.predicates() if str(p).startswith(str(SD))} | \
           {o for o in graph.objects(predicate=RDF.type) if str(o).startswith(str(SD))}
    assert used <= {SD.endpoint, SD.supportedLanguage, SD.feature, SD.defaultDataset, SD.defaultGraph,
                    SD.namedGraph, SD.name, SD.resultFormat, SD.Service, SD.Dataset, SD.Graph}


SD_CHECKS = {"returns-rdf": _returns_rdf, "has-endpoint-triple": _has_endpoint_triple,
             "conforms-to-schema": _conforms_to_schema}
SD_ENTRIES = [name for name, _, _ in _entries(SERVICE_DESCRIPTION)] if SERVICE_DESCRIPTION.is_file() else []


@pytest.mark.skipif(not SD_ENTRIES, reason=f"the Service Description manifest is not present at {SERVICE_DESCRIPTION}")
@pytest.mark.parametrize("name", SD_ENTRIES)
def test_service_description_manifest_entry(server, name):
    assert name in SD_CHECKS, f"no check written for the service description test {name}"
    SD_CHECKS[name](server)


def test_relative_iris_resolve_against_the_endpoint(server):
    response = httpx.post(server.url + "/sparql", content=b"CONSTRUCT { <s> <p> <o> } WHERE {}",
                          headers={"Content-Type": "application/sparql-query", "Accept": "application/n-triples"})
    assert response.status_code == 200
    endpoint = urljoin(server.url + "/sparql", "s")
    assert f"<{endpoint}>" in response.text
