"""Lookups answered in the serving process (api/sparql_lookup.py): which queries count as
one, that their answers are the store's own in every format, and that anything too long,
too slow, malformed or not acceptable is left to a query worker, which keeps the limits."""

from __future__ import annotations

import json

import httpx
import pyoxigraph as ox
import pytest

from caregraph.api import sparql_lookup
from caregraph.api.sparql_workers import dataset

CQC = "https://w3id.org/caregraph/id/actor/cqc"
UNION = dataset([], [])

LOOKUPS = [
    f"SELECT ?p ?o WHERE {{ <{CQC}> ?p ?o }} # request 1.2",
    "PREFIX cg: <https://w3id.org/caregraph/def#>\nSELECT * { ?s a cg:Duty } LIMIT 10",
    'select ?s where { ?s <http://www.w3.org/2000/01/rdf-schema#label> "Care Quality Commission"@en . }',
    "ASK { ?s ?p 12 }",
    "BASE <https://w3id.org/caregraph/id/actor/>\nSELECT ?o { <cqc> ?p ?o }",
    "SELECT * WHERE { ?s ?p ?o }",
]
NOT_LOOKUPS = [
    "SELECT ?p WHERE { ?x ?p ?x }",  # a repeated variable filters the scan
    "SELECT DISTINCT ?p { ?s ?p ?o }",
    "SELECT * { ?s ?p ?o } ORDER BY ?s",
    "SELECT * { ?s ?p ?o } OFFSET 10",
    "SELECT * { ?s ?p ?o } LIMIT 1 OFFSET 1",
    "SELECT * { ?s ?p ?o } GROUP BY ?s",
    "SELECT * { ?s ?p ?o FILTER(?o) }",
    "SELECT * { ?s <p>* ?o }",
    "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "SELECT * { ?s ?p ?o . ?o ?q ?r }",
    "SELECT * { ?s ?p ?o, ?q }",
    "SELECT * { ?s ?p ?o ; ?q ?r }",
    "SELECT * { <x#} ?p ?o }",
    "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
    "CONSTRUCT WHERE { ?s ?p ?o }",
    "SELECT * FROM <http://example.org/g> { ?s ?p ?o }",
    "SELECT * { GRAPH ?g { ?s ?p ?o } }",
    'SELECT * { ?s ?p "x" } # }\n ORDER BY ?s',
    "SELECT * { ?s ?p [] }",
    "SELECT ?s { ?s ?p ?o } VALUES ?s { <a> }",
    "SELECT * { ?s ?p ?o } # comment\nORDER BY ?o",
]


@pytest.mark.parametrize("query", LOOKUPS)
def test_single_pattern_lookups_are_recognised(query):
    assert sparql_lookup.is_lookup(query)


@pytest.mark.parametrize("query", NOT_LOOKUPS)
def test_anything_else_is_left_to_a_worker(query):
    assert not sparql_lookup.is_lookup(query)


def solutions(body: bytes, fmt: ox.QueryResultsFormat) -> list[tuple]:
    return sorted(tuple(None if t is None else str(t) for t in row) for row in ox.parse_query_results(body, fmt))


@pytest.mark.parametrize("accept, media, fmt", [
    ("application/sparql-results+json", "application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("application/sparql-results+xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ("text/tab-separated-values", "text/tab-separated-values; charset=utf-8", ox.QueryResultsFormat.TSV),
    (None, "application/sparql-results+json", ox.QueryResultsFormat.JSON),
])
def test_a_lookups_answer_is_the_stores_own(store, accept, media, fmt):
    query = f"SELECT ?p ?o WHERE {{ <{CQC}> ?p ?o }}"
    media_type, body = sparql_lookup.answer(store.raw, query, accept, UNION, None, 10**9)
    assert media_type == media
    expected = sorted(tuple(str(t) for t in row) for row in store.raw.query(query, use_default_graph_as_union=True))
    assert expected and solutions(body, fmt) == expected


def test_a_lookups_csv_and_ask_answers(store):
    media_type, body = sparql_lookup.answer(store.raw, f"SELECT ?o {{ <{CQC}> a ?o }}", "text/csv", UNION, None,
                                            10**9)
    assert media_type == "text/csv; charset=utf-8" and body.startswith(b"o\r\n") and b"#Organisation\r\n" in body
    media_type, body = sparql_lookup.answer(store.raw, f"ASK {{ <{CQC}> ?p ?o }}", None, UNION, None, 10**9)
    assert json.loads(body)["boolean"] is True


def test_what_a_lookup_cannot_finish_here_is_left_to_a_worker(store, monkeypatch):
    everything = "SELECT * WHERE { ?s ?p ?o }"
    assert sparql_lookup.answer(store.raw, everything, None, UNION, None, 10**9) is None  # over INLINE_BYTES
    small = f"SELECT * WHERE {{ <{CQC}> ?p ?o }}"
    assert sparql_lookup.answer(store.raw, small, None, UNION, None, 100) is None  # over the result limit
    assert sparql_lookup.answer(store.raw, small, "text/turtle", UNION, None, 10**9) is None  # the worker says 406
    assert sparql_lookup.answer(store.raw, "SELECT * { <a> ?p ?o", None, UNION, None, 10**9) is None  # and 400
    monkeypatch.setattr(sparql_lookup, "INLINE_SECONDS", -1.0)
    assert sparql_lookup.answer(store.raw, small, None, UNION, None, 10**9) is None  # past its time


def test_lookups_through_the_server_answer_as_workers_do(server):
    endpoint = server.url + "/sparql"
    lookup = f"SELECT ?p ?o WHERE {{ <{CQC}> ?p ?o }}"
    by_worker = f"SELECT ?p ?o WHERE {{ <{CQC}> ?p ?o FILTER(true) }}"  # not a lookup
    answers = [httpx.get(endpoint, params={"query": q}, headers={"Origin": "https://example.org"})
               for q in (lookup, by_worker)]
    for response in answers:
        assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"
        assert response.headers["caregraph-time-limit"] == "5"
    assert solutions(answers[0].content, ox.QueryResultsFormat.JSON) == \
        solutions(answers[1].content, ox.QueryResultsFormat.JSON)
    posted = httpx.post(endpoint, content=lookup, headers={"Content-Type": "application/sparql-query"})
    assert solutions(posted.content, ox.QueryResultsFormat.JSON) == solutions(answers[0].content,
                                                                              ox.QueryResultsFormat.JSON)
    assert httpx.get(endpoint, params={"query": lookup}, headers={"Accept": "text/turtle"}).status_code == 406
    dataset_query = httpx.get(endpoint, params={"query": lookup, "default-graph-uri": "http://example.org/none"})
    assert dataset_query.status_code == 200 and json.loads(dataset_query.content)["results"]["bindings"] == []
