"""caregraph.validation as the API uses it: data added to the built graph without touching it,
focus nodes, the typed report and its JSON-LD and Turtle forms, the choice of engine, and
the regressions found while building it."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from caregraph.namespaces import ACTOR, CG, DUTY, ID
from caregraph.resources import shapes_dir
from caregraph.store import OxigraphStore
from caregraph.validation import (UnreadableInput, Unsupported, parse_rdf, read_rdf, validate)
from caregraph.validation.rdf_input import to_rdflib
from caregraph.validation.report import SH
from caregraph.validation.scratch import copy_of

CLI_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shapes" / "cli"
BAD_DUTY = DUTY + "test-carers-breaks"
S42 = "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"


def test_data_is_added_to_a_copy_of_the_built_graph_never_to_the_store(store):
    before = len(store)
    graph = rdflib.Graph().parse(CLI_FIXTURES / "bad-duty.ttl")
    report = validate(graph, base=store)
    assert not report.conforms and len(report.results) == 4
    assert report.triples > before
    assert len(store) == before
    assert not store.query(f"ASK {{ <{BAD_DUTY}> ?p ?o }}")


def test_files_can_be_given_as_paths(store):
    report = validate([CLI_FIXTURES / "good-location.ttl", CLI_FIXTURES / "bad-duty.ttl"], base=store)
    assert {r.focus_node for r in report.results} == {BAD_DUTY}


def test_results_carry_the_duty_legal_basis_also_for_its_assignments(store):
    changed = copy_of(store)
    duty = DUTY + "ca-s42-enquiry"
    changed.update(f"""PREFIX cg: <{CG}>
        DELETE {{ GRAPH ?g {{ ?a cg:raciRole ?role }} }}
        WHERE {{ GRAPH ?g {{ <{duty}> cg:assignment ?a . ?a cg:raciRole ?role }} }}""")
    report = validate(changed, focus=[duty, f"{duty}/assignment/1"])
    by_focus = {r.focus_node: r for r in report.results}
    assignment = by_focus[f"{duty}/assignment/1"]
    assert assignment.source_shape.endswith("AssignmentRole")
    assert (S42, "Care Act 2014 s.42") in {(b.uri, b.label) for b in assignment.legal_basis}
    assert by_focus[duty].focus_label.startswith("Make or arrange safeguarding enquiries")
    assert by_focus[duty].legal_basis == assignment.legal_basis


def test_focus_accepts_curies_and_names_nodes_not_in_the_graph(store):
    report = validate(store, focus=["actor:cqc", "duty:no-such-duty", "location:1-108565934", "council:E06000058"])
    assert report.conforms
    assert report.focus == [ACTOR + "cqc", DUTY + "no-such-duty", ID + "location/1-108565934",
                            ID + "council/E06000058"]
    assert report.focus_not_found == [DUTY + "no-such-duty", ID + "location/1-108565934"]
    with pytest.raises(ValueError, match="not an IRI"):
        validate(store, focus=["not an iri"])
    with pytest.raises(ValueError, match="unknown engine"):
        validate(store, engine="turbo")


def _results(graph: ox.Store) -> set[tuple]:
    rows = graph.query(f"""PREFIX sh: <{SH}>
        SELECT ?focus ?shape ?message ?path ?value ?basis WHERE {{
          ?report a sh:ValidationReport ; sh:conforms false ; sh:result ?r .
          ?r a sh:ValidationResult ; sh:focusNode ?focus ; sh:sourceShape ?shape ; sh:resultMessage ?message ;
             sh:resultSeverity sh:Violation ; sh:sourceConstraintComponent ?component .
          OPTIONAL {{ ?r sh:resultPath ?path }} OPTIONAL {{ ?r sh:value ?value }}
          OPTIONAL {{ ?r <{CG}legalBasis> ?basis }} }}""")
    return {tuple(str(row[i]) for i in range(6)) for row in rows}


def test_turtle_and_json_are_the_same_sh_validation_report(store):
    report = validate([CLI_FIXTURES / "bad-duty.ttl"], base=store)
    from_turtle, from_json = ox.Store(), ox.Store()
    from_turtle.load(report.to_turtle().encode(), ox.RdfFormat.TURTLE)
    from_json.load(report.to_json().encode(), ox.RdfFormat.JSON_LD)
    expected = {(f"<{r.focus_node}>", f"<{r.source_shape}>", str(r.message_literals[0]),
                 f"<{r.result_path}>" if r.result_path else "None", str(r.value) if r.value is not None else "None",
                 f"<{b.uri}>") for r in report.results for b in r.legal_basis}
    assert _results(from_turtle) == _results(from_json) == expected
    assert json.loads(report.to_json())["result"][0]["legalBasis"][0]["label"] == "Care Act 2014 s.20"


def test_auto_uses_the_reference_engine_for_shapes_the_fast_engine_does_not_compile(store, tmp_path):
    shapes = tmp_path / "or.ttl"
    shapes.write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix cg: <https://w3id.org/caregraph/def#> .
        @prefix ex: <http://example.org/> .
        ex:BasisOrCaveat a sh:NodeShape ; sh:targetClass cg:SuccessionEvent ;
            sh:or ( [ sh:path cg:legalBasis ; sh:minCount 1 ] [ sh:path cg:caveat ; sh:minCount 1 ] ) .""")
    report = validate(store, shapes=shapes)
    assert report.engine == "pyshacl" and report.conforms
    with pytest.raises(Unsupported, match="shacl#or"):
        validate(store, shapes=shapes, engine="fast")


