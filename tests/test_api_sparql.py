"""The SPARQL 1.1 Protocol at /sparql against a real server: formats and negotiation,
datasets, errors, the time limit, the size limit, updates behind a token, unchanged
SPARQLWrapper and rdflib SPARQLStore clients, and caregraph's own SparqlEndpointStore."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
import time

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from caregraph import linked_data, responsibility
from caregraph.api.sparql import ResultCache
from caregraph.namespaces import GRAPH
from caregraph.store import SparqlEndpointStore, StoreError
from caregraph.validation.scratch import subset
from fixtures.api.live_server import LiveServer

TOKEN = "test-update-token"
TIME_LIMIT = 1.5
RESULT_LIMIT = 200_000
UPLOAD_LIMIT = 100_000
WORKER_MEMORY = 300 * 2**20
DUTIES = """PREFIX cg: <https://w3id.org/caregraph/def#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?duty ?label WHERE { ?duty a cg:Duty ; rdfs:label ?label } ORDER BY ?duty"""
CQC = "https://w3id.org/caregraph/id/actor/cqc"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
MARKER = "https://example.org/api-test#marker"


@pytest.fixture(scope="module")
def server():
    live = LiveServer({"CAREGRAPH_QUERY_TIMEOUT": str(TIME_LIMIT), "CAREGRAPH_RESULT_LIMIT": str(RESULT_LIMIT),
                       "CAREGRAPH_UPDATE_TOKEN": TOKEN, "CAREGRAPH_UPLOAD_LIMIT": str(UPLOAD_LIMIT)})
    yield live
    live.stop()


@pytest.fixture(scope="module")
def endpoint(server) -> str:
    return server.url + "/sparql"


@pytest.fixture(scope="module")
def plain_server():
    """A server as `caregraph serve` starts by default (no update token, default time and size
    limits), with a small memory cap for SPARQL workers."""
    live = LiveServer({"CAREGRAPH_WORKER_MEMORY": str(WORKER_MEMORY)})
    yield live
    live.stop()


@pytest.fixture(scope="module")
def plain(plain_server) -> str:
    return plain_server.url + "/sparql"


def rows(store, query: str) -> list[tuple]:
    return [tuple(None if t is None else t.value for t in sol) for sol in store.query(query)]


def parse_results(response: httpx.Response, fmt: ox.QueryResultsFormat) -> list[tuple]:
    return [tuple(None if t is None else t.value for t in sol) for sol in ox.parse_query_results(response.content, fmt)]


# -- the three ways to send a query -------------------------------------------------------
def test_get_post_form_and_post_body_give_the_same_answer(endpoint, store):
    expected = rows(store, DUTIES)
    assert len(expected) > 100
    by_get = httpx.get(endpoint, params={"query": DUTIES})
    by_form = httpx.post(endpoint, data={"query": DUTIES})
    by_body = httpx.post(endpoint, content=DUTIES.encode(), headers={"Content-Type": "application/sparql-query"})
    for response in (by_get, by_form, by_body):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/sparql-results+json"
        assert parse_results(response, ox.QueryResultsFormat.JSON) == expected


