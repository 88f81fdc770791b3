"""Property-based fuzzing: question parsing never raises on any text, and the importers'
row parsing either reads a row or fails with ImportFailed (a message with the line),
never with another exception. Bounded to well under a minute."""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import fresh_curated
from caregraph import responsibility
from caregraph.importers.common import ImportFailed, csv_records, parse_date, text_date
from caregraph.importers.run import import_source

FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = ("Name,Also known as,Address,Postcode,Phone number,Service types,Date of latest check,Specialisms/services,"
          "Provider name,Local authority,Region,Location URL,CQC Location ID (for office use only),"
          "CQC Provider ID (for office use only)\n")
STORE = fresh_curated()
# Text people type, and text built to break parsers: quotes, commas, separators, odd spaces.
WORDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
CELLS = st.text(alphabet=st.sampled_from(list('ab1-/ ,"\n\r\t\x00é|:;')), max_size=40) | st.sampled_from(
    ["Leeds", "Narnia", "1-100000001", "1-200000001", "X-1", "16/11/2015", "09/Jan/2026 - 00:00", "LS1 4AP", ""])


@FUZZ
@given(question=WORDS, day=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)),
       limit=st.integers(min_value=1, max_value=50))
def test_asking_anything_never_raises(question, day, limit):
    response = responsibility.ask(STORE, question, day, limit=limit)
    assert len(response.answers) <= limit
    json.dumps(response.as_json())  # and the answer serialises


@FUZZ
@given(text=WORDS)
def test_dates_in_cells_and_file_names_parse_or_are_none(text):
    for parsed in (parse_date(text), text_date(text)):
        assert parsed is None or isinstance(parsed, dt.date)


@FUZZ
@given(data=st.binary(max_size=400))
def test_any_bytes_read_as_csv_give_rows_or_a_clean_failure(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(data)
        try:
            lines = [record.line for record in csv_records(path)]
        except ImportFailed as exc:
            assert exc.line is None or exc.line >= 1
        else:
            assert lines == sorted(lines)


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(CELLS, min_size=0, max_size=16), min_size=1, max_size=5))
def test_any_directory_rows_import_or_fail_cleanly(rows):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "16_September_2026_CQC_directory.csv"
        body = "".join(",".join('"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n\r') else cell
                                for cell in row) + "\n" for row in rows)
        path.write_bytes((HEADER + body).encode("utf-8"))
        try:
            report = import_source(STORE, "cqc-directory", path, progress=io.StringIO(), force=True)
        except ImportFailed as exc:
            assert str(exc)
        else:
            assert report.rows_linked >= 1 and report.rows_read == report.rows_linked + len(report.skipped)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["locationId", "providerId", "organisationType", "name", "postalCode",
                                         "localAuthority", "registrationDate", "regulatedActivities",
                                         "currentRatings", "locations", "providers", "onspdIcbCode", "x"]),
                        inner, max_size=6), max_leaves=20)


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=JSON)
def test_any_api_json_imports_or_fails_cleanly(record):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "location.json"
        path.write_text(json.dumps(record))
        try:
            import_source(STORE, "cqc-api", path, progress=io.StringIO(), force=True)
        except ImportFailed as exc:
            assert str(exc)
