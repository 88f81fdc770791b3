"""Actors: the catalogue, one actor's record, and its chains of accountability to Parliament."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from caregraph import accountability, actor_profile
from caregraph.actors import directory
from caregraph.api.context import AnswerCache, as_of_param, cache, get_store, optional_day
from caregraph.store import Store

router = APIRouter(tags=["actors"])

ACTOR_ID = Path(..., description="an actor id (cqc), name or acronym", examples=["cqc"])


@router.get("/actors", summary="The actors caregraph knows, a page at a time", response_class=Response,
            responses={200: {"description": "total, offset, limit and items",
                             "content": {"application/json": {"example": {"total": 76, "offset": 0, "limit": 50,
                                                                          "items": [{"id": "cqc", "label": "Care Quality Commission",
                                                                                     "class": "Organisation", "kind": "regulator"}]}}}},
                       400: {"description": "an unknown kind or a bad date"}})
async def list_actors(kind: str | None = Query(None, description="an actor kind (regulator, ombudsman...) or class "
                                                           "(Organisation, StatutoryRole, Post, PersonRole)"),
                name: str | None = Query(None, description="keep actors whose names contain this"),
                day: dt.date | None = Depends(optional_day),
                offset: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=200),
                store: Store = Depends(get_store), answers: AnswerCache = Depends(cache)) -> Response:
    return await answers.json(store, ("actors", kind, name, day, offset, limit), lambda: actor_profile.list_actors(
        store, kind=kind, as_of=day, name=name, offset=offset, limit=limit).as_json())


@router.get("/actors/{actor_id}", summary="One actor: facts, law, duties, accountability, successions",
            response_class=Response,
            responses={200: {"description": "the actor's record as of the date"},
                       404: {"description": "no such actor (with suggestions)"},
                       300: {"description": "the name fits several actors"}})
async def get_actor(actor_id: str = ACTOR_ID, day: dt.date = Depends(as_of_param), store: Store = Depends(get_store),
              answers: AnswerCache = Depends(cache)) -> Response:
    return await answers.json(store, ("actor", actor_id, day),
                              lambda: actor_profile.profile(store, directory(store).resolve(actor_id), day))


@router.get("/actors/{actor_id}/accountability", summary="Chains of accountability up to Parliament",
            response_class=Response,
            responses={200: {"description": "the chains, shortest first (empty if the actor did not exist then)"},
                       404: {"description": "no such actor"}})
async def get_accountability(actor_id: str = ACTOR_ID, day: dt.date = Depends(as_of_param),
                       limit: int = Query(5, ge=1, le=50, description="at most this many chains"),
                       store: Store = Depends(get_store), answers: AnswerCache = Depends(cache)) -> Response:
    def build() -> dict:
        actor = directory(store).resolve(actor_id)
        chains = accountability.chains(store, actor, day, limit=limit)
        return {"actor": actor.as_json(), "as_of": day.isoformat(), "chains": [c.as_json() for c in chains]}
    return await answers.json(store, ("chains", actor_id, day, limit), build)
