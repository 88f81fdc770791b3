"""Alignment for policy teams: every planted gap, overlap and change found in a small fixture
and nothing else; the matrix on the curated knowledge against counts taken straight from the
Turtle files; the bridges the law is known for; the figures drawn; CLI, API and page agree."""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
from collections import Counter

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient

from conftest import FIXTURES
from caregraph import alignment, exports, figures
from caregraph.api.app import create_app
from caregraph.cli import main
from caregraph.resources import ontology_dir
from caregraph.store import OxigraphStore

VOCABULARIES = ("themes", "sectors", "raci", "relations", "statuses")
DAY, START, END, LATER = dt.date(2020, 6, 1), dt.date(2019, 6, 1), dt.date(2021, 6, 1), dt.date(2021, 6, 1)


@pytest.fixture(scope="module")
def planted() -> OxigraphStore:
    store = OxigraphStore()
    for name in VOCABULARIES:
        store.load_graph(f"https://w3id.org/caregraph/graph/vocabularies/{name}",
                         str(ontology_dir() / "vocabularies" / f"{name}.ttl"), ox.RdfFormat.TURTLE)
    store.load_graph("https://w3id.org/caregraph/graph/test/planted", str(FIXTURES / "alignment" / "planted.ttl"),
                     ox.RdfFormat.TURTLE)
    return store


def _gaps(result: list[dict]) -> set[tuple]:
    return {(g["kind"], (g.get("theme") or g.get("actor"))["id"], tuple(g.get("sectors", ()))) for g in result}


def test_every_planted_gap_is_found_and_nothing_else(planted):
    expected = {("unbridged-sectors", "hospital-discharge", ("care", "health")),
                ("single-sector-theme", "carers", ("care",)),
                ("no-escalation", "fx-orphan", ())}
    assert _gaps(alignment.gaps(planted, DAY)) == expected
    assert _gaps(alignment.gaps(planted, LATER)) == expected


def test_every_planted_overlap_is_found_and_nothing_else(planted):
    found = alignment.overlaps(planted, DAY)
    assert {(o["kind"], (o.get("duty") or o.get("place"))["id"]) for o in found} == {
        ("several-accountable", "fx-d8"), ("same-role-one-place", "E06999999")}
    several = next(o for o in found if o["kind"] == "several-accountable")
    assert {b["id"] for b in several["bodies"]} == {"fx-old", "fx-new"}
    boards = next(o for o in found if o["kind"] == "same-role-one-place")
    assert {b["id"] for b in boards["bodies"]} == {"E06999999-a", "E06999999-b"}
    assert alignment.overlaps(planted, LATER) == []          # the handover and the boards' overlap are over


def test_every_planted_change_is_found_with_its_law_and_nothing_else(planted):
    found = alignment.changes(planted, START, END)
    got = {(c["kind"], c["date"], (c.get("duty") or c.get("actor") or c.get("event"))["id"],
            tuple(law["label"] for law in c["law"])) for c in found}
    assert got == {
        ("body-began", "2020-01-01", "fx-new", ("Fixture Act 2099 s.9",)),
        ("duty-began", "2020-04-01", "fx-d9", ("Fixture Act 2099 s.2",)),
        ("duty-ended", "2020-09-30", "fx-d10", ("Fixture Act 2099 s.1",)),
        ("body-ended", "2020-12-31", "fx-old", ("Fixture Act 2099 s.9",)),       # the succession's law
        ("succession", "2021-01-01", "fx-old-to-new", ("Fixture Act 2099 s.9",)),
        ("duty-passed", "2021-01-01", "fx-d8", ("Fixture Act 2099 s.9",)),       # passed by the succession
    }
    passed = next(c for c in found if c["kind"] == "duty-passed")
    assert [b["id"] for b in passed["from_body"]] == ["fx-old"] and [b["id"] for b in passed["to_body"]] == ["fx-new"]
    assert alignment.changes(planted, dt.date(2021, 6, 1), dt.date(2021, 12, 31)) == []
    with pytest.raises(ValueError):
        alignment.changes(planted, END, START)


def test_bridges_matrix_and_network_on_the_fixture(planted):
    bridges = alignment.bridges(planted, DAY)
    assert [(b["duty"]["id"], b["ties"]) for b in bridges] == [("fx-b1", ["care", "housing"])]
    assert alignment.network(planted, DAY)["edges"] == [
        {"source": "care", "target": "housing", "bridges": 1, "duties": ["fx-b1"]}]
    counts = {(c["theme"], c["sector"]): c["count"] for c in alignment.matrix(planted, DAY)["cells"] if c["count"]}
    assert counts == {("hospital-discharge", "care"): 1, ("hospital-discharge", "health"): 1,
                      ("carers", "care"): 5, ("homelessness", "care"): 1, ("homelessness", "housing"): 1,
                      ("homelessness", "cross-sector"): 1, ("housing", "care"): 1, ("housing", "housing"): 1,
                      ("housing", "cross-sector"): 1, ("co-operation", "cross-sector"): 1,
                      ("integration", "cross-sector"): 1}
    assert counts == {k: v for k, v in alignment.matrix_counts(planted, DAY).items()}


