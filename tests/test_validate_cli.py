"""`caregraph validate` on good data, bad data and unreadable files, in every output format."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import rdflib

from caregraph.cli import main
from caregraph.store import OxigraphStore

CLI_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shapes" / "cli"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
DUTY = "https://w3id.org/caregraph/id/duty/test-carers-breaks"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory) -> Path:
    """An on-disk store built once and reused by every run (validate never writes to it)."""
    return tmp_path_factory.mktemp("store") / "store"


def run(store_dir: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--store", str(store_dir), "validate", *args], out=out)
    return code, out.getvalue()


def test_good_data_in_every_format_conforms(store_dir):
    names = ["good-location.ttl", "good-location.nt", "good-location.jsonld", "good-location.trig"]
    code, text = run(store_dir, *(str(CLI_FIXTURES / name) for name in names))
    assert code == 0, text
    assert text.startswith("Conforms: the whole graph checked")


def test_the_built_graph_alone_conforms(store_dir):
    code, text = run(store_dir)
    assert code == 0, text


def test_bad_data_gives_violations_grouped_by_focus_node_with_the_law(store_dir):
    code, text = run(store_dir, str(CLI_FIXTURES / "bad-duty.ttl"))
    assert code == 1
    assert text.startswith("Does not conform: 4 violations on 1 node(s)")
    assert f"Arrange breaks for carers <{DUTY}>" in text
    assert "  law: Care Act 2014 s.20 <http://www.legislation.gov.uk/id/ukpga/2014/23/section/20>" in text
    for shape in ("DutyDescription", "DutyModality", "LegalBasisLabelled", "DutyOneAccountableHolder"):
        assert f"  Violation: cgsh:{shape}" in text
    assert "    path: cg:assignment\n    value: 2020-04-01" in text
    assert "    value: <http://www.legislation.gov.uk/id/ukpga/2014/23/section/999>" in text
    assert 'On 2020-04-01 the duty "Arrange breaks for carers" has no accountable holder' in text


def test_json_gives_the_full_report(store_dir):
    code, text = run(store_dir, str(CLI_FIXTURES / "bad-duty.ttl"), "--format", "json")
    assert code == 1
    report = json.loads(text)
    assert report["conforms"] is False and report["@type"] == "ValidationReport"
    assert len(report["result"]) == 4
    gap = next(r for r in report["result"] if r["sourceShape"].endswith("DutyOneAccountableHolder"))
    assert gap["focusNode"] == DUTY
    assert gap["value"] == {"@value": "2020-04-01", "@type": "http://www.w3.org/2001/XMLSchema#date"}
    assert gap["resultSeverity"] == str(SH.Violation)
    assert gap["sourceConstraintComponent"] == str(SH.SPARQLConstraintComponent)
    assert {"@id": "http://www.legislation.gov.uk/id/ukpga/2014/23/section/20", "label": "Care Act 2014 s.20"} in gap["legalBasis"]


def test_turtle_gives_an_sh_validation_report(store_dir):
    code, text = run(store_dir, str(CLI_FIXTURES / "bad-duty.ttl"), "--format", "turtle")
    assert code == 1
    graph = rdflib.Graph().parse(data=text, format="turtle")
    report = graph.value(predicate=rdflib.RDF.type, object=SH.ValidationReport)
    assert graph.value(report, SH.conforms).toPython() is False
    assert len(list(graph.objects(report, SH.result))) == 4
    assert len(list(graph.subjects(SH.focusNode, rdflib.URIRef(DUTY)))) == 4


def test_focus_limits_the_report_to_those_nodes(store_dir):
    code, text = run(store_dir, str(CLI_FIXTURES / "bad-duty.ttl"), "--focus", "duty:ca-s42-enquiry")
    assert code == 0, text
    assert text.startswith("Conforms: 1 focus node(s) checked")
    code, text = run(store_dir, str(CLI_FIXTURES / "bad-duty.ttl"), "--focus", DUTY)
    assert code == 1


def test_an_unknown_focus_node_is_pointed_out(store_dir):
    code, text = run(store_dir, "--focus", "duty:no-such-duty")
    assert code == 0
    assert "note: the focus node <https://w3id.org/caregraph/id/duty/no-such-duty> does not occur in the graph" in text


def test_the_reference_engine_gives_the_same_answer(store_dir, tmp_path):
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    (shapes / "duties.ttl").write_bytes((Path(__file__).resolve().parents[1] / "shapes" / "duties.ttl").read_bytes())
    fast = run(store_dir, str(CLI_FIXTURES / "bad-duty.ttl"), "--shapes", str(shapes), "--focus", DUTY, "--format", "json")
    reference = run(store_dir, str(CLI_FIXTURES / "bad-duty.ttl"), "--shapes", str(shapes), "--focus", DUTY,
                    "--format", "json", "--engine", "pyshacl")
    assert fast[0] == reference[0] == 1
    key = lambda r: (r["sourceShape"], r["resultMessage"], json.dumps(r.get("value")))  # noqa: E731
    assert sorted(map(key, json.loads(fast[1])["result"])) == sorted(map(key, json.loads(reference[1])["result"]))
    assert json.loads(reference[1])["engine"] == "pyshacl"


@pytest.mark.parametrize("name, line", [("broken.ttl", 3), ("broken.jsonld", 3)])
def test_unreadable_input_exits_2_naming_file_and_line(store_dir, capsys, name, line):
    path = CLI_FIXTURES / name
    code, text = run(store_dir, str(CLI_FIXTURES / "good-location.ttl"), str(path))
    assert code == 2 and text == ""
    assert f"cannot read {path}:{line}:" in capsys.readouterr().err


def test_missing_file_unknown_format_and_bad_focus_exit_2(store_dir, capsys, tmp_path):
    assert run(store_dir, str(tmp_path / "nowhere.ttl"))[0] == 2
    assert "nowhere.ttl: No such file or directory" in capsys.readouterr().err
    odd = tmp_path / "data.xlsx"
    odd.write_bytes(b"not rdf")
    assert run(store_dir, str(odd))[0] == 2
    assert "cannot tell the RDF format from the extension '.xlsx'" in capsys.readouterr().err
    assert run(store_dir, "--focus", "not an iri")[0] == 2
    assert "not an IRI: 'not an iri'" in capsys.readouterr().err
    assert run(store_dir, "--shapes", str(tmp_path / "no-shapes"))[0] == 2
    assert "no such shapes file or folder" in capsys.readouterr().err


def test_a_broken_shapes_file_exits_2_naming_it(store_dir, capsys, tmp_path):
    (tmp_path / "bad.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n\n<#s> a sh:NodeShape ;\n  sh:targetClass\n")
    assert run(store_dir, "--shapes", str(tmp_path))[0] == 2
    assert f"cannot read {tmp_path / 'bad.ttl'}:" in capsys.readouterr().err


def test_validated_files_are_never_written_into_the_store(store_dir):
    run(store_dir)
    before = len(OxigraphStore(store_dir))
    assert run(store_dir, str(CLI_FIXTURES / "bad-duty.ttl"))[0] == 1
    store = OxigraphStore(store_dir)
    assert len(store) == before
    assert not store.query(f"ASK {{ <{DUTY}> ?p ?o }}")
