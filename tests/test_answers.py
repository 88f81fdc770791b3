"""What an answer says beyond the ranking: whose law, and whether it is law at all."""

from __future__ import annotations

import json

from caregraph import responsibility
from caregraph.cli import main

MCA_37 = "http://www.legislation.gov.uk/id/ukpga/2005/9/section/37"
HCA_2022 = "http://www.legislation.gov.uk/id/ukpga/2022/31"


def test_a_holders_own_basis_adds_to_the_duty_s_basis(store):
    answer = responsibility.describe(store, ["https://w3id.org/caregraph/id/duty/mca-s35-39-imca-icb"],
                                     responsibility.dt.date(2025, 1, 1))[0]
    cited = {b["uri"] for b in answer.legal_basis}
    assert MCA_37 in cited and HCA_2022 in cited


def test_a_responsibility_resting_on_a_code_says_it_is_not_law(store):
    response = responsibility.ask(store, "the code of conduct for care workers")
    answer = next(a for a in response.answers if a.duty["id"] == "care-worker-code-of-conduct")
    assert not answer.statutory and not answer.legal_basis
    assert answer.non_statutory_basis[0]["uri"].endswith("/source/code-of-conduct-2013")
    assert responsibility.NOT_LAW in response.notes


def test_the_json_answer_says_how_the_question_was_read(capsys):
    assert main(["ask", "my nan is being neglet at her carehome", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["confidence"] == "sure"
    assert body["reading"]["corrections"] == {"carehome": "care home"}
    assert any(p["id"] in ("neglect", "care-home-harm") for p in body["reading"]["problems"])


def test_outside_scope_exits_1_and_a_vague_question_offers_routes(capsys):
    assert main(["ask", "how do I renew my passport"]) == 1
    assert "Nothing in caregraph" in capsys.readouterr().out
    assert main(["ask", "I need some help with my mum"]) == 0
    out = capsys.readouterr().out
    assert "Closer to what you mean?" in out and "Nothing in caregraph" not in out
