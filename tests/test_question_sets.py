"""The unseen question set E (tests/fixtures/questions-unseen-e.json) is well formed.

Written on 2026-12-07 by a writer who did not see the matching, before that day's matching
changes; it is never tuned on and is scored only by bench/answers/score.py. These tests check
the set itself, not how caregraph answers it: every expected holder is an actor caregraph
knows, every basis is a legislation.gov.uk identifier or a source the knowledge cites, and an
expectation marked "not in knowledge" is exactly one the curated knowledge does not hold.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest

from caregraph import evaluation
from caregraph.dates import parse_day
from conftest import FIXTURES

SET_FILE = FIXTURES / "questions-unseen-e.json"
QUESTIONS = evaluation.load(SET_FILE)
STYLES = {"one-or-two-words", "short-plain", "long-story", "informal", "professional", "who-can", "dated",
          "non-statutory", "out-of-scope"}
# Undated questions ask about the law as it stood when they were written.
WRITTEN = dt.date(2026, 12, 7)
NOT_IN_KNOWLEDGE = "not in knowledge"
ID = "https://w3id.org/caregraph/id/"
LEGISLATION_ID = re.compile(
    r"^http://www\.legislation\.gov\.uk/id/(ukpga|uksi)/[0-9]{4}/[0-9]+"
    r"(/(part|section|regulation|article|schedule|paragraph)/[0-9A-Za-z-]+)*$")
PREFIXES = """
PREFIX cg: <https://w3id.org/caregraph/def#>
PREFIX raci: <https://w3id.org/caregraph/id/raci/>
"""


def test_the_set_is_large_and_covers_every_style():
    assert len(QUESTIONS) >= 250
    counts = Counter(q["style"] for q in QUESTIONS)
    assert set(counts) == STYLES and min(counts.values()) >= 25, counts
    assert {q["writer"] for q in QUESTIONS} == {"E"}
    assert [q["id"] for q in QUESTIONS] == [f"e{n:03d}" for n in range(1, len(QUESTIONS) + 1)]


def test_its_ids_do_not_collide_with_the_other_sets():
    # bench/answers/score.py scores every set in one run and tells results apart by id.
    others = {q["id"] for name in ("question-bank.json", "questions-unseen.json")
              if (FIXTURES / name).exists() for q in evaluation.load(FIXTURES / name)}
    assert not others & {q["id"] for q in QUESTIONS}


def test_each_style_has_its_shape():
    for q in QUESTIONS:
        assert (q["expect"] == []) == (q["style"] == "out-of-scope"), q["id"]
        assert (q["as_of"] is not None) == (q["style"] == "dated"), q["id"]
        if q["as_of"]:
            parse_day(q["as_of"])
        if q["style"] == "one-or-two-words":
            # One or two terms; a compound such as "care home" counts as one.
            assert len(q["question"].split()) <= 3, q["id"]
        if q["style"] == "long-story":
            assert 60 <= len(q["question"].split()) <= 150, q["id"]
        assert q.get("note") in (None, NOT_IN_KNOWLEDGE), q["id"]


@pytest.fixture(scope="module")
def held(store) -> list[tuple[str, str, object, object]]:
    """(holder, basis, from, to) for every accountable or responsible holder of a duty, under
    the duty's law, its named non-statutory source, or the holder's own basis."""
    rows = store.query(PREFIXES + """
        SELECT ?h ?b ?df ?dt ?af ?at WHERE {
          ?d a cg:Duty ; cg:assignment ?a . ?a cg:holder ?h ; cg:raciRole ?r .
          VALUES ?r { raci:accountable raci:responsible }
          { ?d cg:legalBasis ?b } UNION { ?d cg:nonStatutoryBasis ?b } UNION { ?a cg:legalBasis ?b }
          OPTIONAL { ?d cg:validFrom ?df } OPTIONAL { ?d cg:validTo ?dt }
          OPTIONAL { ?a cg:validFrom ?af } OPTIONAL { ?a cg:validTo ?at } }""")
    out = []
    for row in rows:
        start = row["af"] if row["af"] is not None else row["df"]
        end = row["at"] if row["af"] is not None or row["at"] is not None else row["dt"]
        out.append((row["h"].value.removeprefix(ID + "actor/"), row["b"].value,
                    start and dt.date.fromisoformat(start.value), end and dt.date.fromisoformat(end.value)))
    return out


def test_expected_holders_are_actors_and_bases_are_law_or_cited_sources(store):
    actors = {r["a"].value.removeprefix(ID + "actor/") for r in store.query(PREFIXES + "SELECT ?a WHERE { ?a a cg:Actor }")}
    cited = {r["o"].value for r in store.query("SELECT DISTINCT ?o WHERE { ?s ?p ?o FILTER(isIRI(?o)) }")}
    for q in QUESTIONS:
        for e in q["expect"]:
            assert e["holder"] in actors, (q["id"], e["holder"])
            assert LEGISLATION_ID.match(e["basis"]) or e["basis"] in cited, (q["id"], e["basis"])


def test_not_in_knowledge_marks_exactly_the_expectations_the_knowledge_lacks(held):
    for q in QUESTIONS:
        day = parse_day(q["as_of"]) if q["as_of"] else WRITTEN
        known = [any(h == e["holder"] and b == e["basis"] and start is not None and start <= day
                     and (end is None or day <= end) for h, b, start, end in held) for e in q["expect"]]
        if q.get("note") == NOT_IN_KNOWLEDGE:
            assert not any(known), q["id"]
        else:
            assert all(known), (q["id"], [e for e, k in zip(q["expect"], known) if not k])


def test_themes_and_routes_are_the_knowledge_own(store):
    routes = {r["route"].value.rsplit("/", 1)[1] for r in store.select("route_list")}
    themes = {r["t"].value.removeprefix(ID + "theme/")
              for r in store.query("SELECT ?t WHERE { ?t a <http://www.w3.org/2004/02/skos/core#Concept> }")}
    for q in QUESTIONS:
        assert q["route"] is None or q["route"] in routes, q["id"]
        assert q["theme"] is None or q["theme"] in themes, q["id"]
