"""The SHACL cases issue 13 found, one test each: implicit class targets, SHACL-SPARQL that
SHACL forbids or that joining would get wrong, custom components, SERVICE, literal focus
nodes, pySHACL failures, and data validated exactly as given."""

from __future__ import annotations

import io
import re
import socket
import threading
from pathlib import Path

import pytest
import rdflib

from caregraph.cli import main
from caregraph.store import OxigraphStore
from caregraph.validation import InvalidShapes, ShapeSet, Unsupported, validate

PREFIXES = """@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
ENGINES = ("auto", "fast", "pyshacl")


def graph(turtle: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=PREFIXES + turtle, format="turtle")


def check(data: str, shapes: str, engine: str):
    """Validate `data` alone against `shapes`."""
    shape_set = ShapeSet(Path("shapes.ttl"), (), graph(shapes), "shapes.ttl")
    return validate(graph(data), shapes=shape_set, engine=engine, base=OxigraphStore())


def verdicts(data: str, shapes: str) -> dict[str, object]:
    """Each engine's (conforms, number of results), or "refused" when fast declines."""
    out: dict[str, object] = {}
    for engine in ENGINES:
        try:
            report = check(data, shapes, engine)
        except Unsupported:
            out[engine] = "refused"
        else:
            out[engine] = (report.conforms, len(report.results))
    return out


def test_a_shape_that_is_a_class_targets_its_instances():
    shapes = """ex:Person a rdfs:Class, sh:NodeShape ;
        sh:property [ sh:path ex:age ; sh:datatype xsd:integer ] ."""
    data = 'ex:Student rdfs:subClassOf ex:Person . ex:ann a ex:Student ; ex:age "old" .'
    assert verdicts(data, shapes) == {"auto": (False, 1), "fast": (False, 1), "pyshacl": (False, 1)}


def test_the_implicit_class_target_from_the_command_line(tmp_path):
    both = tmp_path / "people.ttl"
    both.write_text(PREFIXES + """ex:Person a rdfs:Class, sh:NodeShape ;
        sh:property [ sh:path ex:age ; sh:datatype xsd:integer ; sh:maxCount 1 ] .
    ex:ann a ex:Person ; ex:age "old" .""")
    for engine in ENGINES:
        out = io.StringIO()
        code = main(["validate", str(both), "--shapes", str(both), "--engine", engine, "--format", "json"], out=out)
        assert code == 1, (engine, out.getvalue())
        assert "http://example.org/ann" in out.getvalue()


@pytest.mark.parametrize("query, rule", [
    ("SELECT $this WHERE { $this ex:p ?o . MINUS { $this ex:q ?o } }", "MINUS"),
    ("SELECT $this WHERE { $this ex:p ?o . VALUES ?o { 1 } }", "VALUES"),
    ("SELECT $this WHERE { SERVICE <http://127.0.0.1:9/sparql> { $this ex:p ?o } }", "SERVICE"),
    ("SELECT $this FROM <http://127.0.0.1:9/g> WHERE { $this ex:p ?o }", "FROM"),
    ("SELECT $this WHERE { $this ex:p ?o . { SELECT ?o WHERE { $this ex:q ?o } } }", "sub-select"),
    ("SELECT $this WHERE { ?x ex:p ?o BIND (?x AS $this) }", "AS $this"),
])
def test_shacl_sparql_that_shacl_forbids_is_refused_by_every_engine(query, rule):
    shapes = f'ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:sparql [ sh:select """{query}""" ] .'
    for engine in ENGINES:
        with pytest.raises(InvalidShapes, match=re.escape(rule)):
            check("ex:a a ex:T ; ex:p 1 .", shapes, engine)


