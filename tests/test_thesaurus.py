"""The thesaurus kept with the knowledge: problems in people's words, and topics out of scope."""

from caregraph import reading, responsibility, thesaurus


def test_every_problem_leads_to_real_duties_and_routes(store):
    # A duty is real when it has a label (cg:keyDuty's range would otherwise make any IRI a duty).
    duties = {r["duty"].value for r in store.select("duty_documents") if r["field"].value == "label"}
    routes = {r["route"].value for r in store.select("route_list")}
    concepts = thesaurus.load(store).concepts.values()
    problems = [c for c in concepts if c.in_scope]
    assert len(problems) >= 50
    for concept in problems:
        assert concept.key_duties, f"{concept.label} answers no duty"
        assert set(concept.key_duties) <= duties, f"{concept.label}: unknown duties"
        assert set(concept.routes) <= routes, f"{concept.label}: unknown route"
    assert all(c.note for c in concepts if not c.in_scope)


def test_labels_match_whole_and_in_order(store):
    assert [m.concept.label for m in reading.read(store, "kicked out of hospital").problems] == ["hospital discharge"]
    assert "home care" not in [m.concept.label for m in reading.read(store, "care home").problems]


def test_slang_and_misspellings_are_problems_too(store):
    assert "financial abuse" in [m.concept.label for m in reading.read(store, "nans carer nicking her money").problems]
    assert [m.concept.label for m in reading.read(store, "safegaurding").problems] == ["abuse"]


def test_out_of_scope_topics_are_declined_with_a_pointer(store):
    response = responsibility.ask(store, "how do I appeal a parking ticket")
    assert response.confidence == responsibility.OUTSIDE and not response.answers
    assert "Parking" in response.notes[0]


def test_a_vague_question_gets_choices_not_a_refusal(store):
    response = responsibility.ask(store, "I need some help with my mum")
    assert response.confidence == responsibility.UNSURE
    assert not any("Nothing in caregraph" in note for note in response.notes)
    assert {s.kind for s in response.suggestions} == {"route"} and len(response.suggestions) >= 5
