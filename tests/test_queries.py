"""The named SPARQL queries: each parses and runs, takes parameters only through VALUES,
and the answer queries return what the library needs."""

from __future__ import annotations

import datetime as dt

import pyoxigraph as ox
import pytest

from conftest import fresh_curated
from caregraph import escalation, queries, responsibility
from caregraph.namespaces import ACTOR, DUTY, ROUTE

S42 = ox.NamedNode(DUTY + "ca-s42-enquiry")


@pytest.mark.parametrize("name", queries.names())
def test_every_named_query_parses_and_runs_unparameterised(store, name):
    result = store.query(queries.render(queries.text(name)))
    list(result) if not isinstance(result, ox.QueryBoolean) else bool(result)


def test_render_puts_a_values_block_where_the_marker_is():
    text = queries.render(queries.text("duty_summary"), [{"duty": S42}])
    assert f"VALUES (?duty) {{ (<{DUTY}ca-s42-enquiry>) }}" in text
    assert "# $values" not in text


def test_render_refuses_rows_for_a_query_without_parameters():
    with pytest.raises(ValueError):
        queries.render(queries.text("actors"), [{"x": S42}])


def test_raw_input_cannot_become_query_text():
    with pytest.raises(ValueError):
        ox.NamedNode("http://example.org/> } DROP ALL { <x")


def test_duty_summary_and_legal_basis(store):
    summary = store.select("duty_summary", [{"duty": S42}])[0]
    assert summary["label"].value.startswith("Make or arrange safeguarding enquiries")
    assert summary["modality"].value == "must"
    bases = {r["basis"].value for r in store.select("duty_legal_basis", [{"duty": S42}])}
    assert "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42" in bases


def test_duty_assignments_have_roles_and_holders(store):
    rows = store.select("duty_assignments", [{"duty": S42}])
    roles = {(r["holder"].value, r["role"].value) for r in rows}
    assert (ACTOR + "council-social-services", "accountable") in roles
    assert all(r["holderLabel"] is not None for r in rows)


def test_duty_oversight(store):
    overseers = {r["actor"].value for r in store.select("duty_oversight", [{"duty": S42}])}
    assert ACTOR + "cqc" in overseers


def test_documents_cover_every_duty_and_route(store):
    duties = {r["duty"].value for r in store.select("duty_documents")}
    assert len(duties) == len(store.select("duty_validity"))
    routes = {r["route"].value for r in store.select("route_documents")}
    assert len(routes) == 11


def test_route_steps_come_in_order(store):
    rows = store.select("route_steps", [{"route": ox.NamedNode(ROUTE + "unsafe-care-home")}])
    orders = [int(r["order"].value) for r in rows]
    assert orders == sorted(orders) and orders[0] == 0


def test_accountability_links_and_actors(store):
    links = store.select("accountability_links")
    assert any(r["actor"].value == ACTOR + "cqc" for r in links)
    actors = {r["actor"].value for r in store.select("actors")}
    assert ACTOR + "parliament" in actors



def test_answers_and_routes_follow_a_write_to_the_store():
    """Answers read per-duty rows and route steps once per version of the graph; a write
    (here a SPARQL update) must be seen by the next answer."""
    store = fresh_curated()
    duty, route, day = DUTY + "ca-s42-enquiry", ROUTE + "abuse-neglect-adult", dt.date(2025, 1, 1)
    assert responsibility.describe(store, [duty], day)[0].duty["label"].startswith("Make or arrange safeguarding")
    assert escalation.load_route(store, route, day).steps
    store.update(f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        DELETE {{ GRAPH ?g {{ <{duty}> rdfs:label ?l }} }} INSERT {{ GRAPH ?g {{ <{duty}> rdfs:label "Renamed" }} }}
        WHERE {{ GRAPH ?g {{ <{duty}> rdfs:label ?l }} }} ;
        DELETE WHERE {{ GRAPH ?g {{ <{route}> <https://w3id.org/caregraph/def#step> ?s }} }}""")
    assert responsibility.describe(store, [duty], day)[0].duty["label"] == "Renamed"
    with pytest.raises(KeyError, match="no escalation route"):
        escalation.load_route(store, route, day)
