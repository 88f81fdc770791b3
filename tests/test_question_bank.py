"""The question bank (tests/fixtures/question-bank.json): questions written before the
matching was changed, by writers who did not see it, split at random with a fixed seed.

Only the tuning half runs here; the held-out half is reported by bench/answers and is
never tuned on. A question counts as answered when one of the top three answers names an
expected holder under an expected basis; one outside caregraph's scope, when it is declined.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest

from caregraph import evaluation, responsibility
from caregraph.dates import parse_day
from conftest import FIXTURES

BANK_FILE = FIXTURES / "question-bank.json"
BANK = evaluation.load(BANK_FILE)
TUNING = [q for q in BANK if q["half"] == "tuning"]
STYLES = {"one-or-two-words", "short-plain", "long-story", "informal", "professional", "who-can", "dated",
          "non-statutory", "out-of-scope"}


def test_the_bank_is_large_split_in_two_and_covers_every_style():
    assert len(BANK) >= 400
    assert json.loads(BANK_FILE.read_text())["seed"] == 20261207
    counts = Counter(q["style"] for q in BANK)
    assert set(counts) == STYLES and min(counts.values()) >= 40, counts
    # The first two writers' questions are split half and half, style by style, and so,
    # on their own, are later writers' (G; H, I and J together; K and L together); the third writer's
    # were for tuning only.
    for writers in (("A", "B"), ("G",), ("H", "I", "J"), ("K", "L")):
        split = [q for q in BANK if q["writer"] in writers]
        for style in {q["style"] for q in split}:
            halves = Counter(q["half"] for q in split if q["style"] == style)
            assert abs(halves["tuning"] - halves["held-out"]) <= 1, (writers, style, halves)
    assert {q["half"] for q in BANK if q["writer"] == "D"} == {"tuning"}


def test_every_route_and_theme_is_asked_about(store):
    routes = {r["route"].value.rsplit("/", 1)[1] for r in store.select("route_list")}
    assert routes <= {q["route"] for q in BANK}
    themes = {q["theme"] for q in BANK}
    assert len(themes) >= 50


# Below the level reached on the tuning half (94% of 875; the answers issue aims at 97%): a
# change that answers fewer of these questions fails here. bench/answers/score.py reports
# the held-out half and the unseen set beside it.
TUNING_FLOOR = 0.92
OUT_OF_SCOPE_FLOOR = 0.95


def test_the_tuning_half_is_answered(store):
    scores, wrong = evaluation.score(store, TUNING)
    misses = "\n".join(f"  [{q['style']}] {q['question']}" for q in wrong)
    assert scores["all"].rate >= TUNING_FLOOR, f"{scores['all']} of the tuning half answered; missed:\n{misses}"
    assert scores["out-of-scope"].rate >= OUT_OF_SCOPE_FLOOR, scores["out-of-scope"]


def test_questions_inside_scope_are_rarely_declined(store):
    inside = [q for q in TUNING if q["expect"]]
    declined = [q for q in inside
                if responsibility.ask(store, q["question"], parse_day(q["as_of"])).confidence == responsibility.OUTSIDE]
    assert len(declined) <= 0.02 * len(inside), [q["question"] for q in declined]


# The examples the answers issue was opened with: each answered right, or declined.
WHY = [
    ("abuse", "council-social-services", "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"),
    ("neglect", "council-social-services", "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"),
    ("safeguarding", "council-social-services", "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"),
    ("my dad is being abused", "council-social-services", "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"),
    ("my mum is being neglected", "council-social-services", "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"),
    ("who do I tell about abuse", "council-social-services", "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"),
    ("my carer steals money from my mum", "council-social-services",
     "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"),
    ("carehome neglect", "council-social-services", "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"),
    ("care home neglect", "council-social-services", "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"),
    ("safegaurding", "council-social-services", "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"),
    ("neglet", "council-social-services", "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"),
    ("who can enter and view a care home", "local-healthwatch",
     "http://www.legislation.gov.uk/id/ukpga/2007/28/section/225"),
]
OUT_OF_SCOPE = ["parking ticket", "what is the time limit for a personal injury claim after a car crash",
                "what is the airspeed of an unladen swallow"]


@pytest.mark.parametrize("question,holder,basis", WHY, ids=[w[0] for w in WHY])
def test_why_examples_are_answered(store, question, holder, basis):
    case = {"question": question, "as_of": None, "expect": [{"holder": holder, "basis": basis}]}
    assert evaluation.answered(store, case)


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_out_of_scope_examples_are_declined(store, question):
    assert evaluation.answered(store, {"question": question, "as_of": None, "expect": []})


# A care word caregraph's duties are full of ("carer", "dementia") keeps a question in scope
# beside a word caregraph never uses ("wallet", "wandering"); without one, such a word still
# marks a question about something else.
@pytest.mark.parametrize("question, inside", [
    ("carer stole money from my dad's wallet", True),
    ("my dad has dementia and keeps wandering at night", True),
    ("someone stole my wallet on the bus", False),
    ("my bike was stolen", False),
    ("best skin care cream", False),
])
def test_a_care_word_keeps_a_question_beside_an_unknown_word_in_scope(store, question, inside):
    confidence = responsibility.ask(store, question).confidence
    assert (confidence != responsibility.OUTSIDE) == inside, confidence


# Expectations no answer can meet: the body that negotiates fair pay (Employment Rights Act
# 2025 s.43) is not yet set up, and ten of writer E's questions name duties the knowledge
# does not hold (docs/answers.md).
UNMEETABLE = {"a280", "e161", "e166", "e168", "e171", "e174", "e178", "e195", "e204", "e226", "e230"}


def _pairs_in_force(store, day) -> set[tuple[str, str]]:
    duties = [d for d in responsibility._validity(store) if responsibility.in_force(store, d, day)]
    return {(h["id"], b["uri"]) for a in responsibility.describe(store, duties, day)
            for h in a.holders if h["role"] in ("accountable", "responsible")
            for b in a.legal_basis + a.non_statutory_basis}


def test_every_expected_holder_and_basis_can_be_met_on_the_question_s_date(store):
    # A writer's slip (CQC in 2005, before it existed; an ICB in 2015) would count as a miss
    # whatever caregraph answered: every expectation is checked against the holders and law
    # in force on the question's date.
    questions = BANK + [q for name in ("questions-unseen.json", "questions-unseen-e.json", "questions-unseen-f.json")
                        for q in evaluation.load(FIXTURES / name)]
    pairs: dict = {}
    impossible = []
    for q in questions:
        day = parse_day(q.get("as_of")) or dt.date.today()
        if day not in pairs:
            pairs[day] = _pairs_in_force(store, day)
        for e in q["expect"]:
            if (e["holder"], e["basis"]) not in pairs[day] and q["id"] not in UNMEETABLE:
                impossible.append((q["id"], e["holder"], e["basis"], day.isoformat()))
    assert not impossible, impossible
