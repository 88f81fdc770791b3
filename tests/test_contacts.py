"""Contact details: telephone numbers and websites read from the CQC registers (as `tel:` and
http(s) IRIs, a broken value left out with a note naming its line), councils' GOV.UK pages
in the reference geography, and all of them on the answer page and in the JSON answers for
a place, from the real registers in ../shared (skipped when absent)."""

from __future__ import annotations

import csv
import functools
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import fresh_curated
from caregraph import contacts
from caregraph.api.app import create_app
from caregraph.importers import ids
from caregraph.importers.run import import_source
from caregraph.resources import ontology_dir
from caregraph.store import iri

FOAF = "http://xmlns.com/foaf/0.1/"
CQC_ID = "https://w3id.org/caregraph/def#cqcId"
QUESTION = "my mum's care home is unsafe, who do I tell?"
API = "cqc/oldham_cqc_api_v1"


@pytest.mark.parametrize("written, tel, shown", [
    ("01616653185", "tel:+441616653185", "0161 665 3185"),
    ("0161 665 3185", "tel:+441616653185", "0161 665 3185"),
    ("1424716303", "tel:+441424716303", "01424 716303"),        # the 2016 directory drops the leading 0
    ("+44 20 7946 0018", "tel:+442079460018", "020 7946 0018"),
    ("0300 061 6161", "tel:+443000616161", "0300 061 6161"),
])
def test_a_uk_number_is_kept_in_international_form_and_shown_the_british_way(written, tel, shown):
    assert contacts.phone_iri(written) == tel
    assert contacts.phone_display(tel) == shown


@pytest.mark.parametrize("written", ["", "999", "016162884222", "0161621383", "01000000000", "not a number",
                                     "+1 212 555 0100"])
def test_what_is_not_a_uk_number_is_none(written):
    assert contacts.phone_iri(written) is None


@pytest.mark.parametrize("written, iri", [
    ("www.example.co.uk", "https://www.example.co.uk/"),
    ("http://www.example.co.uk", "http://www.example.co.uk/"),
    ("HTTPS://WWW.Example.co.uk/our-homes/a", "https://www.example.co.uk/our-homes/a"),
])
def test_a_website_becomes_an_http_iri(written, iri):
    assert contacts.website_iri(written) == iri


@pytest.mark.parametrize("written", ["", "n/a", "www.example.co.uk/a b", "http://www.brook.org.k", "ftp://example.com",
                                     "mailto:care@example.co.uk", "https://user@example.co.uk/", "<script>"])
def test_what_is_not_a_website_is_none(written):
    assert contacts.website_iri(written) is None


DIRECTORY_HEADER = ["Name", "Also known as", "Address", "Postcode", "Phone number", "Service's website (if available)",
                    "Service types", "Date of latest check", "Specialisms/services", "Provider name", "Local authority",
                    "Region", "Location URL", "CQC Location ID (for office use only)",
                    "CQC Provider ID (for office use only)"]


