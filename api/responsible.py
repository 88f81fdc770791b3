""""Who is responsible for X?" as JSON: the same answers as `caregraph ask --json`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from caregraph import responsibility
from caregraph.api.context import AnswerCache, as_of_param, cache, get_store
from caregraph.api.locations import ERRORS as PLACE_ERRORS, responsible_at
from caregraph.store import Store

router = APIRouter(tags=["answers"])

EXAMPLE = {
    "question": "who investigates abuse of my mum in her care home",
    "as_of": "2025-01-01",
    "confidence": "sure",
    "answers": [{
        "duty": {"id": "ca-s42-enquiry", "uri": "https://w3id.org/caregraph/id/duty/ca-s42-enquiry",
                 "label": "Make or arrange safeguarding enquiries", "description": "...", "modality": "must",
                 "sector": "adult social care", "status": "in force", "confidence": "confirmed", "caveat": None,
                 "valid_from": "2015-04-01", "valid_to": None},
        "statutory": True,
        "legal_basis": [{"uri": "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42",
                         "label": "Care Act 2014 s.42"}],
        "non_statutory_basis": [], "related_law": [],
        "holders": [{"id": "council-social-services", "uri": "https://w3id.org/caregraph/id/actor/council-social-services",
                     "label": "Council with adult social services responsibilities", "role": "accountable"}],
        "oversight": [{"id": "cqc", "uri": "https://w3id.org/caregraph/id/actor/cqc", "label": "Care Quality Commission"}],
        "score": 21.4}],
    "escalation": {"id": "abuse-neglect-adult", "label": "Abuse or neglect of an adult who needs care", "steps": []},
    "suggestions": [],
    "reading": {"corrections": {}, "problems": [{"id": "abuse", "uri": "https://w3id.org/caregraph/id/problem/abuse",
                                                 "label": "abuse", "words": "abuse"}],
                "outside_scope": [], "unknown_words": []},
    "notes": [],
}


@router.get("/responsible", summary="Who is responsible for X", response_class=Response,
            responses={200: {"description": "ranked duties with their holders, law (or, for a responsibility "
                                            "that is not law, the guidance or code it rests on), oversight and the "
                                            "escalation route; how the question was read; confidence 'sure', "
                                            "'unsure' (with suggestions to choose from) or 'outside' (no answers, "
                                            "a note saying where such questions go)",
                             "content": {"application/json": {"example": EXAMPLE}}},
                       **PLACE_ERRORS})
async def responsible(q: str = Query(..., min_length=1, max_length=500, description="the question in plain words",
                               examples=["my dad's care home is unsafe, who do I tell?"]),
                day: dt.date = Depends(as_of_param),
                limit: int = Query(5, ge=1, le=50, description="at most this many answers"),
                location: str | None = Query(None, description="a place: council, CQC location id or town"),
                council: str | None = Query(None, description="with location, a district council (GSS code or "
                                                              "name) to name as the housing authority there"),
                store: Store = Depends(get_store), answers: AnswerCache = Depends(cache)) -> Response:
    if location is not None:
        return await answers.json(store, ("responsible-at", q, location, council, day, limit),
                                  lambda: responsible_at(store, q, location, day, limit, council))
    return await answers.json(store, ("responsible", q, day, limit),
                              lambda: responsibility.ask(store, q, day, limit=limit).as_json())
