"""Importers on fixtures the project makes (tests/fixtures/registers): preamble lines, header
drift, the headerless 2016 layout, exports, API JSON and ODS extracts; skipped rows with
their line and reason; names kept out unless asked; atomic, repeatable replacement; broken
files failing cleanly with the line and leaving the previous import intact."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import fresh_curated, write_ods
from caregraph.build import open_store
from caregraph.cli import main
from caregraph.importers.common import ImportFailed, csv_records, parse_date, text_date
from caregraph.importers.run import import_source
from caregraph.namespaces import PROV

REGISTERS = Path(__file__).resolve().parent / "fixtures" / "registers"
DIRECTORY_2026 = REGISTERS / "16_September_2026_CQC_directory.csv"
DIRECTORY_2020 = REGISTERS / "15_April_2020_CQC_directory.csv"
DIRECTORY_2016 = REGISTERS / "cqc_directory_2016-02_noheader.csv"
EXPORT = REGISTERS / "asc_locations_export.csv"
COUNCIL = "https://w3id.org/caregraph/id/council/"
LOCATION = "https://w3id.org/caregraph/id/location/"
CG = "https://w3id.org/caregraph/def#"




def run(store, source, path, **kw):
    return import_source(store, source, path, progress=io.StringIO(), **kw)


def objects(store, subject: str, predicate: str) -> set[str]:
    return {q.object.value for q in store.raw.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None)}


def graph_triples(store, graph: str) -> set:
    return set(store.triples(graph))


def council_of(store, location_id: str) -> set[str]:
    return {c.removeprefix(COUNCIL) for c in objects(store, LOCATION + location_id, CG + "council")}


# -- reading -----------------------------------------------------------------------

def test_title_lines_before_the_header_are_skipped_and_give_the_date():
    store = fresh_curated()
    report = run(store, "cqc-directory", DIRECTORY_2026)
    assert report.as_of == dt.date(2026, 9, 16) and "title line 3" in report.as_of_from
    assert (report.rows_read, report.rows_linked) == (6, 4)
    assert report.graph.endswith("/graph/import/cqc-directory/CQC_directory")
    assert council_of(store, "1-100000001") == {"E08000035"}          # Leeds
    assert council_of(store, "1-100000002") == {"E06000063"}          # Cumberland
    assert objects(store, LOCATION + "1-100000001", CG + "postcode") == {"LS1 4AP"}


def test_every_skipped_row_is_reported_with_its_line_and_reason():
    report = run(fresh_curated(), "cqc-directory", DIRECTORY_2026)
    skipped = {s.where: s.reason for s in report.skipped}
    # A quoted address over two lines (lines 7-8) moves every later row down a line.
    assert set(skipped) == {"line 10", "line 11"}
    assert "no council with adult social services responsibilities called 'Narnia'" in skipped["line 10"]
    assert "bad CQC location id 'X-1'" in skipped["line 11"]


def test_header_drift_of_2020_is_read_by_prefix():
    store = fresh_curated()
    report = run(store, "cqc-directory", DIRECTORY_2020)
    assert report.rows_linked == 2 and report.as_of == dt.date(2020, 4, 15)
    assert council_of(store, "1-100000021") == {"E06000058"}   # BCP
    assert council_of(store, "1-100000022") == {"E10000021"}   # Northamptonshire County Council, April 2020


def test_headerless_2016_rows_link_to_the_councils_that_existed_then():
    store = fresh_curated()
    report = run(store, "cqc-directory", DIRECTORY_2016)
    assert report.as_of == dt.date(2016, 2, 1) and not report.skipped
    assert council_of(store, "1-100000031") == {"E10000006"}   # Cumbria County Council
    assert council_of(store, "1-100000032") == {"E06000029"}   # Borough of Poole
    assert council_of(store, "1-100000022") == {"E10000021"}   # Northamptonshire
    assert council_of(store, "1-100000033") == {"E10000009"}   # Dorset County Council
    assert council_of(store, "1-100000034") == {"E06000022"}   # "Bath & N E Somerset"
    assert council_of(store, "1-100000035") == {"E09000001"}   # "Corporation of London"
    # Regulated activities named among the 2016 specialisms become concepts.
    assert objects(store, LOCATION + "1-100000022", CG + "regulatedActivity") == {
        "https://w3id.org/caregraph/id/regulated-activity/nursing-care",
        "https://w3id.org/caregraph/id/regulated-activity/treatment"}


def test_abolished_council_names_after_the_change_follow_a_single_successor_or_are_skipped():
    store = fresh_curated()
    report = run(store, "cqc-directory", DIRECTORY_2016, as_of=dt.date(2025, 1, 1))
    assert council_of(store, "1-100000032") == {"E06000058"}   # Poole -> BCP, its only successor
    assert any("Poole" in n and "linked there" in n for n in report.notes)
    reasons = {s.where: s.reason for s in report.skipped}
    assert "Cumberland Council (E06000063) or Westmorland and Furness Council (E06000064)" in reasons["line 1"]


def test_export_ratings_lists_dates_and_the_registered_manager_role():
    store = fresh_curated()
    report = run(store, "cqc-export", EXPORT)
    assert [s.where for s in report.skipped] == ["line 4"] and "no local authority" in report.skipped[0].reason
    home = LOCATION + "1-100000001"
    assert objects(store, home, CG + "overallRating") == {"Requires improvement"}
    assert objects(store, home, CG + "serviceType") == {"Care home service without nursing",
                                                        "Care home service with nursing"}
    assert objects(store, LOCATION + "1-100000041", CG + "serviceType") == {
        "Hospital services for people with mental health needs, learning disabilities and problems with "
        "substance misuse"}
    assert council_of(store, "1-100000041") == {"E06000055"}   # "Bedford Borough"
    assert objects(store, home, CG + "validFrom") == {"2012-03-01"}
    post = home + "/registered-manager"
    assert objects(store, post, "http://www.w3.org/ns/org#role") == {"https://w3id.org/caregraph/id/actor/registered-manager"}
    everything = " ".join(str(t) for t in store.triples(report.graph))
    assert "Example" not in everything


def test_names_are_stored_only_with_names_asked_for():
    store = fresh_curated()
    run(store, "cqc-export", EXPORT, with_names=True)
    holder = LOCATION + "1-100000001/registered-manager/holder"
    assert objects(store, holder, "http://xmlns.com/foaf/0.1/name") == {"Example, Ann, Mrs"}


HSCA_HEADER = ["Location ID", "Location Name", "Location Postal Code", "Location Local Authority",
               "Location Latest Overall Rating", "Provider ID", "Provider Name", "Provider Nominated Individual Name",
               "Regulated activity - Personal care", "Regulated activity - Nursing care",
               "Service type - Domiciliary care service", "Service type - Care home service with nursing"]


def test_care_directory_with_filters_spreadsheet_with_flag_columns_and_a_title_block(tmp_path):
    rows = [["Care directory with filters"], [], [], [], [], [], HSCA_HEADER,
            ["1-100000051", "Roundhay Nursing", "LS8 1AA", "Leeds", "Outstanding", "1-200000051", "Roundhay Ltd",
             "Mr Nominated", "", "Y", "", "Y"],
            ["1-100000052", "Home Helpers", "LS9 1AA", "Leeds", "", "1-200000051", "Roundhay Ltd", "Mr Nominated",
             "Y"]]
    path = write_ods(tmp_path / "01_November_2026_HSCA_Active_Locations.ods", rows)
    store = fresh_curated()
    report = run(store, "cqc-export", path)
    assert report.as_of == dt.date(2026, 11, 1) and (report.rows_read, report.rows_linked) == (2, 2)
    nursing = LOCATION + "1-100000051"
    assert objects(store, nursing, CG + "regulatedActivity") == {
        "https://w3id.org/caregraph/id/regulated-activity/nursing-care"}
    assert objects(store, nursing, CG + "serviceType") == {"Care home service with nursing"}
    assert objects(store, LOCATION + "1-100000052", CG + "regulatedActivity") == {
        "https://w3id.org/caregraph/id/regulated-activity/personal-care"}
    assert objects(store, "https://w3id.org/caregraph/id/provider/1-200000051/nominated-individual",
                   "http://www.w3.org/ns/org#role") == {"https://w3id.org/caregraph/id/actor/nominated-individual"}


def test_a_deregistered_location_links_to_the_council_of_its_last_day(tmp_path):
    folder = tmp_path / "api"
    folder.mkdir()
    record = {"locationId": "1-100000061", "providerId": "1-200000061", "organisationType": "Location",
              "name": "Fellside House", "localAuthority": "Cumbria", "registrationDate": "2011-01-01"}
    (folder / "location_1-100000061.json").write_text(json.dumps({**record, "deregistrationDate": "2020-06-30"}))
    (folder / "location_1-100000062.json").write_text(json.dumps({**record, "locationId": "1-100000062"}))
    store = fresh_curated()
    report = run(store, "cqc-api", folder, as_of=dt.date(2026, 1, 5))
    assert council_of(store, "1-100000061") == {"E10000006"}          # Cumbria County Council, as it then was
    # Still registered in 2026 under a council that ended in 2023: the register must name a successor.
    assert [s.where for s in report.skipped] == ["location_1-100000062.json"]
    assert "Cumberland" in report.skipped[0].reason and "Westmorland and Furness" in report.skipped[0].reason


def test_a_spreadsheet_without_the_data_sheet_fails_plainly(tmp_path):
    path = write_ods(tmp_path / "export.ods", [HSCA_HEADER], sheet="Sheet1")
    with pytest.raises(ImportFailed, match="no sheet 'HSCA_Active_Locations'"):
        run(fresh_curated(), "cqc-export", path)


def test_api_records_link_icb_provider_names_and_trusts():
    store = fresh_curated()
    report = run(store, "cqc-api", REGISTERS / "api")
    assert (report.rows_read, report.rows_linked, report.skipped) == (4, 4, [])
    assert any("1-100000014" in n for n in report.notes)    # listed, never fetched
    court = LOCATION + "1-100000011"
    assert objects(store, court, CG + "icb") == {"https://w3id.org/caregraph/id/icb/E54000057"}
    assert objects(store, court, CG + "regulatedActivity") == {
        "https://w3id.org/caregraph/id/regulated-activity/personal-care",
        "https://w3id.org/caregraph/id/regulated-activity/accommodation-nursing-personal-care"}
    assert objects(store, LOCATION + "1-100000013", CG + "validTo") == {"2019-12-31"}
    trust_provider = "https://w3id.org/caregraph/id/provider/RT2"
    assert objects(store, trust_provider, "http://www.w3.org/2000/01/rdf-schema#label") == {
        "Pennine Care NHS Foundation Trust"}
    assert objects(store, trust_provider, "http://www.w3.org/2004/02/skos/core#exactMatch") == {
        "https://w3id.org/caregraph/id/trust/RT2"}
    everything = " ".join(str(t) for t in store.triples(report.graph))
    assert "Example" not in everything and "Sample" not in everything


def test_ods_extracts_link_trusts_to_icbs_and_skip_bodies_outside_england():
    store = fresh_curated()
    trusts = run(store, "ods", REGISTERS / "etr.csv")
    assert [(s.where, "not an English NHS body" in s.reason) for s in trusts.skipped] == [("line 3", True)]
    assert objects(store, "https://w3id.org/caregraph/id/trust/RT2", CG + "icb") == {
        "https://w3id.org/caregraph/id/icb/E54000057"}
    # A trust that closed before ICBs existed is kept with its dates, but belongs to no ICB.
    closed = "https://w3id.org/caregraph/id/trust/RW6"
    assert objects(store, closed, CG + "validTo") == {"2021-10-31"} and not objects(store, closed, CG + "icb")
    units = run(store, "ods", REGISTERS / "eccg.csv")
    assert units.rows_linked == 2
    assert objects(store, "https://w3id.org/caregraph/id/sub-icb/00Y", "http://www.w3.org/ns/org#unitOf") == {
        "https://w3id.org/caregraph/id/icb/E54000057"}
    assert objects(store, "https://w3id.org/caregraph/id/ccg/01W", CG + "validTo") == {"2020-03-31"}


def test_an_ods_file_of_unknown_kind_is_refused(tmp_path):
    path = tmp_path / "extract.csv"
    shutil.copy(REGISTERS / "etr.csv", path)
    with pytest.raises(ImportFailed, match="expected etr.csv"):
        run(fresh_curated(), "ods", path)


# -- provenance, repeatability, atomicity ---------------------------------------------

def test_each_import_records_source_date_licence_counts_and_time():
    store = fresh_curated()
    report = run(store, "cqc-directory", DIRECTORY_2026)
    graph = report.graph
    assert objects(store, graph, "http://purl.org/dc/terms/source") == {DIRECTORY_2026.name}
    assert objects(store, graph, "http://purl.org/dc/terms/date") == {"2026-09-16"}
    assert objects(store, graph, "http://purl.org/dc/terms/license") == {
        "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}
    assert any("Care Quality Commission" in r for r in objects(store, graph, "http://purl.org/dc/terms/rights"))
    assert objects(store, graph, CG + "rowsRead") == {"6"}
    assert objects(store, graph, CG + "rowsLinked") == {"4"}
    assert objects(store, graph, CG + "rowsSkipped") == {"2"}
    assert len(objects(store, graph, PROV + "generatedAtTime")) == 1


def test_reimporting_the_same_file_leaves_the_graph_unchanged_but_for_the_import_time():
    store = fresh_curated()
    first = run(store, "cqc-api", REGISTERS / "api")
    before = graph_triples(store, first.graph)
    second = run(store, "cqc-api", REGISTERS / "api")
    after = graph_triples(store, first.graph)
    changed = {t.predicate.value for t in before ^ after}
    assert changed <= {PROV + "generatedAtTime"}
    assert (second.added, second.removed) in ((0, 0), (1, 1))
    assert len(before) == len(after) == second.triples


def test_a_newer_file_replaces_the_older_one_and_changes_only_what_changed():
    store = fresh_curated()
    older = run(store, "cqc-directory", DIRECTORY_2020)
    newer = run(store, "cqc-directory", DIRECTORY_2026)
    assert older.graph == newer.graph     # the dated name is the same download, a week on
    assert not objects(store, LOCATION + "1-100000021", CG + "council")
    assert council_of(store, "1-100000001") == {"E08000035"}
    assert newer.removed > 0 and newer.added > 0


def _poole_2026(tmp_path: Path) -> Path:
    """A 2026 directory placing Poole's care home in BCP, with a new postcode."""
    path = tmp_path / "16_September_2026_CQC_directory.csv"
    path.write_text(
        "Name,Also known as,Address,Postcode,Phone number,Service's website (if available),Service types,"
        "Date of latest check,Specialisms/services,Provider name,Local authority,Region,Location URL,"
        "CQC Location ID (for office use only),CQC Provider ID (for office use only)\n"
        "Sandbanks Rest Home,,\"2 Shore Rd, Poole\",BH13 7AB,,,Residential homes,,,Harbour Care Ltd,"
        "\"Bournemouth, Christchurch and Poole\",South West,https://www.cqc.org.uk/location/1-100000032,"
        "1-100000032,1-200000021\n"
        "Pulteney Care,,\"4 Great Pulteney St, Bath\",BA2 4AA,,,Homecare agencies,,,Pulteney Ltd,"
        "Bath and North East Somerset,South West,https://www.cqc.org.uk/location/1-100000034,1-100000034,"
        "1-200000034\n", encoding="utf-8")
    return path