# -- formats and negotiation --------------------------------------------------------------
@pytest.mark.parametrize("accept, media, fmt", [
    ("application/sparql-results+json", "application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("application/sparql-results+xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ("text/csv", "text/csv", ox.QueryResultsFormat.CSV),
    ("text/tab-separated-values", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
])
def test_select_results_in_every_format(endpoint, store, accept, media, fmt):
    response = httpx.get(endpoint, params={"query": DUTIES}, headers={"Accept": accept})
    assert response.headers["content-type"].startswith(media)
    if fmt == ox.QueryResultsFormat.CSV:  # lossy by design: values only, which is what rows() compares
        table = list(csv.reader(io.StringIO(response.text)))
        assert table[0] == ["duty", "label"]
        got = [tuple(r) for r in table[1:]]
    else:
        got = parse_results(response, fmt)
    assert got == rows(store, DUTIES)


def test_ask_results(endpoint):
    for accept, fmt in (("application/sparql-results+json", ox.QueryResultsFormat.JSON),
                        ("application/sparql-results+xml", ox.QueryResultsFormat.XML)):
        yes = httpx.get(endpoint, params={"query": f"ASK {{ <{CQC}> ?p ?o }}"}, headers={"Accept": accept})
        no = httpx.get(endpoint, params={"query": "ASK { <https://example.org/none> ?p ?o }"},
                       headers={"Accept": accept})
        assert bool(ox.parse_query_results(yes.content, fmt)) is True
        assert bool(ox.parse_query_results(no.content, fmt)) is False


@pytest.mark.parametrize("accept, fmt", [("text/turtle", "turtle"), ("application/n-triples", "nt"),
                                         ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld")])
def test_construct_and_describe_in_every_graph_format(endpoint, store, accept, fmt):
    construct = f"CONSTRUCT {{ <{CQC}> ?p ?o }} WHERE {{ <{CQC}> ?p ?o }}"
    expected = {(t.subject.value, t.predicate.value, t.object.value) for t in store.query(construct)}
    for query in (construct, f"DESCRIBE <{CQC}>"):
        response = httpx.get(endpoint, params={"query": query}, headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
        got = {(str(s), str(p), str(o)) for s, p, o in rdflib.Graph().parse(data=response.content, format=fmt)}
        assert got >= expected and got


@pytest.mark.parametrize("accept, media", [
    ("text/csv;q=0.9, application/sparql-results+json;q=0.5", "text/csv"),
    ("application/sparql-results+json;q=0.5, text/csv;q=0.9", "text/csv"),
    ("text/csv;q=0, */*;q=0.1", "application/sparql-results+json"),
    ("text/*;q=0.8, application/sparql-results+xml;q=0.7", "text/csv"),
    ("text/tab-separated-values, text/csv", "text/tab-separated-values"),
    ("application/xml", "application/sparql-results+xml"),
    ("*/*", "application/sparql-results+json"),
])
def test_multi_valued_accept_with_q_values(endpoint, accept, media):
    response = httpx.get(endpoint, params={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media


def test_unacceptable_formats_get_406(endpoint):
    select = httpx.get(endpoint, params={"query": DUTIES}, headers={"Accept": "text/turtle"})
    assert select.status_code == 406 and "application/sparql-results+json" in select.text
    construct = httpx.get(endpoint, params={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"},
                          headers={"Accept": "text/csv"})
    assert construct.status_code == 406 and "text/turtle" in construct.text


# -- datasets -----------------------------------------------------------------------------
def test_default_graph_uri_and_named_graph_uri(endpoint, store):
    sectors = GRAPH + "vocabularies/sectors"
    themes = GRAPH + "vocabularies/themes"
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    union = int(parse_results(httpx.get(endpoint, params={"query": count}), ox.QueryResultsFormat.JSON)[0][0])
    only = httpx.get(endpoint, params={"query": count, "default-graph-uri": sectors})
    assert int(parse_results(only, ox.QueryResultsFormat.JSON)[0][0]) == len(list(store.triples(sectors))) < union
    both = httpx.post(endpoint, data={"query": count, "default-graph-uri": [sectors, themes]})
    assert int(parse_results(both, ox.QueryResultsFormat.JSON)[0][0]) == \
        len(set(store.triples(sectors)) | set(store.triples(themes)))
    named = httpx.get(endpoint, params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                        "named-graph-uri": sectors})
    assert parse_results(named, ox.QueryResultsFormat.JSON) == [(sectors,)]
    body = httpx.post(endpoint + f"?default-graph-uri={sectors}", content=count.encode(),
                      headers={"Content-Type": "application/sparql-query"})
    assert parse_results(body, ox.QueryResultsFormat.JSON) == parse_results(only, ox.QueryResultsFormat.JSON)
    bad = httpx.get(endpoint, params={"query": count, "default-graph-uri": "not an iri"})
    assert bad.status_code == 400 and "default-graph-uri" in bad.text


# -- the service description --------------------------------------------------------------
def test_service_description(endpoint, store):
    response = httpx.get(endpoint, headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=response.content, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = graph.value(predicate=rdflib.RDF.type, object=sd.Service)
    assert str(graph.value(service, sd.endpoint)) == endpoint
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in graph
    assert (service, sd.supportedLanguage, sd.SPARQL11Update) in graph  # this server has a token
    assert {str(n) for n in graph.objects(None, sd.name)} == set(store.graphs())
    as_jsonld = httpx.get(endpoint, headers={"Accept": "application/ld+json"})
    assert len(rdflib.Graph().parse(data=as_jsonld.content, format="json-ld")) == len(graph)


# -- errors -------------------------------------------------------------------------------
def test_malformed_query_gets_400_with_the_parsers_message(endpoint):
    response = httpx.get(endpoint, params={"query": "SELECT ?s WHERE { ?s ?p }"})
    assert response.status_code == 400
    assert "malformed SPARQL query" in response.text and "1:" in response.text
    form = httpx.post(endpoint, data={"query": "SELEKT * WHERE {}"})
    assert form.status_code == 400 and "error at 1:1" in form.text


@pytest.mark.parametrize("call, status, words", [
    (lambda e: httpx.get(e, params={"update": "CLEAR ALL"}), 400, "POST"),
    (lambda e: httpx.post(e, data={"query": "ASK {}", "update": "CLEAR ALL"}), 400, "either"),
    (lambda e: httpx.post(e, data={"default-graph-uri": "https://example.org/g"}), 400, "query"),
    (lambda e: httpx.post(e, content=b"ASK {}", headers={"Content-Type": "text/plain"}), 415, "sparql-query"),
    (lambda e: httpx.post(e, content=b"\xff\xfe", headers={"Content-Type": "application/sparql-query"}), 400, "UTF-8"),
    (lambda e: httpx.get(e, params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}),
     400, "SERVICE"),
])
def test_protocol_errors(endpoint, call, status, words):
    response = call(endpoint)
    assert response.status_code == status
    assert words in response.text


def test_bodies_over_the_upload_limit_get_413(endpoint):
    padding = "#" + "x" * UPLOAD_LIMIT + "\n"
    for headers, body in (({"Content-Type": "application/sparql-query"}, padding + "ASK {}"),
                          ({"Content-Type": "application/x-www-form-urlencoded"}, "query=" + padding + "ASK+{}")):
        response = httpx.post(endpoint, content=body.encode(), headers=headers)
        assert response.status_code == 413 and str(UPLOAD_LIMIT) in response.text


@pytest.fixture(scope="module")
def hungry_server():
    """The small memory cap with a time limit long enough for the cap to be met first on a busy
    machine (at the default 5 s a loaded machine stops the query by time, not memory)."""
    live = LiveServer({"CAREGRAPH_WORKER_MEMORY": str(WORKER_MEMORY), "CAREGRAPH_QUERY_TIMEOUT": "120"})
    yield live
    live.stop()


def test_a_query_that_needs_too_much_memory_fails_alone(hungry_server):
    # Concatenating the cross product of the graph with itself outgrows the worker's memory cap
    # before the time limit: the worker dies, the client is told, a new worker takes over.
    endpoint = hungry_server.url + "/sparql"
    hungry = "SELECT (GROUP_CONCAT(CONCAT(STR(?a), STR(?o))) AS ?x) WHERE { ?a ?b ?c . ?d ?e ?o }"
    response = httpx.get(endpoint, params={"query": hungry}, timeout=150)
    assert response.status_code == 500 and "out of memory" in response.text
    assert httpx.get(endpoint, params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    assert httpx.get(hungry_server.url + "/health").json()["sparql_workers"] == 2


def test_service_in_a_string_is_not_a_keyword(endpoint):
    response = httpx.get(endpoint, params={"query": 'SELECT ?x WHERE { BIND("SERVICE" AS ?x) }'})
    assert response.status_code == 200


# -- limits -------------------------------------------------------------------------------
def test_a_runaway_query_is_stopped_and_others_are_answered_meanwhile(endpoint):
    outcome: dict = {}

    def runaway() -> None:
        started = time.monotonic()
        response = httpx.get(endpoint, params={"query": RUNAWAY}, timeout=30)
        outcome["status"], outcome["text"], outcome["took"] = response.status_code, response.text, \
            time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.3)  # the runaway holds a worker now
    started = time.monotonic()
    quick = httpx.get(endpoint, params={"query": f"ASK {{ <{CQC}> ?p ?o }}"}, timeout=30)
    answer = httpx.get(endpoint.replace("/sparql", "/responsible"), params={"q": "care home unsafe"}, timeout=30)
    quick_took = time.monotonic() - started
    thread.join(30)
    assert quick.status_code == 200 and answer.status_code == 200
    assert "took" in outcome, "the runaway request never returned"
    assert quick_took < outcome["took"]  # answered while the runaway was still running
    assert outcome["status"] == 503 and "time limit" in outcome["text"]
    assert TIME_LIMIT <= outcome["took"] < TIME_LIMIT + 5
    health = httpx.get(endpoint.replace("/sparql", "/health")).json()
    assert health["sparql_workers"] == 2 and health["queries_stopped"] >= 1
    assert httpx.get(endpoint, params={"query": "ASK { ?s ?p ?o }"}).status_code == 200


def test_several_runaways_never_block_the_server_beyond_the_limit(endpoint):
    threads = [threading.Thread(target=httpx.get, args=(endpoint,), kwargs={"params": {"query": RUNAWAY},
                                                                            "timeout": 30}) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    response = httpx.get(endpoint, params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    waited = time.monotonic() - started
    for thread in threads:
        thread.join(30)
    assert response.status_code in (200, 503)
    assert waited < 2 * TIME_LIMIT + 3


def test_a_result_still_streaming_at_the_time_limit_is_cut_with_a_marker(endpoint):
    # Rows trickle out of a filtered cross product: the result is closed properly at the limit.
    trickle = "SELECT ?a ?d WHERE { ?a ?b ?c . ?d ?e ?f . FILTER(STRLEN(STR(?c)) + STRLEN(STR(?f)) = 301) }"
    started = time.monotonic()
    response = httpx.get(endpoint, params={"query": trickle}, timeout=30)
    took = time.monotonic() - started
    assert response.status_code == 200
    document = json.loads(response.content)
    assert "time limit" in document["truncated"] and document["results"]["bindings"]
    assert took < TIME_LIMIT + 2


def test_a_result_over_the_size_limit_is_cut_with_a_marker(endpoint):
    everything = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    as_json = httpx.get(endpoint, params={"query": everything}, headers={"Accept": "application/sparql-results+json"})
    assert as_json.headers["caregraph-result-limit"] == str(RESULT_LIMIT)
    document = json.loads(as_json.content)
    assert "bytes" in document["truncated"] and document["results"]["bindings"]
    assert RESULT_LIMIT <= len(as_json.content) < RESULT_LIMIT + 100_000
    as_xml = httpx.get(endpoint, params={"query": everything}, headers={"Accept": "application/sparql-results+xml"})
    assert b"<!-- truncated:" in as_xml.content and len(list(ox.parse_query_results(as_xml.content,
                                                                                   ox.QueryResultsFormat.XML)))
    as_csv = httpx.get(endpoint, params={"query": everything}, headers={"Accept": "text/csv"})
    assert as_csv.text.rstrip().splitlines()[-1].startswith("# truncated:")
    construct = "CONSTRUCT WHERE { ?s ?p ?o }"
    as_nt = httpx.get(endpoint, params={"query": construct}, headers={"Accept": "application/n-triples"})
    assert as_nt.text.rstrip().splitlines()[-1].startswith("# truncated:")
    assert len(rdflib.Graph().parse(data=as_nt.content, format="nt")) > 100
    as_jsonld = httpx.get(endpoint, params={"query": construct}, headers={"Accept": "application/ld+json"})
    nodes = json.loads(as_jsonld.content)
    assert "truncated" in nodes[-1]
    assert len(rdflib.Graph().parse(data=as_jsonld.content, format="json-ld")) > 100
    as_rdfxml = httpx.get(endpoint, params={"query": construct}, headers={"Accept": "application/rdf+xml"})
    assert b"<!-- truncated:" in as_rdfxml.content
    assert len(rdflib.Graph().parse(data=as_rdfxml.content, format="xml")) > 100


def test_large_results_stream(plain):
    with httpx.stream("GET", plain, params={"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1500"}) as response:
        assert response.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in response.headers
        body = b"".join(response.iter_bytes())
    assert len(json.loads(body)["results"]["bindings"]) == 1500


# -- the result cache ---------------------------------------------------------------------
def _cache_hits(endpoint: str) -> int:
    return httpx.get(endpoint.replace("/sparql", "/health")).json()["sparql_cache_hits"]


def test_a_repeated_query_is_answered_from_the_result_cache(endpoint):
    query = DUTIES + " LIMIT 7"
    first = httpx.get(endpoint, params={"query": query}, headers={"Accept": "text/csv"})
    hits = _cache_hits(endpoint)
    again = httpx.get(endpoint, params={"query": query}, headers={"Accept": "text/csv"})
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert _cache_hits(endpoint) == hits + 1
    other_format = httpx.get(endpoint, params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert other_format.headers["content-type"].startswith("application/sparql-results+json")
    assert _cache_hits(endpoint) == hits + 1


def test_queries_with_volatile_functions_are_run_every_time(endpoint):
    query = 'SELECT (STRUUID() AS ?id) WHERE {}'
    ids = {parse_results(httpx.get(endpoint, params={"query": query}), ox.QueryResultsFormat.JSON)[0][0]
           for _ in range(3)}
    assert len(ids) == 3


def test_the_result_cache_keeps_to_its_byte_budget():
    cache = ResultCache(1600)
    for n in range(20):
        cache.put(n, "text/csv", bytes(100))
    assert len(cache) == 16 and cache.get(0) is None and cache.get(19) == ("text/csv", bytes(100))
    cache.put("large", "text/csv", bytes(101))  # over a sixteenth of the budget: not kept
    assert cache.get("large") is None and len(cache) == 16


# -- updates ------------------------------------------------------------------------------
def _marker_present(endpoint: str) -> bool:
    response = httpx.get(endpoint, params={"query": f"ASK {{ <{MARKER}> ?p ?o }}"})
    return bool(ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON))


def _count(endpoint: str) -> int:
    response = httpx.get(endpoint, params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"})
    return int(parse_results(response, ox.QueryResultsFormat.JSON)[0][0])


def test_updates_without_the_token_never_change_the_store(endpoint):
    insert = f'INSERT DATA {{ GRAPH <{MARKER}> {{ <{MARKER}> <{MARKER}> "x" }} }}'
    before = _count(endpoint)
    attempts = [
        httpx.post(endpoint, data={"update": insert}),
        httpx.post(endpoint, content=insert.encode(), headers={"Content-Type": "application/sparql-update"}),
        httpx.post(endpoint, data={"update": insert}, headers={"Authorization": "Bearer wrong-token"}),
        httpx.post(endpoint, data={"update": insert}, headers={"Authorization": f"Basic {TOKEN}"}),
        httpx.post(endpoint, data={"update": "CLEAR ALL"}),
    ]
    assert all(a.status_code == 403 for a in attempts)
    assert "Bearer" in attempts[0].text
    assert not _marker_present(endpoint) and _count(endpoint) == before


def test_updates_with_the_token_change_the_store(endpoint):
    insert = f'INSERT DATA {{ GRAPH <{MARKER}> {{ <{MARKER}> <{MARKER}> "x" }} }}'
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = _count(endpoint)
    assert httpx.post(endpoint, data={"update": insert}, headers=auth).status_code == 204
    assert _marker_present(endpoint) and _count(endpoint) == before + 1
    bad = httpx.post(endpoint, content=b"INSERT DATA {", headers={**auth, "Content-Type": "application/sparql-update"})
    assert bad.status_code == 400 and "invalid SPARQL update" in bad.text
    assert _count(endpoint) == before + 1
    drop = httpx.post(endpoint, content=f"DROP GRAPH <{MARKER}>".encode(),
                      headers={**auth, "Content-Type": "application/sparql-update"})
    assert drop.status_code == 204
    assert not _marker_present(endpoint) and _count(endpoint) == before


def test_an_updates_where_reads_the_stores_default_graph_unless_told_which_graphs(endpoint):
    """The documented choice: queries read the union of the graphs, an update's WHERE the store's
    default graph (SPARQL Update's own), or the graphs named by using-graph-uri."""
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"}
    source, target = MARKER + "-source", MARKER + "-target"
    assert httpx.post(endpoint, headers=auth, content=(
        f'INSERT DATA {{ GRAPH <{source}> {{ <{MARKER}> <{MARKER}> "in a named graph" }} }}').encode()).status_code == 204
    pattern = f'<{MARKER}> <{MARKER}> "in a named graph"'
    assert b"true" in httpx.get(endpoint, params={"query": f"ASK {{ {pattern} }}"}).content
    copy = f'INSERT {{ GRAPH <{target}> {{ <{MARKER}> <{MARKER}> "copied" }} }} WHERE {{ {pattern} }}'
    assert httpx.post(endpoint, headers=auth, content=copy.encode()).status_code == 204
    ask_copied = {"query": f'ASK {{ GRAPH <{target}> {{ <{MARKER}> <{MARKER}> "copied" }} }}'}
    assert b"false" in httpx.get(endpoint, params=ask_copied).content
    chosen = httpx.post(endpoint, headers=auth, content=copy.encode(), params={"using-graph-uri": source})
    assert chosen.status_code == 204
    assert b"true" in httpx.get(endpoint, params=ask_copied).content
    drop = f"DROP GRAPH <{source}> ; DROP GRAPH <{target}>"
    assert httpx.post(endpoint, headers=auth, content=drop.encode()).status_code == 204


def test_a_read_only_server_refuses_updates_even_with_a_bearer(plain):
    response = httpx.post(plain, data={"update": "CLEAR ALL"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 403 and "read-only" in response.text
    assert _count(plain) > 10000
    description = rdflib.Graph().parse(data=httpx.get(plain).content, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, sd.supportedLanguage, sd.SPARQL11Update) not in description


# -- real clients, unchanged --------------------------------------------------------------
def test_sparqlwrapper(plain, store):
    client = SPARQLWrapper(plain)
    client.setQuery(DUTIES)
    client.setReturnFormat(JSON)
    bindings = client.query().convert()["results"]["bindings"]
    assert [(b["duty"]["value"], b["label"]["value"]) for b in bindings] == rows(store, DUTIES)
    client.setReturnFormat(XML)
    document = client.query().convert()
    assert len(document.getElementsByTagName("result")) == len(bindings)
    client.setReturnFormat(CSV)
    assert client.query().convert().decode().splitlines()[0] == "duty,label"
    client.setQuery(f"ASK {{ <{CQC}> ?p ?o }}")
    client.setReturnFormat(JSON)
    assert client.query().convert()["boolean"] is True
    client.setQuery(f"CONSTRUCT {{ <{CQC}> ?p ?o }} WHERE {{ <{CQC}> ?p ?o }}")
    client.setReturnFormat(XML)
    graph = client.query().convert()
    assert len(graph) == len(list(store.query(f"CONSTRUCT {{ <{CQC}> ?p ?o }} WHERE {{ <{CQC}> ?p ?o }}")))
    client.setReturnFormat(TURTLE)
    assert len(rdflib.Graph().parse(data=client.query().convert(), format="turtle")) == len(graph)
    client.setMethod("POST")
    client.setQuery(DUTIES)
    client.setReturnFormat(JSON)
    assert len(client.query().convert()["results"]["bindings"]) == len(bindings)


def test_sparqlwrapper_reports_a_malformed_query(plain):
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    client = SPARQLWrapper(plain)
    client.setQuery("SELECT ?s WHERE { ?s ?p }")
    with pytest.raises(QueryBadFormed, match="malformed SPARQL query"):
        client.query()


def test_rdflib_sparqlstore(plain, store):
    graph = rdflib.Graph(store=SPARQLStore(query_endpoint=plain))
    result = graph.query(DUTIES)
    assert [(str(r.duty), str(r.label)) for r in result] == rows(store, DUTIES)
    cqc = rdflib.URIRef(CQC)
    label = rdflib.Literal("Care Quality Commission", lang="en")
    assert (cqc, rdflib.RDFS.label, label) in graph
    assert graph.value(cqc, rdflib.RDFS.label) == label
    assert bool(graph.query(f"ASK {{ <{CQC}> ?p ?o }}").askAnswer)
    built = graph.query(f"CONSTRUCT {{ <{CQC}> ?p ?o }} WHERE {{ <{CQC}> ?p ?o }}").graph
    assert len(built) == len(list(store.query(f"CONSTRUCT {{ <{CQC}> ?p ?o }} WHERE {{ <{CQC}> ?p ?o }}")))


# -- caregraph's own remote backend -------------------------------------------------------
@pytest.mark.parametrize("question, day", [("my mum's care home is unsafe, who do I tell?", "2024-06-01"),
                                           ("the council refuses to assess my dad", "2024-06-01"),
                                           ("who registers social workers", "2015-01-01"),
                                           ("who registers social workers", "2021-01-01")])
def test_sparql_endpoint_store_answers_like_the_embedded_store(plain, store, question, day):
    remote = SparqlEndpointStore(plain)
    on = dt.date.fromisoformat(day)
    assert responsibility.ask(remote, question, on).as_json() == responsibility.ask(store, question, on).as_json()


def test_sparql_endpoint_store_backend_operations(plain, store):
    remote = SparqlEndpointStore(plain)
    assert remote.graphs() == store.graphs()
    assert len(remote) == len(store)
    sectors = GRAPH + "vocabularies/sectors"
    assert set(remote.triples(sectors)) == set(store.triples(sectors))
    # Validation copies chosen graphs (one dated import at a time) from either backend alike.
    chosen = [sectors, GRAPH + "vocabularies/raci"]
    assert set(subset(remote, chosen).raw) == set(subset(store, chosen).raw) != set()
    assert set(linked_data.describe(remote, CQC)) == set(linked_data.describe(store, CQC))
    with pytest.raises(StoreError, match="400"):
        remote.query("SELECT ?s WHERE { ?s ?p }")
    with pytest.raises(StoreError, match="read-only"):
        remote.update("CLEAR ALL")
    refused = SparqlEndpointStore(plain, plain)
    with pytest.raises(StoreError, match="403"):
        refused.update("CLEAR ALL")
