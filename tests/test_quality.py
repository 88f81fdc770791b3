"""Quality by place: a small export with known ratings and beds; the real extracts in
../shared/data (skipped when absent) checked against counts taken straight from their CSV and
JSON files; the chart drawn; CLI, API and the council page show the same numbers."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import html
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES, fresh_curated
from caregraph import exports, figures, places, quality
from caregraph.api.app import create_app
from caregraph.cli import main
from caregraph.importers.run import import_source

DAY = dt.date(2025, 7, 1)
EXPORT = FIXTURES / "quality" / "25_June_2025_quality_export.csv"
POOR = {"requires improvement", "inadequate"}
RATED = POOR | {"good", "outstanding"}


@functools.cache
def _imported(*sources: tuple[str, str]):
    store = fresh_curated()
    for source, path in sources:
        import_source(store, source, Path(path), progress=io.StringIO())
    return store


@pytest.fixture(scope="module")
def small():
    return _imported(("cqc-export", str(EXPORT)))


def test_council_figures_on_a_small_export(small):
    leeds = quality.council_quality(small, "Leeds", DAY)
    assert leeds["area"]["id"] == "E08000035"
    assert (leeds["locations"], leeds["rated"], leeds["inadequate_or_requires_improvement"]) == (5, 4, 2)
    assert leeds["ratings"] == {"Outstanding": 1, "Good": 1, "Requires improvement": 1, "Inadequate": 1,
                                "Not rated": 1}                     # the home closed in 2019 is not counted
    assert leeds["share_inadequate_or_requires_improvement"] == 0.5
    assert (leeds["beds"], leeds["beds_in_inadequate_or_requires_improvement"]) == (60, 60)
    assert leeds["england"]["locations"] == 8 and leeds["england"]["share_inadequate_or_requires_improvement"] == 0.4286
    assert leeds["difference_points"] == 7.1
    services = {s["service_type"]["id"]: s for s in leeds["service_types"]}
    assert set(services) == {"care-home-nursing", "care-home", "home-care", "shared-lives", "supported-living"}
    assert services["home-care"]["locations"] == 2 and services["home-care"]["rated"] == 1
    assert services["care-home-nursing"]["england_share"] == 0.5     # Leeds's Inadequate and Bradford's Good
    bradford = quality.council_quality(small, "E08000032", DAY)
    assert (bradford["locations"], bradford["inadequate_or_requires_improvement"], bradford["beds"],
            bradford["beds_in_inadequate_or_requires_improvement"]) == (3, 1, 40, 10)


def test_national_figures_by_service_type(small):
    england = quality.national(small, DAY)
    assert (england["locations"], england["rated"], england["inadequate_or_requires_improvement"]) == (8, 7, 3)
    nursing = next(s for s in england["service_types"] if s["service_type"]["id"] == "care-home-nursing")
    assert nursing["service_type"]["label"] == "Nursing homes"
    assert (nursing["locations"], nursing["inadequate_or_requires_improvement"], nursing["beds"]) == (2, 1, 70)
    table = quality.councils_table(small, DAY)
    assert [(r["council"]["id"], r["locations"]) for r in table] == [("E08000035", 5), ("E08000032", 3)]


def test_dates_decide_what_counts(small):
    # The register describes 25 June 2025: it says nothing about earlier days.
    assert quality.national(small, dt.date(2024, 1, 1))["locations"] == 0
    assert quality.council_quality(small, "Leeds", dt.date(2025, 6, 25))["locations"] == 5


def test_unknown_places_and_missing_registers_are_plain_errors(small, store):
    with pytest.raises(quality.QualityError, match="no council"):
        quality.council_quality(small, "Atlantis", DAY)
    with pytest.raises(quality.QualityError, match="no CQC register is imported"):
        quality.national(store, DAY)


def test_who_must_act_when_a_service_fails(small):
    acts = quality.who_acts(small, "Leeds", DAY)
    themes = {t for entry in acts for t in entry["themes"]}
    assert {"enforcement", "market-shaping", "provider-failure", "safeguarding"} <= themes
    bodies = {(t, b["label"]) for entry in acts for t in entry["themes"] for b in entry["bodies"]}
    assert ("enforcement", "Care Quality Commission") in bodies
    assert ("market-shaping", "Leeds City Council") in bodies
    assert ("provider-failure", "Leeds City Council") in bodies
    assert any(t == "safeguarding" and "Safeguarding Adults Board" in label for t, label in bodies)


def test_chart_query_agrees_with_the_library_and_the_chart_is_drawn(small, tmp_path):
    counts = quality.chart_counts(small, DAY)
    for row in quality.councils_table(small, DAY):
        assert counts[row["council"]["label"]] == row["ratings"]
    paths = figures.quality_chart(small, DAY, tmp_path, min_rated=1)
    assert {p.name for p in paths} == {"quality-by-council.svg", "quality-by-council.png"}
    assert all(p.stat().st_size > 5000 for p in paths)
    written = exports.quality_tables(tmp_path, quality.councils_table(small, DAY), quality.national(small, DAY))
    rows = list(csv.DictReader(open(tmp_path / "quality_councils.csv", encoding="utf-8")))
    assert [(r["gss"], r["inadequate"], r["beds"]) for r in rows] == [("E08000035", "1", "60"), ("E08000032", "0", "40")]
    assert {p.name for p in written} == {"quality_councils.csv", "quality_service_types.csv"}


def test_cli_api_and_page_agree(small, tmp_path):
    store_path = tmp_path / "store"
    assert main(["--store", str(store_path), "import", "cqc-export", str(EXPORT)], io.StringIO()) == 0
    out = io.StringIO()
    assert main(["--store", str(store_path), "quality", "--council", "Leeds", "--as-of", DAY.isoformat(), "--json"],
                out) == 0
    from_cli = json.loads(out.getvalue())
    with TestClient(create_app(small)) as client:
        from_api = client.get("/councils/Leeds/quality", params={"as_of": DAY.isoformat()}).json()
        page = client.get("/pages/councils/E08000035", params={"as_of": DAY.isoformat()}).text
        assert client.get("/councils/Atlantis/quality").status_code == 404
        national = client.get("/quality", params={"as_of": DAY.isoformat()}).json()
    assert from_cli == from_api
    area = from_api["quality"]
    for field, key in (("locations", "locations"), ("rated", "rated"), ("poor", "inadequate_or_requires_improvement"),
                       ("beds", "beds"), ("poor-beds", "beds_in_inadequate_or_requires_improvement")):
        assert int(re.search(rf'id="{field}">(\d+)<', page).group(1)) == area[key]
    assert re.search(r'id="share">([\d.]+)%<', page).group(1) == f"{area['share_inadequate_or_requires_improvement'] * 100:.1f}"
    for entry in from_api["who_acts"]:
        assert html.unescape(f">{entry['duty']['label']}<") in html.unescape(page)
    assert national["locations"] == 8 and len(national["councils"]) == 2
    text = io.StringIO()
    assert main(["--store", str(store_path), "quality", "--council", "Leeds", "--as-of", DAY.isoformat()], text) == 0
    assert "rated Inadequate or Requires improvement: 2 of 4 rated (50.0%); England 42.9%, +7.1 points" in text.getvalue()


# -- the real extracts ---------------------------------------------------------------------------------

def _direct_export(path: Path) -> dict[str, dict]:
    """Per local-authority name in the file: locations by rating, and beds in poorly rated homes."""
    found: dict[str, dict] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rating = row["Location Latest Overall Rating"].strip().lower()
            entry = found.setdefault(row["Location Local Authority"], {"ratings": Counter(), "poor_beds": 0, "beds": 0})
            entry["ratings"][rating if rating in RATED else "not rated"] += 1
            beds = int(row["Care homes beds"]) if row["Care homes beds"].strip().isdigit() else 0
            entry["beds"] += beds
            entry["poor_beds"] += beds if rating in POOR else 0
    return found


def _ours(area: dict) -> tuple:
    return ({k.lower(): v for k, v in area["ratings"].items() if v}, area["beds"],
            area["beds_in_inadequate_or_requires_improvement"])


def test_ratings_by_council_match_the_2025_export(shared_data):
    path = shared_data / "cqc/mooperd_cqc-companies/Locations-head.csv"
    store = _imported(("cqc-export", str(path)))
    day = dt.date.today()
    direct = _direct_export(path)
    index = places.councils(store)
    checked = 0
    for name, entry in direct.items():
        council, _ = index.resolve(name, day, social_services=True)
        area = quality.council_quality(store, council.gss, day)
        assert _ours(area) == ({k: v for k, v in entry["ratings"].items() if v}, entry["beds"], entry["poor_beds"]), name
        checked += 1
    assert checked == len(direct) >= 140
    england = quality.national(store, day)
    assert england["locations"] == sum(sum(e["ratings"].values()) for e in direct.values()) == 999
    assert england["inadequate_or_requires_improvement"] == sum(
        e["ratings"][r] for e in direct.values() for r in POOR) == 101
    chart = quality.chart_counts(store, day)
    assert sum(sum(c.values()) for c in chart.values()) == 999


def _direct_api(folder: Path) -> dict[str, dict]:
    """The detail records of the CQC API download, one per location id (as the importer merges them)."""
    records: dict[str, dict] = {}
    for path in sorted(folder.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for record in data if isinstance(data, list) else [data]:
            if isinstance(record, dict) and "locationId" in record and record.get("organisationType", "Location") \
                    == "Location":
                records[record["locationId"]] = record
    return records


def test_ratings_in_oldham_and_its_icb_match_the_api_records(shared_data):
    folder = shared_data / "cqc/oldham_cqc_api_v1"
    store = _imported(("cqc-api", str(folder)))
    day = dt.date.today()
    live = [r for r in _direct_api(folder).values()
            if not r.get("deregistrationDate") or dt.date.fromisoformat(r["deregistrationDate"]) >= day]
    ratings: Counter = Counter()
    beds = poor_beds = 0
    for record in live:
        rating = ((record.get("currentRatings") or {}).get("overall") or {}).get("rating", "").lower()
        ratings[rating if rating in RATED else "not rated"] += 1
        n = int(record.get("numberOfBeds") or 0)
        beds, poor_beds = beds + n, poor_beds + (n if rating in POOR else 0)
    by_council = Counter(r["localAuthority"] for r in live)
    oldham = quality.council_quality(store, "Oldham", day)
    assert oldham["locations"] == by_council["Oldham"]
    england = quality.national(store, day)
    assert _ours(england) == ({k: v for k, v in ratings.items() if v}, beds, poor_beds)
    icb_code = Counter(r.get("onspdIcbCode") for r in live).most_common(1)[0][0]
    icb = quality.icb_quality(store, icb_code, day)
    assert icb["locations"] == sum(1 for r in live if r.get("onspdIcbCode") == icb_code) > 100


def test_the_chart_query_picks_the_same_record_as_the_library_across_imports(shared_data):
    # The 2025 export and the API download both describe today and share Oldham's locations.
    store = _imported(("cqc-export", str(shared_data / "cqc/mooperd_cqc-companies/Locations-head.csv")),
                      ("cqc-api", str(shared_data / "cqc/oldham_cqc_api_v1")))
    day = dt.date.today()
    counts = quality.chart_counts(store, day)
    table = quality.councils_table(store, day)
    assert {row["council"]["label"]: row["ratings"] for row in table} == counts
    assert sum(row["locations"] for row in table) == quality.national(store, day)["locations"]
