"""Diagrams on the pages: Graphviz lays them out as SVG; without Graphviz the text list stays."""

from __future__ import annotations

import datetime as dt
import shutil

import graphviz
import pytest
from fastapi.testclient import TestClient

from caregraph import accountability, diagrams, escalation
from caregraph.actors import directory
from caregraph.api.app import create_app
from caregraph.namespaces import ROUTE

DAY = dt.date(2026, 6, 1)
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


@pytest.fixture(scope="module")
def client(store):
    with TestClient(create_app(store)) as test_client:
        yield test_client


@needs_dot
def test_the_accountability_chain_is_drawn_with_every_body_up_to_parliament(store):
    chains = accountability.chains(store, directory(store).resolve("council-social-services"), DAY)
    svg = diagrams.accountability_svg(chains)
    assert svg.startswith("<svg") and 'aria-hidden="true"' in svg
    for actor in {a for c in chains for a in c.actors}:
        assert actor.label.split()[0] in svg
    assert "Parliament" in svg and "is accountable to" in svg


@needs_dot
def test_a_route_is_drawn_as_a_flow_of_its_steps(store):
    route = escalation.load_route(store, ROUTE + "abuse-neglect-adult", DAY)
    svg = diagrams.route_svg(route)
    assert svg.count("<g id=\"node") == len(route.steps)
    assert svg.count("<g id=\"edge") == len(route.steps) - 1


@needs_dot
def test_actor_and_route_pages_show_the_diagram_and_the_words(client):
    actor = client.get("/id/actor/council-social-services", headers={"Accept": "text/html"}).text
    assert '<figure class="diagram"' in actor and "<svg" in actor
    assert 'aria-label="The chains of accountability, in words"' in actor
    route = client.get("/id/route/abuse-neglect-adult", headers={"Accept": "text/html"}).text
    assert "<svg" in route and '<ol class="route">' in route


def test_without_graphviz_the_pages_show_the_text_list_and_no_error(client, monkeypatch):
    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(graphviz.Source, "pipe", missing)
    diagrams._render.cache_clear()
    actor = client.get("/id/actor/cqc", headers={"Accept": "text/html"})
    assert actor.status_code == 200 and "<svg" not in actor.text
    assert 'aria-label="The chains of accountability, in words"' in actor.text
    route = client.get("/id/route/nurse-misconduct", headers={"Accept": "text/html"})
    assert route.status_code == 200 and "<svg" not in route.text and '<ol class="route">' in route.text
    diagrams._render.cache_clear()
