"""Place-specific answers over HTTP: a registered location's record and who is responsible
there, and the answerer `/responsible?location=...` uses. The work is done by
caregraph.places; this module only maps its errors to HTTP statuses."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import Response

from caregraph import places
from caregraph.api.context import AnswerCache, as_of_param, cache, get_store
from caregraph.store import Store

router = APIRouter(tags=["places"])

LOCATION_ID = Path(..., description="a CQC location id, or a name that matches one location",
                   examples=["1-1000210669"])
ERRORS = {404: {"description": "no such location or council, or it did not exist on the date (with suggestions)"},
          300: {"description": "the name fits several locations: a short list of ids to choose from"},
          400: {"description": "a bad date, or a location and council that do not go together"}}


def _http(exc: places.PlaceError) -> HTTPException:
    if isinstance(exc, places.AmbiguousPlace):
        return HTTPException(300, {"message": str(exc), "candidates": exc.choices, "more": exc.more})
    if isinstance(exc, places.UnknownPlace):
        return HTTPException(404, {"message": str(exc), "suggestions": exc.suggestions})
    if isinstance(exc, places.PlaceNotOnDate):
        return HTTPException(404, {"message": str(exc)})
    return HTTPException(400, {"message": str(exc)})


def responsible_at(store: Store, question: str, place: str, day: dt.date, limit: int,
                   council: str | None = None) -> dict:
    """`/responsible` with a place: a CQC location id or name, a council's GSS code or name.
    With `council` as well, `place` is read as the location and the council must be its own
    (or, for a district council, the housing authority there)."""
    try:
        if council is not None:
            return places.ask(store, question, day, location=place, council=council, limit=limit).as_json()
        return places.ask(store, question, day, place=place, limit=limit).as_json()
    except places.PlaceError as exc:
        raise _http(exc) from None


def _location(store: Store, location_id: str, day: dt.date) -> dict:
    try:
        return places.location_place(store, places.find_location(store, location_id), day).as_json()
    except places.PlaceError as exc:
        raise _http(exc) from None


@router.get("/locations/{location_id}", summary="A registered location: provider, council, ICB and local bodies",
            response_class=Response, responses={200: {"description": "the location as of the date, with the body "
                                                                      "that plays each role there"}, **ERRORS})
async def location(location_id: str = LOCATION_ID, day: dt.date = Depends(as_of_param),
                   store: Store = Depends(get_store), answers: AnswerCache = Depends(cache)) -> Response:
    return await answers.json(store, ("location", location_id, day), lambda: _location(store, location_id, day))


@router.get("/locations/{location_id}/responsible", summary="Who is responsible for X at a registered location",
            response_class=Response, responses={200: {"description": "ranked duties, each holder named as the "
                                                                      "body that plays its role there"}, **ERRORS})
async def responsible_at_location(
        location_id: str = LOCATION_ID,
        q: str = Query(..., min_length=1, max_length=500, description="the question in plain words",
                       examples=["who do I tell about abuse at this care home"]),
        council: str | None = Query(None, description="optionally, a district council (GSS code or name) to name "
                                                      "as the housing authority"),
        day: dt.date = Depends(as_of_param), limit: int = Query(5, ge=1, le=50),
        store: Store = Depends(get_store), answers: AnswerCache = Depends(cache)) -> Response:
    def build() -> dict:
        try:
            return places.ask(store, q, day, location=location_id, council=council, limit=limit).as_json()
        except places.PlaceError as exc:
            raise _http(exc) from None
    return await answers.json(store, ("location-responsible", location_id, q, council, day, limit), build)
