"""What endpoints share: the store, the settings, dates from query strings and the answer cache."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from fastapi import HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from caregraph.dates import parse_day
from caregraph.store import Store


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def as_of_param(as_of: str | None = Query(None, description="the law as it stood on this date (YYYY-MM-DD); "
                                                          "default today", examples=["2019-06-01"])) -> dt.date:
    try:
        return parse_day(as_of)
    except ValueError as exc:
        raise HTTPException(400, f"as_of: {exc}") from None


async def optional_day(as_of: str | None = Query(None, description="only what held on this date (YYYY-MM-DD)")
                 ) -> dt.date | None:
    if as_of is None:
        return None
    try:
        return parse_day(as_of)
    except ValueError as exc:
        raise HTTPException(400, f"as_of: {exc}") from None


class AnswerCache:
    """Serialized JSON answers, least recently used out; a write to the store (a new
    generation) makes every older entry a miss."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    async def json(self, store: Store, key: Hashable, build: Callable[[], object]) -> Response:
        """The cached answer, or `build()` run in a worker thread (library calls block) and kept."""
        full = (store.generation, key)
        with self._lock:
            body = self._entries.get(full)
            if body is not None:
                self._entries.move_to_end(full)
        if body is None:
            body = await run_in_threadpool(lambda: json.dumps(build(), ensure_ascii=False).encode("utf-8"))
            if self.size:
                with self._lock:
                    self._entries[full] = body
                    while len(self._entries) > self.size:
                        self._entries.popitem(last=False)
        return Response(body, media_type="application/json")


async def cache(request: Request) -> AnswerCache:
    return request.app.state.answers
