"""The reference geography shipped in ontology/geography, and place-specific answers on
fixture registers: the actual bodies at a location or council, as of the date asked."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from caregraph import places
from caregraph.cli import main
from caregraph.importers.run import import_source
from caregraph.store import OxigraphStore

REGISTERS = Path(__file__).resolve().parent / "fixtures" / "registers"
TODAY = dt.date.today()
THEN = dt.date(2016, 2, 23)
S42 = "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"
ABUSE = "who do I tell about abuse at this care home"


def rows(store, query: str) -> list:
    return list(store.query("PREFIX cg: <https://w3id.org/caregraph/def#>\n"
                            "PREFIX actor: <https://w3id.org/caregraph/id/actor/>\n" + query))


# -- the reference geography --------------------------------------------------------

def test_the_153_councils_with_adult_social_services_and_their_boards(store):
    current = rows(store, """SELECT ?c ?gss WHERE { ?c a cg:Council ; cg:gssCode ?gss ;
        cg:playsRole actor:council-social-services FILTER NOT EXISTS { ?c cg:validTo ?end } }""")
    codes = [r["gss"].value for r in current]
    assert len(codes) == 153
    assert {c[:3] for c in codes} == {"E06", "E08", "E09", "E10"}
    assert sum(c.startswith("E10") for c in codes) == 21 and "E06000053" in codes and "E09000001" in codes
    boards = rows(store, """SELECT ?c (COUNT(DISTINCT ?sab) AS ?sabs) (COUNT(DISTINCT ?hw) AS ?hws) WHERE {
        ?c cg:playsRole actor:council-social-services ; cg:safeguardingAdultsBoard ?sab ; cg:localHealthwatch ?hw .
        ?sab cg:council ?c ; cg:playsRole actor:safeguarding-adults-board .
        ?hw cg:council ?c ; cg:playsRole actor:local-healthwatch } GROUP BY ?c""")
    assert len(boards) == 161 and {(r["sabs"].value, r["hws"].value) for r in boards} == {("1", "1")}


def test_the_42_icbs_with_gss_and_ods_codes(store):
    icbs = rows(store, "SELECT ?gss ?ods WHERE { ?i a cg:IntegratedCareBoard ; cg:gssCode ?gss ; cg:odsCode ?ods }")
    assert len(icbs) == 42
    assert ("E54000057", "QOP") in {(r["gss"].value, r["ods"].value) for r in icbs}


def test_abolished_councils_have_end_dates_and_successors(store):
    index = places.councils(store)
    cumbria = index.by_gss["E10000006"]
    assert cumbria.valid_to == dt.date(2023, 3, 31)
    assert {index.by_iri[s].gss for s in cumbria.successors} == {"E06000063", "E06000064"}
    assert index.by_gss["E06000029"].valid_to == dt.date(2019, 3, 31)           # Poole
    assert index.by_gss["E06000058"].valid_from == dt.date(2019, 4, 1)          # BCP
    assert {index.by_iri[s].gss for s in index.by_gss["E10000021"].successors} == {"E06000061", "E06000062"}


def test_district_councils_are_housing_authorities_in_their_county(store):
    cambridge = places.councils(store).by_gss["E07000008"]
    assert not cambridge.social_services and places.HOUSING in cambridge.roles
    assert cambridge.county.endswith("E10000003")


@pytest.mark.parametrize("name, day, gss", [
    ("Cumbria", THEN, "E10000006"), ("Dorset", THEN, "E10000009"), ("Dorset", TODAY, "E06000059"),
    ("Bournemouth", THEN, "E06000028"), ("Bath & N E Somerset", THEN, "E06000022"),
    ("Kingston-upon-Hull", THEN, "E06000010"), ("St. Helens", TODAY, "E08000013"),
    ("Bedford Borough", TODAY, "E06000055"), ("Bristol, City of", TODAY, "E06000023"),
    ("North Yorkshire", THEN, "E10000023"), ("North Yorkshire", TODAY, "E06000065"),
    ("E08000035", TODAY, "E08000035"), ("leeds", TODAY, "E08000035"),
])
def test_council_names_resolve_as_of_a_date(store, name, day, gss):
    council, _ = places.councils(store).resolve(name, day, social_services=True)
    assert council.gss == gss


def test_a_council_that_has_ended_names_its_successors(store):
    index = places.councils(store)
    with pytest.raises(places.PlaceNotOnDate, match=r"Cumberland Council \(E06000063\) or Westmorland"):
        index.resolve("Cumbria", TODAY)
    council, note = index.resolve("Poole", TODAY)
    assert council.gss == "E06000058" and "ended on 2019-03-31" in note
    with pytest.raises(places.UnknownPlace, match="did you mean: Leeds City Council"):
        index.resolve("Leeds City Counsil", TODAY)
    with pytest.raises(places.UnknownPlace):
        index.resolve("Cambridge", TODAY, social_services=True)


# -- places on fixture registers -------------------------------------------------------

@pytest.fixture(scope="module")
def linked(store) -> OxigraphStore:
    dump = io.BytesIO()
    store.raw.dump(dump, ox.RdfFormat.N_QUADS)
    copy = OxigraphStore()
    copy.raw.load(dump.getvalue(), ox.RdfFormat.N_QUADS)
    for source, path in (("cqc-directory", REGISTERS / "16_September_2026_CQC_directory.csv"),
                         ("cqc-directory", REGISTERS / "cqc_directory_2016-02_noheader.csv"),
                         ("cqc-api", REGISTERS / "api"), ("ods", REGISTERS / "etr.csv")):
        import_source(copy, source, path, progress=io.StringIO())
    import_source(copy, "cqc-export", REGISTERS / "asc_locations_export.csv", with_names=True,
                  progress=io.StringIO())
    return copy


def _body(response, role: str) -> dict:
    return next(b for b in response.bodies if b["role"] == role)


def test_abuse_at_a_care_home_names_its_provider_council_and_cqc_with_the_law(linked):
    response = places.ask(linked, ABUSE, TODAY, location="1-100000011")
    provider, council = _body(response, "registered-provider"), _body(response, "council-social-services")
    assert provider["label"] == "Werneth Care Ltd" and provider["kind"] == "local"
    assert council["label"] == "Oldham Metropolitan Borough Council" and council["id"] == "E08000004"
    s42 = next(d for d in council["duties"] if any(b["uri"] == S42 for b in d["legal_basis"]))
    assert "accountable" in s42["raci"]
    assert _body(response, "cqc")["kind"] == "national"
    assert _body(response, "safeguarding-adults-board")["label"] == "Safeguarding Adults Board for Oldham"
    assert _body(response, "local-healthwatch")["label"] == "Local Healthwatch for Oldham"
    assert _body(response, "icb")["label"] == "NHS Greater Manchester Integrated Care Board"
    manager = _body(response, "registered-manager")
    assert manager["kind"] == "post" and "Werneth Court" in manager["label"]
    text = response.as_text()
    assert "Werneth Care Ltd" in text and "Care Act 2014 s.42" in text and "Care Quality Commission" in text


def test_the_question_is_matched_without_the_place_name_and_with_the_kind_of_service(linked):
    response = places.ask(linked, "who do I tell about abuse at Werneth Court", TODAY, location="Werneth Court")
    assert response.matched_as == "who do I tell about abuse at (care home)"
    assert "ca-s42-enquiry" in [a.duty["id"] for a in response.answers[:3]]
    home_care = places.ask(linked, "my mum is neglected by Fellside Home Care", TODAY, location="1-100000002")
    assert "Fellside" not in home_care.matched_as and "(home care)" in home_care.matched_as


def test_each_holder_in_the_answers_carries_the_body_that_plays_it_here(linked):
    answer = places.ask(linked, ABUSE, TODAY, location="Werneth Court").as_json()
    for duty in answer["answers"]:
        for holder in duty["holders"]:
            assert holder["body"]["role"] == holder["id"]
    first = answer["answers"][0]
    council = next(h for h in first["holders"] if h["id"] == "council-social-services")
    assert council["body"]["label"] == "Oldham Metropolitan Borough Council"
    json.dumps(answer)


def test_the_answer_follows_the_date_asked(linked):
    then = places.ask(linked, ABUSE, THEN, location="Lakeland View")
    assert then.place.council.gss == "E10000006"
    assert _body(then, "safeguarding-adults-board")["label"] == "Safeguarding Adults Board for Cumbria"
    now = places.ask(linked, ABUSE, TODAY, location="Lakeland View")
    assert now.place.council is None
    assert any("Cumberland Council or Westmorland and Furness Council" in n for n in now.place.notes)
    assert _body(now, "council-social-services")["kind"] == "role"


def test_a_name_that_fits_several_locations_gives_a_short_list(linked):
    with pytest.raises(places.AmbiguousPlace) as found:
        places.find_location(linked, "Court")
    ids = {c["id"] for c in found.value.choices}
    assert ids == {"1-100000005", "1-100000011"}
    assert "1-100000005" in str(found.value) and "Kirkstall Court" in str(found.value)
    with pytest.raises(places.UnknownPlace, match="Werneth Court|1-100000011"):
        places.find_location(linked, "Wernet Court")


def test_an_nhs_location_names_its_trust_and_posts_name_their_holder_only_when_imported_with_names(linked):
    nhs = places.location_place(linked, places.find_location(linked, "RT201"), TODAY)
    assert nhs.local[places.NHS_TRUST_ROLE].label == "Pennine Care NHS Foundation Trust"
    named = places.location_place(linked, places.find_location(linked, "1-100000001"), TODAY)
    assert "Example, Ann, Mrs" in named.local[places.MANAGER_ROLE].label
    unnamed = places.location_place(linked, places.find_location(linked, "1-100000011"), TODAY)
    assert "Example" not in unnamed.local[places.MANAGER_ROLE].label


def test_a_district_council_is_the_housing_authority_and_its_county_the_care_authority(linked):
    response = places.ask(linked, "I am homeless, who must help me", TODAY, council="Cambridge")
    assert _body(response, "housing-authority")["label"] == "Cambridge City Council"
    assert _body(response, "council-social-services")["label"] == "Cambridgeshire County Council"
    assert _body(response, "housing-authority")["duties"]


def test_a_location_and_a_council_that_do_not_go_together_are_refused(linked):
    with pytest.raises(places.PlaceError, match="not Leeds City Council's"):
        places.ask(linked, ABUSE, TODAY, location="1-100000011", council="Leeds")


def test_the_ask_command_answers_for_a_place_and_lists_choices(linked, tmp_path, monkeypatch):
    import caregraph.cli as cli

    monkeypatch.setattr(cli, "_store", lambda args, read_only=False: linked)
    out = io.StringIO()
    assert main(["ask", ABUSE, "--location", "1-100000011", "--json"], out) == 0
    assert json.loads(out.getvalue())["place"]["provider"]["label"] == "Werneth Care Ltd"
    out = io.StringIO()
    assert main(["ask", ABUSE, "--council", "Oldham"], out) == 0
    assert "Oldham Metropolitan Borough Council" in out.getvalue()
    assert main(["ask", ABUSE, "--location", "Court"], io.StringIO()) == 1


# -- the HTTP endpoints ---------------------------------------------------------------

@pytest.fixture(scope="module")
def http(linked):
    from fastapi.testclient import TestClient

    from caregraph.api.app import create_app

    with TestClient(create_app(linked)) as client:
        yield client


def test_location_endpoints(http):
    record = http.get("/locations/1-100000011").json()
    assert record["provider"]["label"] == "Werneth Care Ltd" and record["council"]["id"] == "E08000004"
    answer = http.get("/locations/1-100000011/responsible", params={"q": ABUSE}).json()
    assert any(b["role"] == "council-social-services" and b["duties"] for b in answer["bodies"])
    assert http.get("/locations/1-999999999").status_code == 404
    ambiguous = http.get("/locations/Court")
    assert ambiguous.status_code == 300 and len(ambiguous.json()["detail"]["candidates"]) == 2


def test_responsible_with_a_place(http):
    by_location = http.get("/responsible", params={"q": ABUSE, "location": "Werneth Court"}).json()
    assert by_location["place"]["id"] == "1-100000011"
    by_council = http.get("/responsible", params={"q": ABUSE, "location": "Oldham"}).json()
    assert by_council["place"]["kind"] == "council" and by_council["place"]["id"] == "E08000004"
    old = http.get("/responsible", params={"q": ABUSE, "location": "Cumbria", "as_of": "2016-02-23"}).json()
    assert old["place"]["id"] == "E10000006"


def test_responsible_with_a_location_and_a_council_that_do_not_go_together_is_400(http):
    response = http.get("/responsible", params={"q": ABUSE, "location": "1-100000011", "council": "Leeds"})
    assert response.status_code == 400 and "not Leeds City Council's" in response.text