def test_an_import_notes_locations_another_dated_import_places_elsewhere(tmp_path):
    """Poole's care home in February 2016, and in BCP (with a new postcode) in 2026: both records
    are kept, each in its own dated graph, and the second import says where they differ."""
    store = fresh_curated()
    older = run(store, "cqc-directory", DIRECTORY_2016)
    newer = run(store, "cqc-directory", _poole_2026(tmp_path))
    assert council_of(store, "1-100000032") == {"E06000029", "E06000058"}   # Poole then, BCP now
    differing = [n for n in newer.notes if older.graph in n]
    assert len(differing) == 1 and differing[0].startswith("1 location(s)") and "1-100000032" in differing[0]
    assert "as of 2016-02-01" in differing[0] and "1-100000034" not in differing[0]


def test_each_dated_import_is_validated_as_the_register_of_its_date(tmp_path):
    """Poole then and BCP now is no violation; two councils within one import still is."""
    validation = pytest.importorskip("caregraph.validation")
    store = fresh_curated()
    run(store, "cqc-directory", DIRECTORY_2016)
    newer = run(store, "cqc-directory", _poole_2026(tmp_path))
    assert validation.validate(store).conforms
    assert validation.validate(store, focus=[LOCATION + "1-100000032"]).conforms   # in both imports
    store.update(f"INSERT DATA {{ GRAPH <{newer.graph}> {{ <{LOCATION}1-100000034> <{CG}council> "
                 f"<{COUNCIL}E06000029> }} }}")
    report = validation.validate(store)
    assert [(r.focus_node, r.result_path) for r in report.results] == [(LOCATION + "1-100000034", CG + "council")]
    # What is in no named graph (written by a SPARQL update) is checked with every import.
    store.update(f"INSERT DATA {{ <{LOCATION}1-100000032> <{CG}council> <{COUNCIL}E06000016> }}")
    assert {r.focus_node for r in validation.validate(store).results} == {LOCATION + "1-100000032",
                                                                          LOCATION + "1-100000034"}
    focused = validation.validate(store, focus=[LOCATION + "1-100000034"])
    assert [r.focus_node for r in focused.results] == [LOCATION + "1-100000034"]