def _directory(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A care directory CSV with one care home in Leeds for each (location id, phone, website)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(DIRECTORY_HEADER)
        for location_id, phone, website in rows:
            writer.writerow([f"Home {location_id}", "", "1 Road, Leeds", "LS1 4AP", phone, website, "Residential homes",
                             "", "", "Example Care Ltd", "Leeds", "Yorkshire & Humberside",
                             f"https://www.cqc.org.uk/location/{location_id}", location_id, "1-101234567"])
    return path


def _objects(store, subject: str, predicate: str) -> set[str]:
    return {q.object.value for q in store.raw.quads_for_pattern(iri(subject), iri(predicate), None)}


def test_an_import_keeps_good_numbers_and_websites_and_notes_the_broken_ones(tmp_path):
    path = _directory(tmp_path / "16_September_2026_CQC_directory.csv", [
        ("1-1000000001", "0113 496 0000", "www.example.co.uk/home-one"),
        ("1-1000000002", "113496000", "http://example.co.uk"),      # too short, even with its 0 put back
        ("1-1000000003", "1134960001", "www.example .co.uk"),        # the leading 0 dropped; a space in the site
    ])
    store = fresh_curated()
    report = import_source(store, "cqc-directory", path, progress=io.StringIO())
    assert (report.rows_read, report.rows_linked, report.skipped) == (3, 3, [])
    first, second, third = (ids.location(f"1-100000000{n}") for n in (1, 2, 3))
    assert _objects(store, first, FOAF + "phone") == {"tel:+441134960000"}
    assert _objects(store, first, FOAF + "homepage") == {"https://www.example.co.uk/home-one"}
    assert _objects(store, second, FOAF + "phone") == set()
    assert _objects(store, second, FOAF + "homepage") == {"http://example.co.uk/"}
    assert _objects(store, third, FOAF + "phone") == {"tel:+441134960001"}
    assert _objects(store, third, FOAF + "homepage") == set()
    assert "line 3: '113496000' is not a UK telephone number; left out" in report.notes
    assert "line 4: 'www.example .co.uk' is not a website address; left out" in report.notes


def test_each_council_links_to_its_gov_uk_page_and_the_data_says_what_that_page_is():
    text = (ontology_dir() / "geography" / "councils.ttl").read_text(encoding="utf-8")
    assert "foaf:page <https://www.gov.uk/find-local-council/leeds>" in text
    assert "it is not the council's own website" in text
    store = fresh_curated()
    leeds = contacts.contacts(store, [ids.council("E08000035")])[ids.council("E08000035")]
    assert leeds.finder == "https://www.gov.uk/find-local-council/leeds" and leeds.website is None


# -- the real registers ---------------------------------------------------------------------

@functools.cache
def _api_store(data: str):
    store = fresh_curated()
    import_source(store, "cqc-api", Path(data) / API, progress=io.StringIO())
    return store


def _real_care_home(data: Path) -> tuple[dict, dict]:
    """A registered care home in the real API records whose provider's record is there too, and
    both with a telephone number and a website."""
    for path in sorted((data / API / "location_details").glob("*.json")):
        home = json.loads(path.read_text(encoding="utf-8"))
        provider_path = data / API / "provider_details" / f"provider_{home.get('providerId')}.json"
        if home.get("careHome") == "Y" and home.get("registrationStatus") == "Registered" and provider_path.exists():
            provider = json.loads(provider_path.read_text(encoding="utf-8"))
            if all(r.get("mainPhoneNumber") and r.get("website") for r in (home, provider)):
                return home, provider
    pytest.fail("no care home with its provider's record and both their contact details in the API extract")


def test_a_real_homes_answer_page_shows_its_phone_and_website_and_its_providers_and_councils(shared_data):
    home, provider = _real_care_home(shared_data)
    store = _api_store(str(shared_data))
    client = TestClient(create_app(store))
    page = client.get("/ask", params={"q": QUESTION, "place": home["locationId"]}).text
    what_to_do = page[page.index("What to do now"):page.index("Who must act")]
    for record in (home, provider):
        tel = contacts.phone_iri(record["mainPhoneNumber"])
        assert f'href="{tel}"' in page and contacts.phone_display(tel) in page
        assert f'href="{contacts.website_iri(record["website"])}"' in page
    # The provider's number is in its step of what to do; the council's GOV.UK page in its step.
    assert f'href="{contacts.phone_iri(provider["mainPhoneNumber"])}"' in what_to_do
    assert 'href="https://www.gov.uk/find-local-council/oldham">Find Oldham Metropolitan Borough Council' \
           in what_to_do
    assert 'href="https://www.cqc.org.uk"' in what_to_do


def test_a_real_homes_json_answer_carries_the_contact_details(shared_data):
    home, provider = _real_care_home(shared_data)
    client = TestClient(create_app(_api_store(str(shared_data))))
    for url, params in ((f"/locations/{home['locationId']}/responsible", {"q": QUESTION}),
                        ("/responsible", {"q": QUESTION, "location": home["locationId"]})):
        answer = client.get(url, params=params).json()
        contact = answer["place"]["contact"]
        assert contact["telephone_uri"] == contacts.phone_iri(home["mainPhoneNumber"])
        assert contact["telephone"] == contacts.phone_display(contact["telephone_uri"])
        assert contact["website"] == contacts.website_iri(home["website"])
        bodies = {b["role"]: b for b in answer["bodies"]}
        assert bodies["registered-provider"]["contact"]["telephone_uri"] == \
            contacts.phone_iri(provider["mainPhoneNumber"])
        assert bodies["council-social-services"]["contact"]["gov_uk_find_council_page"] == \
            "https://www.gov.uk/find-local-council/oldham"
        steps = {s["actor"]["id"]: s["body"] for s in answer["escalation"]["steps"]}
        assert steps["cqc"]["contact"]["website"] == "https://www.cqc.org.uk"


@pytest.mark.parametrize("source, path, id_column, phone_column", [
    ("cqc-export", "cqc/mooperd_cqc-companies/Locations-head.csv", "Location ID", "Location telephone number"),
    ("cqc-directory", "cqc/mooperd_cqc-companies/output-head.csv", "CQC Location ID (for office use only)",
     "Phone number"),
])
def test_every_good_number_in_a_real_register_is_imported(shared_data, source, path, id_column, phone_column):
    store = fresh_curated()
    report = import_source(store, source, shared_data / path, progress=io.StringIO())
    locations = {q.subject.value for q in store.raw.quads_for_pattern(None, iri(CQC_ID), None)}
    with open(shared_data / path, encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh)   # the rows linked (one has no council) that give a number
                if ids.location(r[id_column]) in locations and r[phone_column]]
    good = {r[id_column] for r in rows if contacts.phone_iri(r[phone_column])}
    assert len(good) > 0.9 * len(rows)
    with_phone = {q.subject.value for q in store.raw.quads_for_pattern(None, iri(FOAF + "phone"), None)}
    assert {r[id_column] for r in rows if ids.location(r[id_column]) in with_phone} == good
    broken = [n for n in report.notes if "is not a UK telephone number" in n]
    assert len(broken) == len(rows) - len(good)
