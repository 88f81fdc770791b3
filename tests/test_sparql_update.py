"""SPARQL updates in the library of the endpoint (no server): the protocol's dataset applied as
USING clauses, checked by running the rewritten update in pyoxigraph; the rehearsal under a
time limit; and the outbound check read from the parsed form."""

from __future__ import annotations

import time

import pyoxigraph as ox
import pytest

from caregraph.api import sparql_guard
from caregraph.api.sparql_update import UpdateRefused, apply_dataset, reads_store, rehearse

G1, G2, G3 = "urn:g1", "urn:g2", "urn:g3"


def store() -> ox.Store:
    s = ox.Store()
    for g in (G1, G2, G3):
        s.add(ox.Quad(ox.NamedNode(f"urn:{g[-2:]}"), ox.NamedNode("urn:in"), ox.Literal(g), ox.NamedNode(g)))
    return s


def copied(s: ox.Store) -> set[str]:
    return {q.subject.value for q in s.quads_for_pattern(None, None, None, ox.NamedNode("urn:out"))}


@pytest.mark.parametrize("update, using, using_named, expected", [
    ("INSERT { GRAPH <urn:out> { ?s a <urn:C> } } WHERE { ?s <urn:in> ?o }", [G1], [], {"urn:g1"}),
    ("INSERT { GRAPH <urn:out> { ?s a <urn:C> } } WHERE { ?s <urn:in> ?o }", [G1, G2], [], {"urn:g1", "urn:g2"}),
    ("INSERT { GRAPH <urn:out> { ?s a <urn:C> } } WHERE { GRAPH ?g { ?s <urn:in> ?o } }", [], [G3], {"urn:g3"}),
    # a WHERE in a string, a comment and a sub-select is not the operation's WHERE
    ('INSERT { GRAPH <urn:out> { ?s <urn:note> "WHERE" } } # WHERE\n WHERE { { SELECT ?s WHERE { ?s <urn:in> ?o } } }',
     [G2], [], {"urn:g2"}),
    # every DELETE/INSERT operation gets the dataset, the others are left alone
    ("INSERT DATA { GRAPH <urn:x> { <urn:x> <urn:y> <urn:z> } } ; "
     "INSERT { GRAPH <urn:out> { ?s a <urn:C> } } WHERE { ?s <urn:in> ?o } ; "
     "INSERT { GRAPH <urn:out> { ?s a <urn:D> } } WHERE { ?s <urn:in> ?o }", [G3], [], {"urn:g3"}),
])
def test_using_parameters_choose_what_the_where_reads(update, using, using_named, expected):
    s = store()
    s.update(apply_dataset(update, using, using_named))
    assert copied(s) == expected


def test_delete_where_with_using_parameters_becomes_delete_using_where():
    s = store()
    s.add(ox.Quad(ox.NamedNode("urn:g1"), ox.NamedNode("urn:in"), ox.Literal(G1)))  # also in the default graph
    rewritten = apply_dataset("DELETE WHERE { ?s <urn:in> ?o }", [G1], [])
    assert "USING <urn:g1>" in rewritten
    s.update(rewritten)
    # The WHERE read g1; the template deletes from the graph it names (the default graph), as USING defines.
    assert not list(s.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    assert len(list(s.quads_for_pattern(None, None, None, ox.NamedNode(G1)))) == 1


@pytest.mark.parametrize("update", [
    "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "DELETE { ?s ?p ?o } USING <urn:g> WHERE { ?s ?p ?o }",
    "INSERT DATA { <urn:a> <urn:b> <urn:c> } ; INSERT { ?s ?p ?o } USING NAMED <urn:g> WHERE { ?s ?p ?o }",
])
def test_a_dataset_in_the_update_and_the_request_is_refused(update):
    with pytest.raises(UpdateRefused) as refused:
        apply_dataset(update, ["urn:x"], [])
    assert refused.value.status == 400 and "USING or WITH" in refused.value.message


def test_a_malformed_delete_where_is_left_for_the_engine_to_refuse():
    rewritten = apply_dataset("DELETE WHERE", [G1], [])
    with pytest.raises(SyntaxError):
        ox.Store().update(rewritten)


def test_an_update_naming_its_own_dataset_is_left_alone_without_parameters():
    update = "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert apply_dataset(update, [], []) == update


def test_only_updates_with_a_where_are_rehearsed():
    assert reads_store("DELETE WHERE { ?s ?p ?o }")
    assert reads_store("PREFIX x: <urn:x> INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert not reads_store('INSERT DATA { <urn:a> <urn:b> "WHERE { }" } ; CLEAR ALL ; DROP SILENT GRAPH <urn:g>')


def test_a_rehearsal_past_the_limit_is_refused_and_the_store_untouched():
    s = ox.Store()
    for i in range(400):
        s.add(ox.Quad(ox.NamedNode(f"urn:{i}"), ox.NamedNode("urn:p"), ox.Literal(i)))
    update = "INSERT { ?a <urn:q> ?d } WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with pytest.raises(UpdateRefused) as refused:
        rehearse(s, None, update, None, 0.5, federation=False)
    assert refused.value.status == 503
    assert len(s) == 400


def test_a_rehearsal_reports_the_engines_message():
    with pytest.raises(UpdateRefused) as refused:
        rehearse(ox.Store(), None, "INSERT { <s> <p> <o> } WHERE {}", None, 5, federation=False)
    assert refused.value.status == 400 and "invalid SPARQL update" in refused.value.message


def test_a_rehearsal_that_passes_changes_nothing_itself():
    s = store()
    rehearse(s, None, "INSERT { ?s <urn:seen> true } WHERE { GRAPH ?g { ?s ?p ?o } }", None, 5, federation=False)
    assert len(s) == 3


@pytest.mark.parametrize("query", [
    "SELECT ?service WHERE { ?service a <urn:Service> }",
    'SELECT * WHERE { BIND("SERVICE <http://x/>" AS ?s) }',
    "SELECT * WHERE { ?s <urn:service> ?o } # SERVICE <http://x/> { }",
])
def test_the_word_service_elsewhere_is_not_a_service(query):
    sparql_guard.check_query(query, frozenset())


def test_an_allowed_endpoint_passes_and_others_do_not():
    allowed = frozenset({"http://example.org/sparql"})
    sparql_guard.check_query("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", allowed)
    sparql_guard.check_query("PREFIX e: <http://example.org/> SELECT * { SERVICE SILENT e:sparql { ?s ?p ?o } }",
                             allowed)
    for query in ("SELECT * { SERVICE <http://example.org/other> { ?s ?p ?o } }",
                  "SELECT * { SERVICE ?e { ?s ?p ?o } }",
                  "BASE <http://example.org/> SELECT * { SERVICE <sparql> { ?s ?p ?o } }",
                  "SELECT * { SERVICE e:sparql { ?s ?p ?o } }",
                  "SELECT * { SERVICE <http://example.org/sparq\\u006C> { ?s ?p ?o } }"):
        with pytest.raises(sparql_guard.Refused):
            sparql_guard.check_query(query, allowed)
    sparql_guard.check_update("LOAD <http://example.org/sparql>", allowed)
    with pytest.raises(sparql_guard.Refused):
        sparql_guard.check_update("LOAD <http://example.org/data.ttl>", allowed)


def test_the_check_takes_linear_time_on_a_large_query():
    query = "SELECT * WHERE { " + " ".join(f'?service <urn:p{i}> "v{i}" .' for i in range(20000)) + " }"
    started = time.monotonic()
    sparql_guard.check_query(query, frozenset())
    assert time.monotonic() - started < 2
