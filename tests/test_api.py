"""The JSON API, linked data, pages and validation, against a real `caregraph serve` on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import httpx
import pytest
import rdflib

from caregraph import accountability, cli, duties, linked_data
from caregraph.actors import directory
from conftest import FIXTURES

API_FIXTURES = FIXTURES / "api"
DAY = "2024-06-01"


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


# -- who is responsible -------------------------------------------------------------------
@pytest.mark.parametrize("question", ["my mum's care home is unsafe, who do I tell?",
                                      "the council refuses to assess my dad",
                                      "who registers social workers"])
def test_responsible_is_exactly_what_ask_json_prints(http, question):
    out = io.StringIO()
    cli.main(["ask", question, "--json", "--as-of", DAY], out=out)
    response = http.get("/responsible", params={"q": question, "as_of": DAY})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(out.getvalue())
    assert response.json()["answers"]


def test_responsible_honours_limit_and_reports_no_match(http):
    assert len(http.get("/responsible", params={"q": "care home unsafe", "limit": 1}).json()["answers"]) == 1
    empty = http.get("/responsible", params={"q": "zzzz qqqq"}).json()
    assert empty["answers"] == [] and empty["notes"]


@pytest.mark.parametrize("params, status, words", [
    ({}, 422, "q"),
    ({"q": "care home", "as_of": "yesterday"}, 400, "as_of"),
    ({"q": "care home", "limit": 0}, 422, "limit"),
    ({"q": "x" * 501}, 422, "q"),
])
def test_responsible_bad_input(http, params, status, words):
    response = http.get("/responsible", params=params)
    assert response.status_code == status
    assert words in response.text


# -- actors -------------------------------------------------------------------------------
def test_actor_record(http, store):
    body = http.get("/actors/cqc", params={"as_of": DAY}).json()
    assert body["id"] == "cqc" and body["label"] == "Care Quality Commission"
    assert body["kind"] == "regulator" and body["existed"]
    assert any(link["actor"]["id"] == "dhsc" for link in body["answers_to"])
    assert body["duties"] and all(d["uri"].startswith("https://w3id.org/caregraph/id/duty/") for d in body["duties"])
    assert http.get("/actors/CQC").json()["id"] == "cqc"  # acronyms resolve


def test_unknown_actor_is_404_with_suggestions(http):
    response = http.get("/actors/cqcc")
    assert response.status_code == 404
    assert "cqc" in response.json()["suggestions"]


def test_ambiguous_actor_name_lists_the_candidates(http):
    response = http.get("/actors/the ombudsman")
    assert response.status_code == 300
    assert len(response.json()["candidates"]) > 1


def test_actor_list_filters_and_pages(http, store):
    everyone = http.get("/actors", params={"limit": 200}).json()
    assert everyone["total"] == len(list(directory(store)))
    first = http.get("/actors", params={"limit": 10}).json()
    second = http.get("/actors", params={"limit": 10, "offset": 10}).json()
    assert len(first["items"]) == 10 and {a["id"] for a in first["items"]}.isdisjoint(a["id"] for a in second["items"])
    regulators = http.get("/actors", params={"kind": "regulator"}).json()["items"]
    assert "cqc" in {a["id"] for a in regulators} and all(a["kind"] == "regulator" for a in regulators)
    gone = http.get("/actors", params={"as_of": "2000-01-01", "limit": 200}).json()["items"]
    assert "swe" not in {a["id"] for a in gone}
    assert http.get("/actors", params={"name": "ombudsman"}).json()["total"] >= 3
    bad = http.get("/actors", params={"kind": "regulater"})
    assert bad.status_code == 400 and "regulator" in bad.json()["detail"]
    assert http.get("/actors", params={"limit": 500}).status_code == 422


def test_accountability_chains_reach_parliament(http, store):
    body = http.get("/actors/registered-manager/accountability", params={"as_of": DAY}).json()
    expected = accountability.chains(store, directory(store).resolve("registered-manager"), dt.date(2024, 6, 1),
                                     limit=5)
    assert [[step["id"] for step in chain] for chain in body["chains"]] == \
        [[a.id for a in chain.actors] for chain in expected]
    assert all(chain[-1]["id"] == "parliament" for chain in body["chains"])
    assert http.get("/actors/nobody-at-all/accountability").status_code == 404


# -- duties -------------------------------------------------------------------------------
def test_duty_list_filters(http, store):
    safeguarding = http.get("/duties", params={"theme": "safeguarding", "limit": 200}).json()
    assert safeguarding["total"] == duties.list_duties(store, theme="safeguarding", limit=200).total > 0
    assert all("safeguarding" in {t["id"] for t in d["themes"]} for d in safeguarding["items"])
    care_act = http.get("/duties", params={"legal_basis": "ukpga/2014/23", "limit": 200}).json()
    assert care_act["total"] > 20
    s42 = http.get("/duties", params={"legal_basis": "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"}).json()
    assert "ca-s42-enquiry" in {d["duty"]["id"] for d in s42["items"]}
    cqc = http.get("/duties", params={"holder": "cqc", "limit": 200}).json()["items"]
    assert cqc and all(any(h["id"] == "cqc" for h in d["holders"]) for d in cqc)
    housing = http.get("/duties", params={"sector": "housing", "limit": 200}).json()["items"]
    assert housing and all(d["duty"]["sector"] == "housing" for d in housing)
    every = http.get("/duties", params={"limit": 200}).json()["total"]
    in_2010 = http.get("/duties", params={"as_of": "2010-01-01", "limit": 200}).json()["total"]
    assert 0 < in_2010 < every


def test_duty_list_pages_cover_every_duty_once(http):
    total = http.get("/duties", params={"limit": 1}).json()["total"]
    seen = []
    for offset in range(0, total, 50):
        seen += [d["duty"]["id"] for d in http.get("/duties", params={"offset": offset, "limit": 50}).json()["items"]]
    assert len(seen) == len(set(seen)) == total


@pytest.mark.parametrize("params, status, words", [
    ({"theme": "safegarding"}, 400, "safeguarding"),
    ({"sector": "space"}, 400, "sector"),
    ({"legal_basis": "ukpga/1800/1"}, 400, "legal_basis"),
    ({"holder": "nobody-at-all"}, 404, "nobody-at-all"),
    ({"as_of": "2024-13-01"}, 400, "as_of"),
    ({"limit": 0}, 422, "limit"),
])
def test_duty_list_bad_filters(http, params, status, words):
    response = http.get("/duties", params=params)
    assert response.status_code == status
    assert words in response.text


def test_one_duty(http):
    body = http.get("/duties/ca-s42-enquiry", params={"as_of": DAY}).json()
    assert body["duty"]["label"] and body["in_force"]
    assert any(b["uri"].endswith("/ukpga/2014/23/section/42") for b in body["legal_basis"])
    assert any(a["role"] == "accountable" for a in body["assignments"])
    missing = http.get("/duties/ca-s42-enquiri")
    assert missing.status_code == 404 and "ca-s42-enquiry" in missing.json()["suggestions"]


# -- escalation ---------------------------------------------------------------------------
def test_escalation_route_is_ordered(http):
    body = http.get("/escalation", params={"problem": "my mum's care home is unsafe"}).json()
    orders = [step["order"] for step in body["route"]["steps"]]
    assert orders == sorted(orders) and len(orders) >= 3
    assert body["route"]["id"] == "unsafe-care-home"


def test_escalation_without_a_fit_and_bad_input(http):
    none = http.get("/escalation", params={"problem": "zzzz qqqq"}).json()
    assert none["route"] is None and none["notes"]
    assert http.get("/escalation").status_code == 422


def test_escalation_routes_by_id(http):
    routes = http.get("/escalation/routes").json()["items"]
    assert len(routes) >= 10
    one = http.get(f"/escalation/routes/{routes[0]['id']}").json()
    assert one["uri"] == routes[0]["uri"] and one["steps"]
    assert http.get("/escalation/routes/no-such-route").status_code == 404


# -- service ------------------------------------------------------------------------------
def test_health(http):
    body = http.get("/health").json()
    assert body["status"] == "ok" and body["sparql_workers"] >= 1


def test_openapi_document_is_valid(http):
    from openapi_spec_validator import validate

    spec = http.get("/openapi.json").json()
    validate(spec)
    for path in ("/responsible", "/actors", "/actors/{actor_id}", "/actors/{actor_id}/accountability", "/duties",
                 "/duties/{duty_id}", "/escalation", "/validate", "/sparql", "/id/{path}", "/health"):
        assert path in spec["paths"], path
    docs = http.get("/docs")
    assert "text/html" in docs.headers["content-type"] and "<script" not in docs.text
    assert "GET /responsible" in docs.text and "POST /sparql" in docs.text


# -- linked data --------------------------------------------------------------------------
def _graph(data: bytes, fmt: str, base: str | None = None) -> rdflib.Graph:
    return rdflib.Graph().parse(data=data, format=fmt, publicID=base)


@pytest.mark.parametrize("uri", ["https://w3id.org/caregraph/id/actor/cqc",
                                 "https://w3id.org/caregraph/id/duty/ca-s42-enquiry",
                                 "https://w3id.org/caregraph/id/theme/safeguarding"])
def test_uris_dereference_in_every_format_with_the_same_triples(http, store, uri):
    path = uri.removeprefix("https://w3id.org/caregraph")
    expected = {(t.subject.value, t.predicate.value, t.object.value) for t in linked_data.describe(store, uri)}
    assert expected
    for accept, fmt in (("text/turtle", "turtle"), ("application/n-triples", "nt"),
                        ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld")):
        response = http.get(path, headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert response.headers["content-type"].startswith(accept)
        got = {(str(s), str(p), str(o)) for s, p, o in _graph(response.content, fmt)}
        assert got == expected, accept


def test_jsonld_uses_the_published_context(http):
    document = http.get("/id/actor/cqc", headers={"Accept": "application/ld+json"}).json()
    assert document["@context"].endswith("/context.jsonld")
    context = http.get(document["@context"])
    assert context.status_code == 200 and context.headers["content-type"].startswith("application/ld+json")
    assert context.json()["@context"]["actor"] == "https://w3id.org/caregraph/id/actor/"


def test_browsers_get_html_and_unknown_uris_404(http):
    page = http.get("/id/actor/cqc", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html") and "Care Quality Commission" in page.text
    assert http.get("/id/actor/nobody-at-all", headers={"Accept": "text/turtle"}).status_code == 404
    assert http.get("/id/actor/nobody-at-all", headers={"Accept": "text/html"}).status_code == 404
    assert http.get("/id/actor/cqc", headers={"Accept": "image/png"}).status_code == 406


def test_cors_is_on_for_get(http):
    for path in ("/id/actor/cqc", "/responsible?q=care+home", "/sparql?query=ASK+%7B%7D", "/sparql"):
        response = http.get(path, headers={"Origin": "https://example.org"})
        assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*", path
    preflight = http.options("/responsible", headers={"Origin": "https://example.org",
                                                      "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200 and "GET" in preflight.headers["access-control-allow-methods"]


# -- pages --------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/ask?q=my+mum%27s+care+home+is+unsafe", "/pages/actors", "/pages/duties",
                                  "/pages/duties?theme=safeguarding", "/pages/routes", "/id/route/unsafe-care-home",
                                  "/id/duty/ca-s42-enquiry", "/id/actor/council-social-services",
                                  "/id/theme/safeguarding"])
def test_pages_are_plain_accessible_html(http, path):
    page = http.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="en">' in html and "<h1>" in html and "<script" not in html
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert not [u for u in external if u.endswith((".css", ".js"))]  # no CDN


def test_answer_page_names_holders_law_oversight_and_route(http):
    html = http.get("/ask", params={"q": "my mum's care home is unsafe, who do I tell?"}).text
    assert "https://www.legislation.gov.uk/" in html
    assert "Who checks they do it" in html
    # What to do comes first, then the duties and the law, then how the question was read.
    assert html.index("What to do now") < html.index("Who must act, and the law") < html.index("How we read your question")
    assert http.get("/ask", params={"q": "care", "as_of": "not a date"}).status_code == 400


def test_sparql_page_for_browsers(http):
    page = http.get("/sparql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<textarea" in page.text


# -- validation ---------------------------------------------------------------------------
@pytest.mark.parametrize("body, kind, status", [
    (b"@prefix ex: <http://example.org/> .\nex:a ex:b \"unterminated .\n", "text/turtle", 400),
    (b"<http://example.org/a> <http://example.org/b> .\n", "application/n-triples", 400),
    (b'{"@context": "http://example.org/remote.jsonld", "@id": "http://example.org/a"}', "application/ld+json", 400),
    (b'{"@id": ', "application/ld+json", 400),
    (b"", "text/turtle", 400),
    (b"a,b,c\n", "text/csv", 415),
])
def test_validate_refuses_bad_input(http, body, kind, status):
    response = http.post("/validate", content=body, headers={"Content-Type": kind})
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_validate_refuses_bad_target_and_accept(http):
    turtle = (API_FIXTURES / "valid-council.ttl").read_bytes()
    assert http.post("/validate", params={"target": "not an iri"}, content=turtle,
                     headers={"Content-Type": "text/turtle"}).status_code == 400
    assert http.post("/validate", content=turtle, headers={"Content-Type": "text/turtle",
                                                          "Accept": "text/csv"}).status_code == 406


def test_validate_reports_in_json_and_turtle(http):
    # Focus nodes keep this quick (the whole graph takes seconds) and independent of the
    # curated knowledge's own state; the posted file holds a good council and a broken duty.
    posted = (API_FIXTURES / "invalid-duty.ttl").read_bytes()
    council = "https://w3id.org/caregraph/id/council/E06000999"
    duty = "https://w3id.org/caregraph/id/duty/api-test-duty"
    ok = http.post("/validate", params={"target": council}, content=posted, headers={"Content-Type": "text/turtle"})
    assert ok.status_code == 200 and ok.headers["caregraph-conforms"] == "true"
    assert ok.json()["conforms"] is True
    broken = http.post("/validate", params={"target": duty}, content=posted, headers={"Content-Type": "text/turtle"})
    assert broken.status_code == 200 and broken.headers["caregraph-conforms"] == "false"
    assert broken.json()["conforms"] is False and duty in broken.text
    report = http.post("/validate", params={"target": duty}, content=posted,
                       headers={"Content-Type": "text/turtle", "Accept": "text/turtle"})
    assert report.headers["content-type"].startswith("text/turtle")
    graph = _graph(report.content, "turtle")
    assert (None, rdflib.URIRef("http://www.w3.org/ns/shacl#conforms"), rdflib.Literal(False)) in graph
    as_jsonld = rdflib.Graph().parse(data=posted, format="turtle").serialize(format="json-ld")
    jsonld = http.post("/validate", params={"target": duty}, content=as_jsonld,
                       headers={"Content-Type": "application/ld+json"})
    assert jsonld.headers["caregraph-conforms"] == "false"


def test_jsonld_documents_are_read_with_the_published_context(http, store):
    document = http.get("/id/actor/cqc", headers={"Accept": "application/ld+json"}).json()
    from caregraph.api.validate import parse_body

    triples = parse_body(json.dumps(document).encode(), "application/ld+json")
    expected = {(t.subject.value, t.predicate.value, t.object.value)
                for t in linked_data.describe(store, "https://w3id.org/caregraph/id/actor/cqc")}
    assert {(t.subject.value, t.predicate.value, t.object.value) for t in triples} == expected
