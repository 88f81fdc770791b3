"""The importers on the real extracts in ../shared/data (skipped when absent): every skipped
row explained, 2025 locations each in exactly one of the 153 councils, API locations in
their ICB, the 2016 directory's abolished councils as they were, the 122-column "care
directory with filters" spreadsheet layout, the shapes met, the geography rebuilt exactly
from the ONS and mySociety files, and the acceptance question."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
from pathlib import Path

import pytest

from conftest import fresh_curated, write_ods
from caregraph import places
from caregraph.importers import geography
from caregraph.importers.run import import_source
from caregraph.resources import ontology_dir

EXTRACTS = {
    "directory-2016": ("cqc-directory", "cqc/blablupcom_rteed_cqc_directory_2016-02_7000rows_noheader.csv"),
    "export-2025": ("cqc-export", "cqc/mooperd_cqc-companies/Locations-head.csv"),
    "directory-2025": ("cqc-directory", "cqc/mooperd_cqc-companies/output-head.csv"),
    "api-2025": ("cqc-api", "cqc/oldham_cqc_api_v1"),
    "trusts": ("ods", "nhs_ods/etr.csv"),
    "sub-icbs": ("ods", "nhs_ods/eccg.csv"),
}
# Every row the importers leave out of the real extracts, and why: none is caregraph's fault.
EXPECTED_SKIPS = {
    "directory-2025": {"line 379": "gives no local authority"},          # CQC left the column blank
    "trusts": {"line 151": "not an English NHS body", "line 172": "not an English NHS body",
               "line 269": "not an English NHS body"},                       # the three Welsh trusts
}
COUNCIL = "https://w3id.org/caregraph/id/council/"
CG = "https://w3id.org/caregraph/def#"


@functools.cache
def imported(name: str, data: str):
    store = fresh_curated()
    source, path = EXTRACTS[name]
    report = import_source(store, source, Path(data) / path, progress=io.StringIO())
    return store, report


def councils_of_locations(store, graph: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for row in store.query(f"""PREFIX cg: <{CG}> SELECT ?l ?c WHERE {{ GRAPH <{graph}> {{
            ?l a cg:CareLocation OPTIONAL {{ ?l cg:council ?c }} }} }}"""):
        found.setdefault(row["l"].value.rsplit("/", 1)[-1], set())
        if row["c"] is not None:
            found[row["l"].value.rsplit("/", 1)[-1]].add(row["c"].value.removeprefix(COUNCIL))
    return found


def current_councils(store) -> set[str]:
    return {c.gss for c in places.councils(store).by_iri.values() if c.social_services and c.valid_to is None}


@pytest.mark.parametrize("name", sorted(EXTRACTS))
def test_every_skipped_row_is_explained(shared_data, name):
    _, report = imported(name, str(shared_data))
    assert report.rows_read > 0
    skipped = {s.where: s.reason for s in report.skipped}
    expected = EXPECTED_SKIPS.get(name, {})
    assert set(skipped) == set(expected)
    for where, reason in expected.items():
        assert reason in skipped[where]
    assert report.rows_linked == report.rows_read - len(report.skipped)


@pytest.mark.parametrize("name, id_column", [("export-2025", "Location ID"),
                                             ("directory-2025", "CQC Location ID (for office use only)")])
def test_every_2025_location_links_to_exactly_one_of_the_153_councils(shared_data, name, id_column):
    store, report = imported(name, str(shared_data))
    linked = councils_of_locations(store, report.graph)
    with open(shared_data / EXTRACTS[name][1], encoding="utf-8-sig", newline="") as fh:
        in_file = {r[id_column] for r in csv.DictReader(fh) if r[id_column]}
    skipped_ids = {s.reason.split()[1] for s in report.skipped}
    assert set(linked) == in_file - skipped_ids
    valid = current_councils(store)
    assert len(valid) == 153
    assert all(len(c) == 1 and c <= valid for c in linked.values())


def test_every_api_location_links_to_its_council_and_its_icb(shared_data):
    store, report = imported("api-2025", str(shared_data))
    linked = councils_of_locations(store, report.graph)
    icbs = {r["l"].value.rsplit("/", 1)[-1]: r["i"].value for r in store.query(
        f"PREFIX cg: <{CG}> SELECT ?l ?i WHERE {{ GRAPH <{report.graph}> {{ ?l cg:icb ?i }} }}")}
    folder = shared_data / EXTRACTS["api-2025"][1] / "location_details"
    records = [json.loads(p.read_text()) for p in folder.glob("*.json")]
    assert len(records) == 451
    for record in records:
        assert linked[record["locationId"]] == {"E08000004"}      # Oldham
        if record.get("onspdIcbCode"):
            assert icbs[record["locationId"]] == "https://w3id.org/caregraph/id/icb/" + record["onspdIcbCode"]
        else:
            assert record["locationId"] not in icbs


def test_the_2016_directory_links_abolished_councils_as_they_were(shared_data):
    store, report = imported("directory-2016", str(shared_data))
    assert report.as_of == dt.date(2016, 2, 1)
    linked = councils_of_locations(store, report.graph)
    expected = {"Cumbria": "E10000006", "Northamptonshire": "E10000021", "Poole": "E06000029",
                "Bournemouth": "E06000028", "Dorset": "E10000009", "Buckinghamshire": "E10000002",
                "North Yorkshire": "E10000023", "Somerset": "E10000027"}
    with open(shared_data / EXTRACTS["directory-2016"][1], encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh) if r[10] in expected]
    assert len(rows) > 400
    for row in rows:
        assert linked[row[13]] == {expected[row[10]]}, row[:1] + row[10:11]
    # Everything else links to a council that existed in February 2016.
    index = places.councils(store)
    assert all(index.by_gss[c].exists_on(report.as_of) for cs in linked.values() for c in cs)


@pytest.mark.parametrize("name", sorted(EXTRACTS))
def test_the_real_extracts_meet_the_linked_record_shapes(shared_data, name):
    validation = pytest.importorskip("caregraph.validation")
    store, report = imported(name, str(shared_data))
    result = validation.validate(store)
    assert result.conforms, [(r.focus_node, r.message) for r in result.results][:5]


def test_all_the_real_extracts_in_one_store_meet_the_shapes(shared_data):
    """Homes that changed council between 2016 and 2025 (Poole's into BCP, say) are right in
    each dated import: the shapes check each import as the register of its own date."""
    validation = pytest.importorskip("caregraph.validation")
    store = fresh_curated()
    for source, path in EXTRACTS.values():
        import_source(store, source, shared_data / path, progress=io.StringIO())
    result = validation.validate(store)
    assert result.conforms, [(r.focus_node, r.message) for r in result.results][:5]


def test_the_geography_importer_rebuilds_the_shipped_files_exactly(shared_data, tmp_path):
    built = geography.build(geography.find_sources(shared_data / "ons"))
    assert not built.notes
    for path in geography.write(built, tmp_path):
        shipped = ontology_dir() / "geography" / path.name
        assert path.read_text(encoding="utf-8") == shipped.read_text(encoding="utf-8")


def test_who_to_tell_about_abuse_at_a_real_care_home(shared_data):
    store, _ = imported("export-2025", str(shared_data))
    with open(shared_data / EXTRACTS["export-2025"][1], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = [r["Location Name"] for r in rows]
    home = next(r for r in rows if r["Service Types"] == "Care home service with nursing"
                and names.count(r["Location Name"]) == 1)
    # As a person asks: by the home's name, which says nothing about duties; the place says it is a care home.
    response = places.ask(store, f"who do I tell about abuse at {home['Location Name']}",
                          location=home["Location Name"])
    assert response.place.id == home["Location ID"] and "(care home)" in response.matched_as
    bodies = {b["role"]: b for b in response.bodies}
    assert bodies["registered-provider"]["label"] == home["Provider Name"]
    council = bodies["council-social-services"]
    assert council["kind"] == "local" and council["id"] in current_councils(store)
    assert any("accountable" in d["raci"] and any(b["label"] == "Care Act 2014 s.42" for b in d["legal_basis"])
               for d in council["duties"])
    cqc = bodies["cqc"]
    assert cqc["duties"] or cqc["oversees"]
    assert all(d["legal_basis"] for b in response.bodies for d in b["duties"])


def test_the_care_directory_with_filters_layout_reads_the_2025_locations(shared_data, tmp_path):
    """The real 122 headers of HSCA_Active_Locations (header on row 7, after the title block of
    older editions), filled from the 2025 export's rows: every location links as the CSV does."""
    header = (shared_data / "schemas/hsca_active_locations_headers.txt").read_text(encoding="utf-8").splitlines()
    assert len(header) == 122
    with open(shared_data / EXTRACTS["export-2025"][1], encoding="utf-8-sig", newline="") as fh:
        export = list(csv.DictReader(fh))
    same = {h: h for h in header if h in export[0]}
    assert {"Location ID", "Location Name", "Location Local Authority", "Provider ID", "Provider Name"} <= set(same)
    rows = [["Care directory with filters"], [], [], [], [], [], header]
    for record in export:
        services = {s.strip() for s in record["Service Types"].split(",")}
        rows.append([record[same[h]] if h in same else
                     "Y" if h.startswith("Service type - ") and h.removeprefix("Service type - ") in services else ""
                     for h in header])
    path = write_ods(tmp_path / "01_March_2025_HSCA_Active_Locations.ods", rows)
    store = fresh_curated()
    report = import_source(store, "cqc-export", path, progress=io.StringIO())
    assert report.as_of == dt.date(2025, 3, 1)
    assert (report.rows_read, report.rows_linked, report.skipped) == (len(export), len(export), [])
    csv_store, csv_report = imported("export-2025", str(shared_data))
    assert councils_of_locations(store, report.graph) == councils_of_locations(csv_store, csv_report.graph)

    def service_types(store, graph: str) -> set[tuple[str, str]]:
        return {(r["l"].value, r["t"].value) for r in store.query(
            f"PREFIX cg: <{CG}> SELECT ?l ?t WHERE {{ GRAPH <{graph}> {{ ?l cg:serviceType ?t }} }}")}
    assert service_types(store, report.graph) == service_types(csv_store, csv_report.graph)
