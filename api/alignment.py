"""Alignment and quality by place for policy teams over HTTP. The work is done by
caregraph.alignment and caregraph.quality; this module reads the dates and maps errors."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import Response

from caregraph import alignment, quality
from caregraph.api.context import AnswerCache, as_of_param, cache, get_store
from caregraph.dates import parse_day
from caregraph.store import Store

router = APIRouter(tags=["policy"])


def _optional(name: str, text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return parse_day(text)
    except ValueError as exc:
        raise HTTPException(400, f"{name}: {exc}") from None


def alignment_result(store: Store, day: dt.date, start: dt.date | None, end: dt.date | None) -> dict:
    try:
        return alignment.alignment(store, day, start, end)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/alignment", summary="Where housing, health and care duties meet, miss, overlap and change",
            response_class=Response,
            responses={200: {"description": "the matrix of themes x sectors, bridges and the sector network, "
                                            "gaps, overlaps, single points of failure, and with `from` and `to` "
                                            "what changed between the two dates with the law that did it"},
                       400: {"description": "a bad date, or only one of `from` and `to`"}})
async def get_alignment(
        day: dt.date = Depends(as_of_param),
        from_: str | None = Query(None, alias="from", description="with `to`: what changed after this date "
                                                                  "(YYYY-MM-DD)", examples=["2012-01-01"]),
        to: str | None = Query(None, description="with `from`: what changed up to this date (YYYY-MM-DD)",
                               examples=["2023-01-01"]),
        store: Store = Depends(get_store), answers: AnswerCache = Depends(cache)) -> Response:
    start, end = _optional("from", from_), _optional("to", to)
    return await answers.json(store, ("alignment", day, start, end),
                              lambda: alignment_result(store, day, start, end))


def profile(store: Store, council: str, day: dt.date) -> dict:
    try:
        return quality.council_profile(store, council, day)
    except quality.QualityError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/councils/{council}/quality",
            summary="Quality of registered services in a council's area, beside who must act when one fails",
            response_class=Response,
            responses={200: {"description": "locations by service type with their latest overall ratings, the share "
                                            "rated Inadequate or Requires improvement, beds in such homes, England's "
                                            "figures, and the duties (with the local bodies) that act on failure"},
                       404: {"description": "no such council, or no CQC register imported"}})
async def council_quality(
        council: str = Path(..., description="a council's GSS code or name", examples=["E08000004"]),
        day: dt.date = Depends(as_of_param),
        store: Store = Depends(get_store), answers: AnswerCache = Depends(cache)) -> Response:
    return await answers.json(store, ("council-quality", council, day), lambda: profile(store, council, day))


def _national(store: Store, day: dt.date) -> dict:
    try:
        return {**quality.national(store, day), "councils": quality.councils_table(store, day)}
    except quality.QualityError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/quality", summary="Quality of registered services in England: by service type and by council",
            response_class=Response,
            responses={200: {"description": "England's figures, each service type nationally, one row per council"},
                       404: {"description": "no CQC register imported"}})
async def national_quality(day: dt.date = Depends(as_of_param), store: Store = Depends(get_store),
                           answers: AnswerCache = Depends(cache)) -> Response:
    return await answers.json(store, ("quality", day), lambda: _national(store, day))


def _icb(store: Store, icb: str, day: dt.date) -> dict:
    try:
        return quality.icb_quality(store, icb, day)
    except quality.QualityError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/icbs/{icb}/quality", summary="Quality of registered services in an integrated care board's area",
            response_class=Response,
            responses={200: {"description": "the same figures as for a council, for the locations whose record names "
                                            "the ICB"}, 404: {"description": "no such ICB, or no register imported"}})
async def icb_quality(icb: str = Path(..., description="the ICB's GSS (E54...) or ODS code, or its name",
                                      examples=["E54000057"]),
                      day: dt.date = Depends(as_of_param), store: Store = Depends(get_store),
                      answers: AnswerCache = Depends(cache)) -> Response:
    return await answers.json(store, ("icb-quality", icb, day), lambda: _icb(store, icb, day))
