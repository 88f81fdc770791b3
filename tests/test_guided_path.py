"""The guided path: plain questions, one per page, each a form GET with its own URL, that lead
to every escalation route in at most four steps, with the place if one is given."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from caregraph import escalation_catalogue, guided_path
from caregraph.api.app import create_app
from caregraph.importers.run import import_source
from caregraph.store import OxigraphStore
from conftest import FIXTURES

REGISTERS = FIXTURES / "registers"


@pytest.fixture(scope="module")
def client(store):
    with TestClient(create_app(store)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def linked_client(store):
    """The curated graph with the fixture CQC register: a real care home to name."""
    dump = io.BytesIO()
    store.raw.dump(dump, ox.RdfFormat.N_QUADS)
    copy = OxigraphStore()
    copy.raw.load(dump.getvalue(), ox.RdfFormat.N_QUADS)
    for source, path in (("cqc-directory", REGISTERS / "16_September_2026_CQC_directory.csv"),
                         ("cqc-api", REGISTERS / "api"), ("ods", REGISTERS / "etr.csv")):
        import_source(copy, source, path, progress=io.StringIO())
    with TestClient(create_app(copy)) as test_client:
        yield test_client


def test_every_route_is_reached_in_at_most_four_questions(store):
    path = guided_path.load(store)
    routes = {r["uri"] for r in escalation_catalogue.list_routes(store)}
    reached: dict[str, list[str]] = {}
    for asked, end in path.ends():
        assert len(asked) <= 4, (asked, end.id)
        outcome = guided_path.outcome(store, end.problem, dt.date(2026, 6, 1))
        assert outcome.response.escalation is not None and outcome.response.answers, end.id
        reached.setdefault(outcome.response.escalation.iri, asked)
    assert set(reached) == routes and len(routes) == 11


def test_the_first_question_is_about_danger_and_yes_says_999(store):
    path = guided_path.load(store)
    assert path.first.label == "Is anyone in danger right now?"
    yes = next(c for c in path.first.choices if c.alert)
    assert "999" in yes.alert


def _walk(client: TestClient, steps: list[dict[str, str]]) -> tuple[list[str], object]:
    """Follow the path from /guide, submitting each step's form with the given fields; the
    URLs of the pages seen and the last response."""
    response = client.get("/guide")
    seen = [str(response.url)]
    for fields in steps:
        url = urlsplit(str(response.url))
        state = {k: v[0] for k, v in parse_qs(url.query).items()}
        response = client.get(url.path, params={**state, **fields, "go": "1"})
        assert response.status_code == 200, (url.path, response.text[response.text.find("<main"):][:600])
        seen.append(str(response.url))
    return seen, response


@pytest.mark.parametrize("what, pays, route", [
    ("what-abuse", None, "abuse-neglect-adult"),
    ("what-complain", "pays-self", "complaint-self-funded-care"),
    ("what-complain", "pays-council", "complaint-council-funded-care"),
    ("what-nurse", None, "nurse-misconduct"),
])
def test_walking_the_pages_reaches_the_answer_with_what_to_do_first(client, store, what, pays, route):
    steps = [{"choice": "danger-no"}, {"place": ""}, {"choice": what}] + ([{"choice": pays}] if pays else [])
    seen, answer = _walk(client, steps)
    assert "/guide/danger" in seen[0] and "/guide/where" in seen[1] and "/guide/what" in seen[2]
    assert "/guide/answer" in seen[-1]
    html = answer.text
    label = next(r["label"] for r in escalation_catalogue.list_routes(store) if r["id"] == route)
    assert label in html
    # What to do now comes first, then who must act, then how it was found; not legal advice stays.
    assert html.index("What to do now") < html.index("Who must act, and the law") < html.index(
        "Who holds them to account") < html.index("How we found this")
    chains = html[html.index('<ol class="chains"'):]
    assert "Parliament" in chains[:chains.index("</ol>")]
    assert "Not legal advice" in html and "legislation.gov.uk" in html


def test_every_way_through_the_pages_ends_at_its_route_in_at_most_four_steps(client, store):
    path = guided_path.load(store)
    routes = set()
    for asked, end in path.ends():
        steps = []
        for n, qid in enumerate(asked):
            question = path.question(qid)
            if question.asks_place:
                steps.append({"place": ""})
            elif n + 1 < len(asked):
                steps.append({"choice": next(c.id for c in question.choices if c.next == asked[n + 1])})
            else:
                steps.append({"choice": end.id})
        seen, answer = _walk(client, steps)
        assert len(steps) <= 4 and "/guide/answer" in seen[-1], end.id
        route = guided_path.outcome(store, end.problem, dt.date.today()).response.escalation
        assert f"<h2>What to do now</h2>\n<p class=\"hint\">{route.label}." in answer.text, end.id
        routes.add(route.iri)
    assert len(routes) == 11


def test_danger_shows_999_on_every_page_after(client):
    seen, answer = _walk(client, [{"choice": "danger-yes"}, {"place": ""}, {"choice": "what-abuse"}])
    assert "Call 999 now" in client.get(seen[1]).text
    assert "Call 999 now" in answer.text


def test_each_step_is_a_form_get_that_works_without_scripts(client):
    for step in ("danger", "where", "what", "who-pays"):
        html = client.get(f"/guide/{step}").text
        assert f'<form action="/guide/{step}" method="get">' in html and "<script" not in html


def test_no_choice_asks_again_and_unknown_steps_are_404(client):
    response = client.get("/guide/what", params={"go": "1"})
    assert response.status_code == 400 and "Choose one of the answers" in response.text
    assert client.get("/guide/nowhere").status_code == 404
    assert client.get("/guide/answer", params={"problem": "nothing"}).status_code == 404


def test_a_council_by_name_is_carried_to_the_answer(client):
    seen, answer = _walk(client, [{"choice": "danger-no"}, {"place": "Leeds"}, {"choice": "what-abuse"}])
    assert "place=E08000035" in seen[2]
    assert "Leeds City Council" in answer.text


def test_a_place_that_fits_none_says_so_and_keeps_the_words(client):
    client.get("/guide/where")
    response = client.get("/guide/where", params={"go": "1", "place": "Nowhereville Towers"})
    assert response.status_code == 400
    assert "No care home, council or town we know is called" in response.text
    assert 'value="Nowhereville Towers"' in response.text


def test_a_care_home_from_the_register_names_its_provider_and_council(linked_client):
    seen, answer = _walk(linked_client, [{"choice": "danger-no"}, {"place": "1-100000011"},
                                         {"choice": "what-abuse"}])
    assert "place=1-100000011" in seen[2]
    assert "Oldham" in answer.text and "Werneth" in answer.text


def test_a_place_that_fits_several_gives_a_short_list(linked_client):
    response = linked_client.get("/guide/where", params={"go": "1", "place": "Court"})
    assert response.status_code == 400 and "fits several places" in response.text
    assert 'value="1-100000005"' in response.text and 'value="1-100000011"' in response.text


def test_the_home_page_and_an_unsure_answer_offer_the_guided_path(client):
    assert 'href="/guide"' in client.get("/").text
    vague = client.get("/ask", params={"q": "I need help with my mum"}).text
    assert 'href="/guide"' in vague


# -- the question box with a place -----------------------------------------------------------

ABUSE = "someone is hitting my dad at his care home"


def test_a_question_with_a_care_home_names_its_provider_and_council(linked_client):
    html = linked_client.get("/ask", params={"q": ABUSE, "place": "1-100000011"}).text
    todo = html[html.index("What to do now"):html.index("Who must act, and the law")]
    assert "Oldham Metropolitan Borough Council" in todo
    assert "Werneth" in html and "legislation.gov.uk" in html


def test_a_question_with_a_place_that_fits_several_lists_them_and_keeps_the_question(linked_client):
    html = linked_client.get("/ask", params={"q": ABUSE, "place": "Court"}).text
    assert "fits several places" in html and "place=1-100000005" in html and "place=1-100000011" in html
    assert "What to do now" in html and 'value="someone is hitting my dad at his care home"' in html


def test_a_question_with_an_unknown_place_says_so_and_still_answers(client):
    html = client.get("/ask", params={"q": ABUSE, "place": "Nowhereville Towers"}).text
    assert "No care home, council or town we know is called" in html and "What to do now" in html
    assert 'value="Nowhereville Towers"' in html