def test_single_points_of_failure_on_the_fixture(planted):
    spof = alignment.single_points_of_failure(planted, DAY)
    assert [a["id"] for a in spof["articulation_points"]] == ["fx-dept"]
    assert spof["articulation_points"][0]["separates"] == 6   # council, NHS body, orphan, old, new, the rest
    assert {d["id"] for d in spof["dominators"][0]["dependants"]} >= {"fx-council", "fx-nhs", "fx-orphan"}
    assert spof["central"][0]["id"] == "fx-dept"


# -- the curated knowledge ------------------------------------------------------------------------

@functools.cache
def _turtle() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted(ontology_dir().rglob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def _direct_matrix(day: dt.date) -> Counter:
    """Duties in force per (theme, sector), read from the Turtle files with rdflib, not the store."""
    graph = _turtle()
    cg, skos = rdflib.Namespace("https://w3id.org/caregraph/def#"), rdflib.Namespace(str(rdflib.SKOS))
    not_commenced = rdflib.URIRef("https://w3id.org/caregraph/id/status/not-commenced")
    counts: Counter = Counter()
    for duty in set(graph.subjects(rdflib.RDF.type, cg.Duty)):
        start, end = graph.value(duty, cg.validFrom), graph.value(duty, cg.validTo)
        if start is None or (duty, cg.status, not_commenced) in graph or start.toPython() > day \
                or (end is not None and end.toPython() < day):
            continue
        themes = set()
        todo = list(graph.objects(duty, cg.theme))
        while todo:
            theme = todo.pop()
            if theme not in themes:
                themes.add(theme)
                todo.extend(graph.objects(theme, skos.broader))
        for sector in graph.objects(duty, cg.sector):
            for theme in themes:
                counts[str(theme).rsplit("/", 1)[-1], str(sector).rsplit("/", 1)[-1]] += 1
    return counts


@pytest.mark.parametrize("day", [dt.date(2015, 6, 1), dt.date(2022, 7, 1), dt.date.today()])
def test_matrix_on_the_curated_knowledge_matches_a_direct_count(store, day):
    direct = _direct_matrix(day)
    cells = {(c["theme"], c["sector"]): c["count"] for c in alignment.matrix(store, day)["cells"] if c["count"]}
    assert cells == dict(direct)
    assert alignment.matrix_counts(store, day) == dict(direct)
    assert sum(direct.values()) > 100


# Provisions the law is known for tying sectors together (the list); each one the
# knowledge cites must be the basis of a bridge on a day it is in force.
BRIDGE_LAW = {
    "ukpga/2014/23/section/3": dt.date.today(), "ukpga/2014/23/section/6": dt.date.today(),
    "ukpga/2014/23/section/7": dt.date.today(), "ukpga/2014/23/section/23": dt.date.today(),
    "ukpga/2014/23/section/74": dt.date.today(), "ukpga/2014/23/schedule/3": dt.date(2016, 1, 1),
    "ukpga/2006/41/section/82": dt.date.today(), "ukpga/2006/41/section/14Z42": dt.date.today(),
    "ukpga/1996/52/section/213B": dt.date.today(), "ukpga/1983/20/section/117": dt.date.today(),
}


def test_bridges_include_the_duties_that_tie_sectors_in_law(store):
    cited = {law["uri"] for d in alignment.knowledge(store).duties.values() for law in d.basis}
    checked = 0
    for provision, day in BRIDGE_LAW.items():
        uri = "http://www.legislation.gov.uk/id/" + provision
        if uri not in cited:
            continue
        checked += 1
        bridges = alignment.bridges(store, day)
        assert any(law["uri"] == uri for b in bridges for law in b["law"]), provision
    assert checked >= 8
    network = alignment.network(store, dt.date.today())
    assert {(e["source"], e["target"]) for e in network["edges"]} == {
        ("care", "health"), ("care", "housing"), ("health", "housing")}


def test_curated_changes_name_the_successions_and_their_law(store):
    found = alignment.changes(store, dt.date(2012, 1, 1), dt.date(2023, 1, 1))
    successions = {(c["from_body"]["id"], c["to_body"]["id"]) for c in found if c["kind"] == "succession"}
    assert {("gscc", "hcpc"), ("hcpc", "swe"), ("ccg", "icb")} <= successions
    found = alignment.changes(store, dt.date(2015, 1, 1), dt.date(2023, 1, 1))    # CCGs held duties from 2013
    to_icb = [c for c in found if c["kind"] == "duty-passed" and [b["id"] for b in c["to_body"]] == ["icb"]]
    assert to_icb and all(any("Health and Care Act 2022" in law["label"] for law in c["law"]) for c in to_icb)


def test_csv_tables_and_figures(store, tmp_path):
    day = dt.date.today()
    result = alignment.alignment(store, day, dt.date(2012, 1, 1), day)
    written = exports.alignment_tables(result, tmp_path)
    assert {p.name for p in written} == {"matrix.csv", "bridges.csv", "gaps.csv", "overlaps.csv",
                                          "single_points_of_failure.csv", "changes.csv"}
    for path in written:
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert header == ",".join(exports.COLUMNS[path.name])
    assert len((tmp_path / "bridges.csv").read_text(encoding="utf-8").splitlines()) == len(result["bridges"]) + 1
    pictures = figures.heatmap(store, day, tmp_path) + figures.sector_network(store, day, tmp_path)
    assert {p.name for p in pictures} == {"alignment-heatmap.svg", "alignment-heatmap.png", "sector-network.svg"}
    for path in pictures:
        data = path.read_bytes()
        assert len(data) > 5000
        assert data.startswith(b"\x89PNG") if path.suffix == ".png" else b"<svg" in data[:2000]


# -- CLI, API and page agree ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(store):
    with TestClient(create_app(store)) as test_client:
        yield test_client


def _cli(*args: str) -> dict:
    out = io.StringIO()
    assert main(list(args), out) == 0
    return json.loads(out.getvalue())


def test_cli_api_and_page_agree_with_dates(client):
    day, start, end = "2020-01-01", "2012-01-01", "2023-01-01"
    from_cli = _cli("alignment", "--json", "--as-of", day, "--from", start, "--to", end)
    response = client.get("/alignment", params={"as_of": day, "from": start, "to": end})
    assert response.status_code == 200
    from_api = response.json()
    assert from_cli == from_api
    assert from_api["as_of"] == day and from_api["changes"]["from"] == start
    page = client.get("/pages/alignment", params={"as_of": day, "from": start, "to": end}).text
    assert re.search(r'id="as-of">([^<]+)<', page).group(1) == day
    assert int(re.search(r'id="bridge-count">(\d+)<', page).group(1)) == len(from_api["bridges"])
    assert int(re.search(r'id="gap-count">(\d+)<', page).group(1)) == len(from_api["gaps"])
    assert int(re.search(r'id="overlap-count">(\d+)<', page).group(1)) == len(from_api["overlaps"])
    assert int(re.search(r'id="change-count">(\d+)<', page).group(1)) == len(from_api["changes"]["items"])
    for cell in from_api["matrix"]["cells"]:
        shown = re.search(rf'id="cell-{cell["theme"]}-{cell["sector"]}"[^>]*>(\d+)<', page).group(1)
        assert int(shown) == cell["count"]
    for edge in from_api["network"]["edges"]:
        assert f'id="edge-{edge["source"]}-{edge["target"]}">{edge["bridges"]}<' in page
    # A different date gives a different answer, the same way everywhere.
    earlier = client.get("/alignment", params={"as_of": "2015-06-01"}).json()
    assert earlier["matrix"] != from_api["matrix"]
    assert "changes" not in earlier
    assert earlier == _cli("alignment", "--json", "--as-of", "2015-06-01")


def test_bad_dates_are_plain_errors(client, capsys):
    assert client.get("/alignment", params={"from": "2020-01-01"}).status_code == 400
    assert client.get("/alignment", params={"as_of": "soon"}).status_code == 400
    assert client.get("/pages/alignment", params={"from": "2021-01-01", "to": "2020-01-01"}).status_code == 400
    assert main(["alignment", "--from", "2021-01-01"], io.StringIO()) == 2
    assert "give both" in capsys.readouterr().err


def test_alignment_is_in_the_openapi(client):
    spec = client.get("/openapi.json").json()
    params = {p["name"] for p in spec["paths"]["/alignment"]["get"]["parameters"]}
    assert params == {"as_of", "from", "to"}
    assert "/councils/{council}/quality" in spec["paths"]


def test_cli_text_and_csv(tmp_path):
    out = io.StringIO()
    assert main(["alignment", "--as-of", "2023-01-01", "--csv", str(tmp_path)], out) == 0
    text = out.getvalue()
    assert "Alignment of housing, health and care duties as of 2023-01-01" in text and "Bridges:" in text
    assert (tmp_path / "matrix.csv").is_file() and not (tmp_path / "changes.csv").exists()
