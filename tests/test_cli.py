"""The caregraph command: ask, path, escalate, check, export and their errors."""

from __future__ import annotations

import io
import json
import shutil

import pytest
import rdflib

from caregraph.cli import main


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_ask_prints_readable_answers_with_law_holders_and_route():
    code, text = run("ask", "my mum's care home is unsafe, who do I tell?")
    assert code == 0
    assert "Regulated Activities Regulations 2014 reg 12" in text
    assert "accountable: Registered care provider" in text
    assert "Escalation route: Unsafe or poor care in a care home" in text


def test_ask_json_has_the_documented_shape():
    code, text = run("ask", "who investigates abuse of an adult?", "--json", "--limit", "2")
    assert code == 0
    data = json.loads(text)
    assert set(data) >= {"question", "as_of", "answers"}
    assert 1 <= len(data["answers"]) <= 2
    answer = data["answers"][0]
    assert set(answer) >= {"duty", "legal_basis", "holders", "oversight", "score"}
    assert set(answer["duty"]) >= {"id", "label", "description", "modality"}
    assert all(set(b) >= {"uri", "label"} for b in answer["legal_basis"])
    assert all(h["role"] in {"responsible", "accountable", "consulted", "informed"} for h in answer["holders"])
    assert all(set(o) >= {"id", "label"} for o in answer["oversight"])
    scores = [a["score"] for a in data["answers"]]
    assert scores == sorted(scores, reverse=True)


def test_ask_as_of_follows_the_law_of_the_day():
    _, then = run("ask", "who regulates social workers", "--as-of", "2015-06-01", "--json")
    _, now = run("ask", "who regulates social workers", "--json")
    holder = lambda text: [h["id"] for h in json.loads(text)["answers"][0]["holders"] if h["role"] == "accountable"]
    assert holder(then) == ["hcpc"]
    assert holder(now) == ["swe"]


def test_ask_says_plainly_when_nothing_is_relevant():
    code, text = run("ask", "what is the capital of France")
    assert code == 1
    assert "Nothing in caregraph's knowledge matches" in text
    code, text = run("ask", "what is the capital of France", "--json")
    assert json.loads(text)["answers"] == []


def test_bad_date_is_a_usage_error(capsys):
    code, _ = run("ask", "abuse", "--as-of", "last week")
    assert code == 2
    assert "not a date" in capsys.readouterr().err


def test_path_shows_the_chain_to_parliament():
    code, text = run("path", "cqc")
    assert code == 0
    assert "Care Quality Commission" in text
    assert "Parliament" in text.splitlines()[-1] or "Parliament" in text
    code, text = run("path", "Healthwatch England", "--json")
    chain = json.loads(text)["chains"][0]
    assert chain[-1]["id"] == "parliament"
    assert chain[0]["answers_to"]["relation"]


def test_unknown_actor_lists_near_matches(capsys):
    code, _ = run("path", "cqcc")
    assert code == 2
    err = capsys.readouterr().err
    assert "no actor called 'cqcc'" in err and "cqc" in err


def test_escalate_prints_the_steps_in_order():
    code, text = run("escalate", "my dad was kicked out of hospital with no care")
    assert code == 0
    assert text.index("1. ") < text.index("2. ")
    assert "Discharged from hospital" in text
    code, text = run("escalate", "how do I bake bread")
    assert code == 1


@pytest.mark.parametrize("fmt, parser", [("turtle", "turtle"), ("nt", "nt")])
def test_export_of_a_triple_format_is_the_union_of_all_graphs(store, tmp_path, fmt, parser):
    out = tmp_path / f"graph.{fmt}"
    code, _ = run("export", "--format", fmt, "--output", str(out))
    assert code == 0
    graph = rdflib.Graph().parse(out, format=parser)
    distinct = int(next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")))["n"].value)
    assert len(graph) == distinct


@pytest.mark.parametrize("fmt, parser", [("jsonld", "json-ld"), ("trig", "trig")])
def test_export_of_a_dataset_format_keeps_the_named_graphs(store, tmp_path, fmt, parser):
    out = tmp_path / f"graph.{fmt}"
    code, _ = run("export", "--format", fmt, "--output", str(out))
    assert code == 0
    dataset = rdflib.Dataset()
    dataset.parse(out, format=parser)
    names = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert set(store.graphs()) <= names
    assert sum(len(g) for g in dataset.graphs()) == len(store)


@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java")
def test_check_proves_the_knowledge_consistent():
    code, text = run("check")
    assert code == 0, text
    assert "consistent" in text


def test_malformed_turtle_in_a_store_source_fails_with_file_and_line(tmp_path, monkeypatch, capsys):
    from caregraph import build

    root = tmp_path / "ontology"
    shutil.copytree(build.ontology_dir(), root)
    (root / "knowledge" / "oops.ttl").write_text("@prefix ex: <http://e/> .\nex:a ex:b .\n")
    monkeypatch.setattr(build, "ontology_dir", lambda: root)
    code, _ = run("ask", "abuse")
    assert code == 2
    assert "ontology/knowledge/oops.ttl:2" in capsys.readouterr().err
