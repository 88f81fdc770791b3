"""The FastAPI application: routers, errors, CORS and the SPARQL worker pool's lifetime."""

from __future__ import annotations

import asyncio
import functools
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from caregraph import __version__, warmup
from caregraph.actors import AmbiguousActor, UnknownActor
from caregraph.api import (actors, alignment, duties, escalation, linked_data, locations, pages, responsible, sparql,
                           validate)
from caregraph.api.context import AnswerCache
from caregraph.api.limits import BodyLimit
from caregraph.api.settings import Settings
from caregraph.api.sparql_remote import RemotePool
from caregraph.api.sparql_workers import SparqlPool
from caregraph.duties import UnknownDuty, UnknownFilter
from caregraph.store import OxigraphStore, SparqlEndpointStore, Store, StoreError

# One line per area; place-specific endpoints (api/locations.py) go in here too.
ROUTERS = (sparql, responsible, locations, actors, duties, escalation, alignment, validate, linked_data, pages)

DESCRIPTION = """Who is responsible for what in English adult social care, housing and health.

JSON answers for advocates' tools, the SPARQL 1.1 Protocol at `/sparql` for developers,
SHACL validation at `/validate`, and every caregraph URI (`/id/...`) dereferenceable with
content negotiation (HTML, Turtle, JSON-LD, N-Triples)."""


def _errors(app: FastAPI) -> None:
    @app.exception_handler(UnknownActor)
    async def unknown_actor(_: Request, exc: UnknownActor) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "suggestions": exc.suggestions}, status_code=404)

    @app.exception_handler(AmbiguousActor)
    async def ambiguous_actor(_: Request, exc: AmbiguousActor) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "candidates": [a.as_json() for a in exc.candidates]},
                            status_code=300)

    @app.exception_handler(UnknownDuty)
    async def unknown_duty(_: Request, exc: UnknownDuty) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "suggestions": exc.suggestions}, status_code=404)

    @app.exception_handler(UnknownFilter)
    async def unknown_filter(_: Request, exc: UnknownFilter) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": sparql.public(f"the store could not answer: {exc}")}, status_code=502)


CORS = {"allow_origins": ["*"], "allow_methods": ["GET", "HEAD"], "allow_headers": ["Accept", "Content-Type"],
        "expose_headers": ["Link"]}


class Service(FastAPI):
    """The application: SPARQL queries at /sparql are taken before FastAPI's middleware stack
    (sparql.QueryEndpoint, the server's hottest path), with the same CORS headers and body
    limit as every other request; everything else goes through the stack."""

    sparql_front: ASGIApp  # a GET without Origin: nothing to add
    sparql_guarded: ASGIApp  # CORS and the body limit around the same endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/sparql":
            if scope["method"] == "GET" and not any(k == b"origin" for k, _ in scope["headers"]):
                await self.sparql_front(scope, receive, send)
            else:
                await self.sparql_guarded(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _pool(store: Store, settings: Settings, after_write) -> SparqlPool | RemotePool:
    """What answers /sparql: worker processes over the embedded store, or the remote engine itself."""
    if isinstance(store, SparqlEndpointStore):
        if settings.update_token:
            raise ValueError("SPARQL updates through caregraph need the embedded store: with a remote engine, "
                             "send updates to the engine itself")
        return RemotePool(store.query_url, timeout=settings.query_timeout, result_limit=settings.result_limit)
    return SparqlPool(store.raw, size=settings.sparql_workers, timeout=settings.query_timeout,
                      result_limit=settings.result_limit, worker_memory=settings.worker_memory,
                      view=store.reader_view if store.path is not None else None, after_write=after_write,
                      network=bool(settings.federation))


def create_app(store: OxigraphStore | SparqlEndpointStore, settings: Settings | None = None) -> FastAPI:
    """The caregraph HTTP application over `store` (built and ready): the embedded store, or a
    remote SPARQL engine shared with other replicas."""
    settings = settings or Settings()
    def warm() -> None:  # in a thread: requests meanwhile wait for the index they need, built once
        if settings.warm_indexes:
            asyncio.get_running_loop().run_in_executor(None, warmup.warm, store)

    pool = _pool(store, settings, warm)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await pool.start()
        warm()
        try:
            yield
        finally:
            await pool.stop()

    app = Service(title="caregraph", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # /docs is pages.docs_page: no CDN scripts
    app.state.store = store
    app.state.settings = settings
    app.state.pool = pool
    app.state.answers = AnswerCache(settings.answer_cache)
    app.state.results = sparql.ResultCache(settings.sparql_cache)
    app.state.update_lock = asyncio.Lock()
    app.add_middleware(BodyLimit, limit=settings.upload_limit)  # outside every reader of a body
    app.add_middleware(CORSMiddleware, **CORS)
    # What the endpoint does not answer itself (the service description, updates) goes through the stack.
    app.sparql_front = sparql.QueryEndpoint(functools.partial(FastAPI.__call__, app), service=app)
    app.sparql_guarded = CORSMiddleware(BodyLimit(app.sparql_front, limit=settings.upload_limit), **CORS)
    _errors(app)

    @app.get("/health", tags=["service"], summary="For load balancers: \"ok\" (200) only when a query can be "
             "answered now, else 503 with the reason", responses={503: {"description": "no query can be answered"}})
    async def health() -> JSONResponse:
        problem = await pool.probe()
        return JSONResponse({"status": "unavailable" if problem else "ok", "problem": problem,
                             "version": __version__, "sparql_workers": pool.workers,
                             "queries_stopped": pool.killed, "store_generation": store.generation,
                             "sparql_results_cached": len(app.state.results),
                             "sparql_cache_hits": app.state.results.hits}, status_code=503 if problem else 200)

    for module in ROUTERS:
        app.include_router(module.router)

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema["paths"].update(sparql.OPENAPI_PATHS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app
