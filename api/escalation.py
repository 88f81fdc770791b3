"""Escalation: the ordered route for a problem told in plain words, and the routes by id."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import Response

from caregraph import escalation, escalation_catalogue
from caregraph.api.context import AnswerCache, as_of_param, cache, get_store
from caregraph.store import Store

router = APIRouter(tags=["escalation"])


@router.get("/escalation", summary="The ordered route for a problem", response_class=Response,
            responses={200: {"description": "the best-fitting route, or route null with a note"}})
async def route_for(problem: str = Query(..., min_length=1, max_length=500,
                                   examples=["my mum's care home is unsafe"]),
              day: dt.date = Depends(as_of_param), store: Store = Depends(get_store),
              answers: AnswerCache = Depends(cache)) -> Response:
    def build() -> dict:
        routes = escalation.routes_for(store, problem, day, limit=1)
        notes = [] if routes else ["No escalation route in caregraph fits this problem; try /responsible "
                                   "with other words."]
        return {"problem": problem, "as_of": day.isoformat(),
                "route": routes[0].as_json() if routes else None, "notes": notes}
    return await answers.json(store, ("escalation", problem, day), build)


@router.get("/escalation/routes", summary="Every escalation route", response_class=Response)
async def list_routes(store: Store = Depends(get_store), answers: AnswerCache = Depends(cache)) -> Response:
    return await answers.json(store, ("routes",), lambda: {"items": escalation_catalogue.list_routes(store)})


@router.get("/escalation/routes/{route_id}", summary="One escalation route, step by step", response_class=Response,
            responses={404: {"description": "no such route"}})
async def get_route(route_id: str = Path(..., examples=["unsafe-care-home"]), day: dt.date = Depends(as_of_param),
              store: Store = Depends(get_store), answers: AnswerCache = Depends(cache)) -> Response:
    uri = escalation_catalogue.route_iri(route_id)

    def build() -> dict:
        try:
            return escalation.load_route(store, uri, day).as_json()
        except (KeyError, ValueError):
            raise HTTPException(404, f"no escalation route {route_id!r}; /escalation/routes lists them") from None
    return await answers.json(store, ("route", uri, day), build)