def _copy_with(tmp_path: Path, source: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("damage, line, message", [
    (lambda b: b[: b.index(b"Kirkstall Court") + 40], 12, "truncated"),          # cut mid-row
    (lambda b: b.replace(b"Moor View,", b"Moor \xff\xfeView,"), 9, "not UTF-8"),   # corrupted bytes
    (lambda b: b[: b.index(b"Keswick")], 7, "truncated or corrupted"),           # inside a quoted field
    (lambda b: b.replace(b"Oldham,North West,", b"Oldham,", 1), 9, "expected 15 fields"),
])
def test_a_broken_file_fails_with_its_line_and_leaves_the_previous_import_intact(tmp_path, damage, line, message):
    store = fresh_curated()
    good = _copy_with(tmp_path, DIRECTORY_2026, "directory.csv", DIRECTORY_2026.read_bytes())
    first = run(store, "cqc-directory", good)
    kept = graph_triples(store, first.graph)
    quads = len(store)
    good.write_bytes(damage(DIRECTORY_2026.read_bytes()))
    with pytest.raises(ImportFailed) as failure:
        run(store, "cqc-directory", good)
    assert failure.value.line == line and message in str(failure.value)
    assert graph_triples(store, first.graph) == kept and len(store) == quads


def test_truncated_api_json_fails_with_its_line(tmp_path):
    folder = tmp_path / "api"
    shutil.copytree(REGISTERS / "api", folder)
    store = fresh_curated()
    first = run(store, "cqc-api", folder)
    kept = graph_triples(store, first.graph)
    record = folder / "location_1-100000011.json"
    record.write_bytes(record.read_bytes()[:300])
    with pytest.raises(ImportFailed) as failure:
        run(store, "cqc-api", folder)
    assert failure.value.line is not None and "location_1-100000011.json" in str(failure.value)
    assert graph_triples(store, first.graph) == kept


def test_imports_survive_a_rebuild_of_the_curated_graph(tmp_path):
    path = tmp_path / "store"
    store, _ = open_store(path)
    report = run(store, "cqc-api", REGISTERS / "api")
    kept = graph_triples(store, report.graph)
    del store
    store, built = open_store(path, rebuild=True)
    assert not built.reused
    assert graph_triples(store, report.graph) == kept
    from caregraph import places
    assert places.find_location(store, "Werneth Court").cqc_id == "1-100000011"


def test_imported_fixtures_pass_the_linked_record_shapes():
    validation = pytest.importorskip("caregraph.validation")
    store = fresh_curated()
    for source, path in (("cqc-directory", DIRECTORY_2026), ("cqc-export", EXPORT), ("cqc-api", REGISTERS / "api"),
                         ("ods", REGISTERS / "etr.csv"), ("ods", REGISTERS / "eccg.csv")):
        run(store, source, path)
    report = validation.validate(store)
    assert report.conforms, [r.message for r in report.results][:5]


# -- the command -------------------------------------------------------------------

def test_the_import_command_reports_skips_keeps_the_store_and_draws_progress_on_stderr(tmp_path, capsys):
    out = io.StringIO()
    code = main(["--store", str(tmp_path / "store"), "import", "cqc-directory", str(DIRECTORY_2026)], out)
    assert code == 0
    text = out.getvalue()
    assert "rows read 6, linked 4, skipped 2" in text and "skipped line 10:" in text
    assert "Not kept" not in text
    progress = [line for line in capsys.readouterr().err.splitlines() if "16_September_2026" in line]
    # Not a terminal: a line at each quarter (where the read crossed it), each with the rate.
    shares = [int(line.split(": ")[1].split("%")[0]) for line in progress]
    assert len(shares) == 4 and shares == sorted(shares) and shares[0] >= 25 and shares[-1] == 100
    assert all("MB/s" in line for line in progress)
    out = io.StringIO()
    assert main(["--store", str(tmp_path / "store"), "ask", "who do I tell about abuse at this care home",
                 "--location", "Aireside Care Home"], out) == 0
    assert "Aireside Care Ltd" in out.getvalue() and "Leeds City Council" in out.getvalue()


def test_the_import_command_with_memory_says_nothing_was_kept():
    out = io.StringIO()
    assert main(["import", "ods", str(REGISTERS / "eccg.csv"), "--memory"], out) == 0
    assert "Not kept" in out.getvalue()


def test_the_import_command_fails_plainly_on_a_broken_file(tmp_path, capsys):
    broken = tmp_path / "directory.csv"
    broken.write_bytes(DIRECTORY_2026.read_bytes()[:-30])
    assert main(["import", "cqc-directory", str(broken)], io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "line 12" in err and "Nothing was changed" in err


# -- small parts -------------------------------------------------------------------

def test_dates_as_cqc_files_write_them():
    assert parse_date("16/11/2015 - 00:00") == dt.date(2015, 11, 16)
    assert parse_date("09/Jan/2018 - 00:00") == dt.date(2018, 1, 9)
    assert parse_date("1/2/2025 12:00:00 AM") == dt.date(2025, 1, 2)
    assert parse_date("2023-05-03T00:00:00Z") == dt.date(2023, 5, 3)
    assert parse_date("not a date") is None
    assert text_date("This data was produced on 16 September 2026") == dt.date(2026, 9, 16)
    assert text_date("blablupcom_rteed_cqc_directory_2016-02_7000rows") == dt.date(2016, 2, 1)


def test_csv_records_carry_the_line_each_starts_on(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes('\ufeffa,b\n"one\ntwo",c\nd,e'.encode())
    records = list(csv_records(path))
    assert [(r.line, r.fields, r.terminated) for r in records] == [
        (1, ["a", "b"], True), (2, ["one\ntwo", "c"], True), (4, ["d", "e"], False)]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_is_a_bar_with_the_rate_and_the_time_left():
    terminal = _Terminal()
    report = import_source(fresh_curated(), "cqc-directory", DIRECTORY_2026, progress=terminal)
    assert report.rows_linked == 4
    drawn = terminal.getvalue()
    assert "\r" in drawn and "100%" in drawn and "B/s" in drawn and "<" in drawn   # rate, elapsed<left
