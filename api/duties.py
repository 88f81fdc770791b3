"""Duties: the catalogue with filters and pages, and one duty's full record."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from caregraph import duties
from caregraph.api.context import AnswerCache, as_of_param, cache, get_store, optional_day
from caregraph.store import Store

router = APIRouter(tags=["duties"])


@router.get("/duties", summary="Duties filtered by theme, sector, holder, law and date", response_class=Response,
            responses={200: {"description": "total, offset, limit and items (each as in /responsible, with themes)"},
                       400: {"description": "a filter that matches nothing (with suggestions) or a bad date"},
                       404: {"description": "holder names no actor"}})
async def list_duties(theme: str | None = Query(None, description="a theme id (safeguarding) or IRI; narrower themes count"),
                sector: str | None = Query(None, description="a sector id (care, health, housing) or IRI"),
                holder: str | None = Query(None, description="an actor id or name holding the duty as "
                                                             "accountable or responsible"),
                legal_basis: str | None = Query(None, description="a provision or Act: IRI or legislation.gov.uk "
                                                                  "path such as ukpga/2014/23/section/42"),
                day: dt.date | None = Depends(optional_day),
                offset: int = Query(0, ge=0), limit: int = Query(20, ge=1, le=200),
                store: Store = Depends(get_store), answers: AnswerCache = Depends(cache)) -> Response:
    return await answers.json(store, ("duties", theme, sector, holder, legal_basis, day, offset, limit),
                        lambda: duties.list_duties(store, theme=theme, sector=sector, holder=holder,
                                                   legal_basis=legal_basis, as_of=day, offset=offset,
                                                   limit=limit).as_json())


@router.get("/duties/{duty_id}", summary="One duty in full", response_class=Response,
            responses={200: {"description": "the duty, its law, holders on the date, every assignment, themes"},
                       404: {"description": "no such duty (with suggestions)"}})
async def get_duty(duty_id: str = Path(..., examples=["ca-s42-enquiry"]), day: dt.date = Depends(as_of_param),
             store: Store = Depends(get_store), answers: AnswerCache = Depends(cache)) -> Response:
    return await answers.json(store, ("duty", duty_id, day), lambda: duties.get_duty(store, duty_id, day))
