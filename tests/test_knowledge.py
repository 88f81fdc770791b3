"""What the curated knowledge must hold: sizes, a legal basis and dates for every duty, one
label per provision, confidence marked, and every file in its own named graph."""

from __future__ import annotations

import re

import pytest

LEGISLATION_ID = re.compile(
    r"^http://www\.legislation\.gov\.uk/id/(ukpga|uksi)/([0-9]{4}|[A-Z][A-Za-z]+[0-9]*/[0-9]+(-[0-9]+)?)/[0-9]+"
    r"(/(part|section|regulation|article|schedule|paragraph)/[0-9A-Za-z-]+)*$")
PREFIXES = """
PREFIX cg: <https://w3id.org/caregraph/def#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX status: <https://w3id.org/caregraph/id/status/>
PREFIX confidence: <https://w3id.org/caregraph/id/confidence/>
"""


def rows(store, query: str) -> list:
    return list(store.query(PREFIXES + query))


def count(store, query: str) -> int:
    return int(rows(store, query)[0]["n"].value)


def test_sizes(store):
    assert count(store, "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a cg:Duty }") >= 130
    assert count(store, "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a cg:Actor }") >= 60
    assert count(store, "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r a cg:EscalationRoute }") == 11


def test_every_duty_cites_legislation_gov_uk_identifier_uris_with_labels(store):
    for row in rows(store, "SELECT ?d ?b ?label WHERE { ?d a cg:Duty ; cg:legalBasis ?b . OPTIONAL { ?b rdfs:label ?label } }"):
        assert LEGISLATION_ID.match(row["b"].value), (row["d"].value, row["b"].value)
        assert row["label"] is not None, row["b"].value
    # A duty that rests on guidance, an agreement or a code names that source instead of a law.
    missing = rows(store, """SELECT ?d WHERE { ?d a cg:Duty
        FILTER NOT EXISTS { ?d cg:legalBasis ?b } FILTER NOT EXISTS { ?d cg:nonStatutoryBasis ?s } }""")
    assert missing == []


def test_non_statutory_responsibilities_are_not_dressed_as_law(store):
    dressed = rows(store, """PREFIX modality: <https://w3id.org/caregraph/id/modality/>
        SELECT ?d WHERE { ?d a cg:Duty ; cg:nonStatutoryBasis ?s ; cg:modality ?m
        FILTER NOT EXISTS { ?d cg:legalBasis ?b } FILTER (?m IN (modality:must, modality:must-not, modality:offence)) }""")
    assert dressed == []
    for row in rows(store, "SELECT ?d ?law ?label WHERE { ?d cg:relatedLaw ?law . OPTIONAL { ?law rdfs:label ?label } }"):
        assert LEGISLATION_ID.match(row["law"].value), (row["d"].value, row["law"].value)
        assert row["label"] is not None, row["law"].value


def test_the_fixed_non_statutory_sources_exist_with_their_documents(store):
    sources = {r["s"].value.rsplit("/", 1)[1]: r for r in rows(store, """
        PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX foaf: <http://xmlns.com/foaf/0.1/>
        SELECT ?s ?page ?issued WHERE { ?s a cg:NonStatutorySource ; foaf:page ?page ; dcterms:issued ?issued }""")}
    for slug in ["code-of-conduct-2013", "care-certificate", "chief-social-worker-for-adults",
                 "care-and-support-statutory-guidance", "scie-evidence-and-guidance", "asc-workforce-data-set",
                 "no-secrets-2000", "ascof", "making-it-real"]:
        assert slug in sources, slug
        assert sources[slug]["page"].value.startswith("https://"), slug


def test_every_duty_has_dates(store):
    undated = rows(store, """SELECT ?d WHERE { ?d a cg:Duty
        FILTER NOT EXISTS { ?d cg:validFrom ?f }
        FILTER NOT EXISTS { ?d cg:enactedOn ?e ; cg:status ?s FILTER (?s IN (status:not-commenced, status:not-yet-operational)) } }""")
    assert undated == []
    backwards = rows(store, "SELECT ?d WHERE { ?d cg:validFrom ?f ; cg:validTo ?t FILTER (?t < ?f) }")
    assert backwards == []


def test_each_provision_has_exactly_one_label(store):
    several = rows(store, """SELECT ?b (COUNT(DISTINCT ?l) AS ?n) WHERE {
        ?x cg:legalBasis ?b . ?b rdfs:label ?l } GROUP BY ?b HAVING (COUNT(DISTINCT ?l) > 1)""")
    assert several == []


def test_unconfirmed_records_say_what_is_uncertain(store):
    silent = rows(store, """SELECT ?x WHERE { ?x cg:confidence confidence:unconfirmed
        FILTER NOT EXISTS { ?x cg:caveat ?c } }""")
    assert silent == []
    assert count(store, "SELECT (COUNT(?x) AS ?n) WHERE { ?x cg:confidence confidence:unconfirmed }") > 0


def test_proposals_are_not_dates(store):
    # A Bill before Parliament is not law: proposals are text, never a valid-to date.
    assert rows(store, "SELECT ?x WHERE { ?x cg:validTo ?t FILTER (DATATYPE(?t) != <http://www.w3.org/2001/XMLSchema#date>) }") == []


@pytest.mark.parametrize("graph", ["knowledge/actors", "knowledge/accountability", "knowledge/successions",
                                   "knowledge/escalation-routes", "knowledge/legislation",
                                   "knowledge/duties/care-act-2014-care-and-support"])
def test_sources_land_in_their_own_named_graphs(store, graph):
    assert "https://w3id.org/caregraph/graph/" + graph in store.graphs()


def test_the_successions_of_the_issue_are_dated(store):
    events = {(r["a"].value.rsplit("/", 1)[1], r["b"].value.rsplit("/", 1)[1]): r["d"].value for r in rows(store, """
        PREFIX org: <http://www.w3.org/ns/org#>
        SELECT ?a ?b ?d WHERE { ?e a cg:SuccessionEvent ; org:originalOrganization ?a ;
                                   org:resultingOrganization ?b ; cg:date ?d }""")}
    for pair in [("gscc", "hcpc"), ("hcpc", "swe"), ("ccg", "icb"), ("links", "local-healthwatch"),
                 ("csci", "cqc"), ("dh", "dhsc")]:
        assert pair in events, pair