def test_plain_literals_parsed_by_the_store_match_sh_in_for_pyshacl(tmp_path):
    """ENGINES.md pitfall: oxigraph types plain literals as xsd:string, which pySHACL's sh:in
    would not match against the shapes' plain literals (1,640 false results at small scale)."""
    rating = next(iter(ox.parse(b'<http://e/l> <http://e/r> "Good" .', ox.RdfFormat.N_TRIPLES))).object
    assert rating.datatype.value.endswith("#string")
    assert to_rdflib(rating) == rdflib.Literal("Good")
    data = read_rdf(CLI_FIXTURES / "good-location.ttl")
    report = validate(data, base=OxigraphStore(), shapes=shapes_dir() / "linked-records.ttl", engine="pyshacl")
    assert not [r for r in report.results if r.source_shape.endswith("LocationRating")]


def test_both_engines_agree_on_a_broken_copy_of_the_curated_graph(store):
    changed = copy_of(store)
    duty, actor = DUTY + "ca-s42-enquiry", ACTOR + "registered-manager"
    changed.update(f"""PREFIX cg: <{CG}>
        DELETE WHERE {{ GRAPH ?g {{ <{duty}> cg:legalBasis ?b }} }} ;
        DELETE WHERE {{ GRAPH ?g {{ <{actor}> cg:validFrom ?f }} }} ;
        INSERT DATA {{ GRAPH <urn:test> {{ <{actor}> cg:validFrom "2030-01-01"^^<http://www.w3.org/2001/XMLSchema#date> }} }}""")
    held = [r["d"].value for r in changed.query(
        f"SELECT DISTINCT ?d WHERE {{ ?d <{CG}assignment>/<{CG}holder> <{actor}> }} ORDER BY ?d LIMIT 3")]
    focus = [duty, actor, *held]
    fast = validate(changed, focus=focus, engine="fast")
    reference = validate(changed, focus=focus, engine="pyshacl")
    assert {r.key() for r in fast.results} == {r.key() for r in reference.results}
    assert {r.source_shape.rsplit("#", 1)[1] for r in fast.results} >= {"DutyBasis", "DutyHolderExists"}


def test_unreadable_documents_name_their_source_and_line():
    with pytest.raises(UnreadableInput) as err:
        parse_rdf(b"@prefix ex: <http://e/> .\nex:a ex:b .\n", ox.RdfFormat.TURTLE, "request body")
    assert err.value.source == "request body" and err.value.line == 2
    assert str(err.value).startswith("request body:2: ")