def test_a_service_clause_never_reaches_the_network(tmp_path):
    """A listener on loopback: the shape names it, and no engine connects to it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    connections: list[object] = []

    def accept() -> None:
        try:
            connections.append(listener.accept())
        except OSError:
            pass

    waiter = threading.Thread(target=accept)
    waiter.start()
    shapes = tmp_path / "service.ttl"
    shapes.write_text(PREFIXES + f"""ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:sparql [ sh:select
        "SELECT $this WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ $this ex:p ?o }} }}" ] .
        ex:a a ex:T .""")
    try:
        for engine in ENGINES:
            err = io.StringIO()
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr("sys.stderr", err)
                code = main(["validate", str(shapes), "--shapes", str(shapes), "--engine", engine], out=io.StringIO())
            assert code == 2
            assert "SERVICE" in err.getvalue() and "Traceback" not in err.getvalue()
    finally:
        waiter.join()
        listener.close()
    assert connections == []


def test_this_is_pre_bound_not_joined():
    """$this in a FILTER of an inner group: joining the focus nodes from outside leaves it
    unbound there; pre-binding (SHACL's meaning) does not. The fast engine leaves the shape
    to pySHACL, and auto agrees with pySHACL."""
    shapes = """ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:sparql [ sh:select \"\"\"
        SELECT $this WHERE { { ?x <http://example.org/knows> ?y FILTER (?y = $this) } }\"\"\" ] ."""
    data = "ex:a a ex:T . ex:b a ex:T . ex:z ex:knows ex:a ."
    assert verdicts(data, shapes) == {"auto": (False, 1), "fast": "refused", "pyshacl": (False, 1)}


def test_custom_constraint_components_honour_their_parameters():
    shapes = """ex:MaxLengthComponent a sh:ConstraintComponent ;
        sh:parameter [ sh:path ex:maxChars ] ;
        sh:propertyValidator [ a sh:SPARQLSelectValidator ; sh:select \"\"\"
            SELECT $this ?value WHERE { $this $PATH ?value FILTER (STRLEN(STR(?value)) > $maxChars) }\"\"\" ] .
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:name ; ex:maxChars 3 ] ."""
    data = 'ex:a a ex:T ; ex:name "Jo" . ex:b a ex:T ; ex:name "Joanna" .'
    assert verdicts(data, shapes) == {"auto": (False, 1), "fast": "refused", "pyshacl": (False, 1)}


def test_literal_focus_nodes_are_validated():
    shapes = """ex:S a sh:NodeShape ; sh:targetObjectsOf ex:code ; sh:targetNode "fixed" ;
        sh:property [ sh:path ex:never ; sh:maxCount 0 ] ;
        sh:datatype xsd:integer ."""
    data = 'ex:a ex:code "x", 7 .'
    out = verdicts(data, shapes)
    assert out["auto"] == out["pyshacl"] == (False, 2)
    report = check(data, shapes, "auto")
    assert {r.focus_node for r in report.results} == {"x", "fixed"}
    assert '"focusNode": {' in report.to_json() and "Does not conform" in report.to_text()


def test_a_literal_focus_from_the_command_line(tmp_path):
    both = tmp_path / "codes.ttl"
    both.write_text(PREFIXES + """ex:S a sh:NodeShape ; sh:targetObjectsOf ex:code ;
        sh:property [ sh:path ex:never ; sh:minCount 1 ] .
    ex:a ex:code "x" .""")
    for engine in ENGINES:
        out = io.StringIO()
        code = main(["validate", str(both), "--shapes", str(both), "--engine", engine], out=out)
        assert code == 1, (engine, out.getvalue())
        assert 'the value "x"' in out.getvalue()


def test_shapes_pyshacl_cannot_use_give_a_clear_error(tmp_path):
    shapes = tmp_path / "bad.ttl"
    shapes.write_text(PREFIXES + "ex:S a sh:NodeShape, sh:PropertyShape ; sh:targetClass ex:T ; sh:path ex:p .")
    for engine in ("auto", "pyshacl"):
        err = io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("sys.stderr", err)
            code = main(["validate", str(shapes), "--shapes", str(shapes), "--engine", engine], out=io.StringIO())
        assert code == 2
        message = err.getvalue()
        assert "shapes" in message and "NodeShape" in message
        assert "Traceback" not in message and "AttributeError" not in message and "site-packages" not in message


@pytest.mark.parametrize("data, shapes, expected", [
    # The store would hold "01"^^xsd:int as "1"^^xsd:integer.
    ('ex:a ex:n "01"^^xsd:int .', "sh:datatype xsd:int", (True, 0)),
    ('ex:a ex:n "5"^^xsd:int .', "sh:datatype xsd:integer", (False, 1)),
    ('ex:a ex:n "7"^^xsd:byte .', "sh:datatype xsd:byte", (True, 0)),
])
def test_literals_are_validated_as_written(data, shapes, expected):
    shape = f"ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:n ; sh:property [ sh:path ex:n ; {shapes} ] ."
    out = verdicts(data, shape)
    assert out["auto"] == out["pyshacl"] == expected
    assert out["fast"] in ("refused", expected)


def test_lexical_forms_are_kept_from_a_file(tmp_path):
    both = tmp_path / "numbers.ttl"
    both.write_text(PREFIXES + """ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:n ;
        sh:property [ sh:path ex:n ; sh:pattern "^0" ] .
    ex:a ex:n "01"^^xsd:int .""")
    for engine in ENGINES:
        err = io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("sys.stderr", err)
            code = main(["validate", str(both), "--shapes", str(both), "--engine", engine], out=io.StringIO())
        if engine == "fast":  # the store would rewrite the literal: the fast engine declines
            assert code == 2 and "rewrite" in err.getvalue()
        else:
            assert code == 0, (engine, err.getvalue())


def test_blank_nodes_are_not_skolemised_and_types_not_closed(tmp_path):
    both = tmp_path / "kinds.ttl"
    both.write_text(PREFIXES + """ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:part ;
        sh:property [ sh:path ex:part ; sh:nodeKind sh:BlankNode ] ;
        sh:property [ sh:path rdf:type ; sh:maxCount 1 ] .
    ex:Sub rdfs:subClassOf ex:Super .
    ex:a a ex:Sub ; ex:part [ ex:name "wheel" ] .""")
    for engine in ENGINES:
        out = io.StringIO()
        code = main(["validate", str(both), "--shapes", str(both), "--engine", engine], out=out)
        assert code == 0, (engine, out.getvalue())


def test_a_validation_failure_from_pyshacl_is_a_clear_error_not_a_crash(monkeypatch):
    """pySHACL returns a ValidationFailure in place of a report when a shape's validator
    fails; caregraph reports it as shapes it cannot use (it used to raise AttributeError)."""
    import pyshacl
    from pyshacl.errors import ValidationFailure

    monkeypatch.setattr(pyshacl, "validate", lambda *a, **k: (False, ValidationFailure("the validator failed"), ""))
    shapes = "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:or ( [ sh:class ex:T ] [ sh:class ex:U ] ) ."
    with pytest.raises(InvalidShapes, match="the shapes cannot be used: the validator failed"):
        check("ex:a ex:p 1 .", shapes, "auto")
