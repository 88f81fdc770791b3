"""The SPARQL 1.1 Protocol at /sparql: queries by GET, by POST form and by POST
application/sparql-query, updates behind a bearer token, and a service description.

Queries run in killable worker processes (sparql_workers.py) with the configured time
limit; results stream, and a result over the byte limit ends with a truncation marker
(sparql_output.py). Response headers `Caregraph-Time-Limit` (seconds) and
`Caregraph-Result-Limit` (bytes) state the limits. Updates: sparql_update.py. Relative
IRIs in a query or update resolve against the endpoint's own URL. No query or update
reaches another server unless the operator allows it (sparql_guard.py, sandbox.py).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import re
from collections import OrderedDict
from collections.abc import Hashable
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caregraph.api import negotiation, sparql_guard, sparql_lookup, sparql_update
from caregraph.api.sparql_tokens import tokens
from caregraph.api.sparql_output import GRAPH_FORMATS, OFFERS, RDF_FORMATS, RESULT_FORMATS
from caregraph.api.settings import Settings
from caregraph.api.sparql_workers import Execution, Job, QueryFailed, dataset
from caregraph.store import OxigraphStore, StoreError

log = logging.getLogger("caregraph.api")
router = APIRouter(tags=["sparql"])

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RESULT_FORMAT_IRIS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                       "Turtle", "N-Triples", "RDF_XML", "JSON-LD"]
QUERY_BODY = {
    "content": {
        "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
            "query": {"type": "string"}, "update": {"type": "string"},
            "default-graph-uri": {"type": "array", "items": {"type": "string"}},
            "named-graph-uri": {"type": "array", "items": {"type": "string"}},
            "using-graph-uri": {"type": "array", "items": {"type": "string"}},
            "using-named-graph-uri": {"type": "array", "items": {"type": "string"}}}}},
        "application/sparql-query": {"schema": {"type": "string"}},
        "application/sparql-update": {"schema": {"type": "string"}},
    }
}
RESULTS = {
    200: {"description": "SELECT/ASK results (SPARQL JSON, XML, CSV, TSV) or CONSTRUCT/DESCRIBE graphs "
                         "(Turtle, N-Triples, RDF/XML, JSON-LD) by Accept; the service description without a query",
          "content": {t.split(";")[0]: {} for t in dict.fromkeys(
              f.media_type for f in (*RESULT_FORMATS.values(), *GRAPH_FORMATS.values()))}},
    400: {"description": "malformed query, a repeated `query`, or a SERVICE this endpoint does not make, "
                         "with the reason", "content": {"text/plain": {}}},
    406: {"description": "no acceptable format for this kind of result", "content": {"text/plain": {}}},
    503: {"description": "the query ran past the time limit and was stopped", "content": {"text/plain": {}}},
}


def limits(settings: Settings) -> dict[str, str]:
    return {"Caregraph-Time-Limit": f"{settings.query_timeout:g}",
            "Caregraph-Result-Limit": str(settings.result_limit), "Vary": "Accept"}


def _limits(request: Request) -> dict[str, str]:
    return limits(request.app.state.settings)


# An absolute file path (not the path of an IRI: no scheme, host or word just before it).
_FILE_PATH = re.compile(r"(?<![\w:/.\-<])/(?:[\w.\-]+/)+[\w.\-]*")


def public(message: str) -> str:
    """An error message as a client may see it: no file paths of this machine."""
    return _FILE_PATH.sub("(a file of this server)", message)


def _error(status: int, message: str, request: Request) -> PlainTextResponse:
    return PlainTextResponse(public(message) + "\n", status_code=status, headers=_limits(request))


def base_iri(scope: Scope) -> str:
    """The endpoint's own URL, as the client addressed it: the base IRI of its queries and updates."""
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
    server = tuple(scope.get("server") or ("localhost", None))
    return _base_iri(scope.get("scheme", "http"), host, scope["path"], server)


@functools.lru_cache(maxsize=64)  # a server is addressed by a few names: each is checked once
def _base_iri(scheme: str, host: str, path: str, server: tuple) -> str:
    candidate = f"{scheme}://{host}{path}"
    try:
        ox.NamedNode(candidate)
    except ValueError:  # a Host header that is no host: fall back to the address that was reached
        port = f":{server[1]}" if server[1] else ""
        candidate = f"{scheme}://{server[0]}{port}{path}"
    return candidate


def _one(name: str, values: list[str]) -> str:
    """The single value of a parameter the protocol allows once; QueryFailed(400) if repeated."""
    if len(values) > 1:
        raise QueryFailed(400, f"the request has {len(values)} '{name}' parameters; send exactly one")
    return values[0]


def _utf8_only(content_type: str) -> None:
    """QueryFailed(415) for a body declared in a character set other than UTF-8 (the protocol's only one)."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise QueryFailed(415, f"the body must be UTF-8; this request declares charset={value.strip()}")


def _graphs(name: str, values: list[str]) -> list[str]:
    for value in values:
        try:
            ox.NamedNode(value)
        except ValueError:
            raise QueryFailed(400, f"{name}: not an IRI: {value!r}") from None
    return values


# Functions whose value changes from one run to the next: a query using one is never answered from the cache.
VOLATILE = frozenset({"NOW", "RAND", "UUID", "STRUUID", "BNODE"})


def _words(query: str) -> set[str]:
    """The query's keywords (function names included), upper-cased, outside strings, IRIs and comments."""
    return {t.keyword for t in tokens(query) if t.keyword is not None}


def make_job(query: str, accept: str | None, default_graphs: list[str], named_graphs: list[str],
             base: str, federation: frozenset[str]) -> Job:
    """A query job, or QueryFailed(400) for a SERVICE not allowed or a dataset IRI that is not an IRI."""
    try:
        sparql_guard.check_query(query, federation)
    except sparql_guard.Refused as exc:
        raise QueryFailed(400, str(exc)) from None
    return Job(query, accept, _graphs("default-graph-uri", default_graphs), _graphs("named-graph-uri", named_graphs),
               base)


class ResultCache:
    """Complete query results (media type and bytes) by store generation, query, Accept and
    dataset; least recently used out once they pass `budget` bytes. A write to the store
    starts a new generation, so an older result is never served after it. Only used from the
    event loop, so it needs no lock."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.hits = 0  # reported by /health
        self._entries: OrderedDict[Hashable, tuple[str, bytes]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> tuple[str, bytes] | None:
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
            self.hits += 1
        return hit

    def put(self, key: Hashable, media_type: str, body: bytes) -> None:
        if len(body) > self.budget // 16:  # one large result must not push out many small ones
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._size -= len(old[1])
        self._entries[key] = (media_type, body)
        self._size += len(body)
        while self._size > self.budget:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._size -= len(dropped)


class QueryEndpoint:
    """ASGI app that answers SPARQL queries at /sparql (GET ?query=, POST a form with `query`,
    POST application/sparql-query) without routing, Request or Response objects: the server's
    hottest path. Lookups are answered in this process (sparql_lookup.py), other queries by a
    worker. Everything else at /sparql (the service description, updates, errors about the
    request itself) passes on to `app`, the routes."""

    def __init__(self, app: ASGIApp, service: FastAPI) -> None:
        self.app, self.service = app, service
        self._limits = [(k.lower().encode(), v.encode()) for k, v in limits(service.state.settings).items()]
        self.results: ResultCache = service.state.results

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/sparql" or scope["method"] not in ("GET", "HEAD", "POST"):
            await self.app(scope, receive, send)
            return
        params = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        default_graphs, named_graphs = params.get("default-graph-uri", []), params.get("named-graph-uri", [])
        try:
            if scope["method"] != "POST":
                if "query" not in params or "update" in params:
                    await self.app(scope, receive, send)
                    return
                query = _one("query", params["query"])
            else:
                content_type = headers.get("content-type", "")
                kind = content_type.split(";")[0].strip().lower()
                if kind not in ("application/sparql-query", "application/x-www-form-urlencoded"):
                    await self.app(scope, receive, send)
                    return
                body = await _read_body(receive)  # BodyLimit stops it past the upload limit
                if kind == "application/x-www-form-urlencoded":
                    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                    if "update" in form or "update" in params or ("query" not in form and "query" not in params):
                        await self.app(scope, _replay(body), send)
                        return
                    query = _one("query", params.get("query", []) + form.get("query", []))
                    default_graphs = default_graphs + form.get("default-graph-uri", [])
                    named_graphs = named_graphs + form.get("named-graph-uri", [])
                else:
                    _utf8_only(content_type)
                    if "query" in params:
                        raise QueryFailed(400, "the query is the body of this request: do not also send a "
                                               "'query' parameter")
                    try:
                        query = body.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise QueryFailed(400, f"the body is not UTF-8: {exc}") from None
            lookup = sparql_lookup.is_lookup(query)  # a lookup has no function calls, volatile or not
            accept = headers.get("accept")
            base = base_iri(scope)
            key = None
            state = self.service.state
            # Over a remote engine shared with other replicas, the engine answers everything:
            # this process neither holds the data nor sees others' writes to key a cache on.
            local = isinstance(state.store, OxigraphStore)
            lookup = lookup and local
            if local and self.results.budget and (lookup or not _words(query) & VOLATILE):
                key = (state.store.generation, query, accept, tuple(default_graphs), tuple(named_graphs), base)
                hit = self.results.get(key)
                if hit is not None:
                    await self._whole(send, *hit)
                    return
            if lookup and state.pool.accepting:  # while an update is applied, queries wait for it
                answered = sparql_lookup.answer(
                    state.store.raw, query, accept, dataset(_graphs("default-graph-uri", default_graphs),
                                                            _graphs("named-graph-uri", named_graphs)),
                    base, state.settings.result_limit)
                if answered is not None:
                    if key is not None:
                        self.results.put(key, *answered)
                    await self._whole(send, *answered)
                    return
            execution = await state.pool.execute(
                make_job(query, accept, default_graphs, named_graphs, base, state.settings.federation))
        except QueryFailed as exc:
            await self._plain(send, exc.status, exc.message)
            return
        if execution.complete:  # nearly every answer: one piece, sent with its length
            body = b"".join(execution.body)
            if key is not None:
                self.results.put(key, execution.media_type, body)
            await self._whole(send, execution.media_type, body)
            return
        await self._stream(send, execution)

    def _headers(self, media_type: str) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", media_type.encode()), *self._limits]

    async def _whole(self, send: Send, media_type: str, body: bytes) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*self._headers(media_type), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _plain(self, send: Send, status: int, message: str) -> None:
        body = (public(message) + "\n").encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [*self._headers("text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _stream(self, send: Send, execution: Execution) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self._headers(execution.media_type)})
        chunks = execution.stream()
        try:
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await chunks.aclose()  # a client gone mid-stream: the pool stops the worker


async def _read_body(receive: Receive) -> bytes:
    parts, more = [], True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise QueryFailed(400, "the client closed the connection before the body was complete")
        parts.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(parts)


def _replay(body: bytes) -> Receive:
    """A receive callable that hands the routes a body this middleware has already read."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    return receive


async def _run_update(request: Request, update: str, using: list[str], using_named: list[str]) -> Response:
    settings = request.app.state.settings
    if not settings.update_token:
        return _error(403, "this endpoint is read-only: SPARQL updates are refused (no update token is configured)",
                      request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.update_token.encode()):
        return _error(403, "SPARQL updates need this server's update token, sent as 'Authorization: Bearer <token>'",
                      request)
    base = base_iri(request.scope)
    store = request.app.state.store
    try:
        sparql_guard.check_update(update, settings.federation)
        update = sparql_update.apply_dataset(update, using, using_named)
        async with request.app.state.update_lock:  # one at a time, so the rehearsal sees what the update will
            # Rehearsed: an update that reads the store (for the time limit), and one that could reach
            # out (its rehearsal cannot open a socket: a LOAD or SERVICE the check missed is caught there).
            if sparql_update.reads_store(update) or sparql_guard.may_reach_out(update):
                await asyncio.get_running_loop().run_in_executor(None, functools.partial(
                    sparql_update.rehearse, store.raw, store.path, update, base, settings.query_timeout,
                    bool(settings.federation)))
            await request.app.state.pool.exclusive(lambda: store.update(update, base_iri=base))
    except sparql_guard.Refused as exc:
        return _error(400, str(exc), request)
    except sparql_update.UpdateRefused as exc:
        return _error(exc.status, exc.message, request)
    except StoreError as exc:
        return _error(400, str(exc), request)
    except OSError:
        log.exception("a SPARQL update failed")
        return _error(500, "the update failed in the store; the server's log has the details", request)
    return Response(status_code=204, headers=_limits(request))


def service_description(request: Request) -> Response:
    """What the endpoint is and offers (SPARQL 1.1 Service Description), by content negotiation."""
    settings = request.app.state.settings
    endpoint = ox.NamedNode(str(request.url.replace(query="")))
    node = ox.BlankNode("service")
    dataset = ox.BlankNode("dataset")
    default = ox.BlankNode("default")

    def sd(name: str) -> ox.NamedNode:
        return ox.NamedNode(SD + name)

    triples = [ox.Triple(node, ox.NamedNode(RDF_TYPE), sd("Service")),
               ox.Triple(node, sd("endpoint"), endpoint),
               ox.Triple(node, sd("supportedLanguage"), sd("SPARQL11Query")),
               ox.Triple(node, sd("feature"), sd("UnionDefaultGraph")),
               ox.Triple(node, sd("defaultDataset"), dataset),
               ox.Triple(dataset, ox.NamedNode(RDF_TYPE), sd("Dataset")),
               ox.Triple(dataset, sd("defaultGraph"), default),
               ox.Triple(default, ox.NamedNode(RDF_TYPE), sd("Graph"))]
    if settings.update_token:
        triples.append(ox.Triple(node, sd("supportedLanguage"), sd("SPARQL11Update")))
    if settings.federation:  # SERVICE works, to the endpoints the operator allows
        triples.append(ox.Triple(node, sd("feature"), sd("BasicFederatedQuery")))
    for name in _RESULT_FORMAT_IRIS:
        triples.append(ox.Triple(node, sd("resultFormat"), ox.NamedNode(FORMATS_NS + name)))
    for i, graph in enumerate(request.app.state.store.graphs()):
        named = ox.BlankNode(f"graph{i}")
        triples += [ox.Triple(dataset, sd("namedGraph"), named), ox.Triple(named, sd("name"), ox.NamedNode(graph))]
    offers = OFFERS["graph"]
    chosen = negotiation.choose(request.headers.get("accept"), list(offers))
    if chosen is None:
        return _error(406, "the service description is offered as " + ", ".join(offers), request)
    fmt = offers[chosen]
    body = ox.serialize(triples, format=RDF_FORMATS[fmt],
                        prefixes={"sd": SD, "formats": FORMATS_NS} if fmt == "turtle" else None)
    return Response(body, media_type=GRAPH_FORMATS[fmt].media_type, headers=_limits(request))


async def sparql_get(request: Request) -> Response:
    """GET /sparql without a query (queries are answered by QueryEndpoint)."""
    if "update" in request.query_params:
        return _error(400, "SPARQL updates must be sent by POST", request)
    if negotiation.prefers_html(request.headers.get("accept")):
        from caregraph.api.pages import sparql_page
        return sparql_page(request)
    return service_description(request)


async def sparql_post(request: Request) -> Response:
    """POST /sparql with an update, or a body QueryEndpoint could not take as a query."""
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    params = request.query_params
    using, using_named = params.getlist("using-graph-uri"), params.getlist("using-named-graph-uri")
    try:
        if kind == "application/x-www-form-urlencoded":
            form = await request.form()
            queries = params.getlist("query") + [str(v) for v in form.getlist("query")]
            updates = params.getlist("update") + [str(v) for v in form.getlist("update")]
            if queries and updates:
                return _error(400, "send either query or update, not both", request)
            if not updates:
                return _error(400, "the form has no 'query' (or 'update') field", request)
            update = _one("update", updates)
            using += [str(v) for v in form.getlist("using-graph-uri")]
            using_named += [str(v) for v in form.getlist("using-named-graph-uri")]
        elif kind == "application/sparql-update":
            _utf8_only(content_type)
            if "update" in params:
                return _error(400, "the update is the body of this request: do not also send an 'update' parameter",
                              request)
            body = await request.body()
            try:
                update = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                return _error(400, f"the body is not UTF-8: {exc}", request)
        else:
            return _error(415, "POST a form (application/x-www-form-urlencoded), application/sparql-query or "
                               "application/sparql-update", request)
    except QueryFailed as exc:
        return _error(exc.status, exc.message, request)
    return await _run_update(request, update, using, using_named)


async def sparql(request: Request) -> Response:
    if request.method == "POST":
        return await sparql_post(request)
    return await sparql_get(request)


# A plain Starlette route (the queries themselves never reach it: see QueryEndpoint); its
# OpenAPI description, queries included, is written out below.
router.add_route("/sparql", sparql, methods=["GET", "POST"], include_in_schema=False)

_GRAPH_PARAMS = [
    {"name": "default-graph-uri", "in": "query", "required": False, "description": "a graph for the default graph",
     "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True},
    {"name": "named-graph-uri", "in": "query", "required": False, "description": "a graph GRAPH may name",
     "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True},
]
_USING_PARAMS = [
    {"name": "using-graph-uri", "in": "query", "required": False,
     "description": "for an update: a graph its WHERE reads as the default graph",
     "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True},
    {"name": "using-named-graph-uri", "in": "query", "required": False,
     "description": "for an update: a graph its WHERE may name with GRAPH",
     "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True},
]
OPENAPI_PATHS = {
    "/sparql": {
        "get": {
            "tags": ["sparql"], "operationId": "sparql_query_get",
            "summary": "SPARQL query by GET, or the service description without a query",
            "parameters": [{"name": "query", "in": "query", "required": False, "description": "a SPARQL 1.1 query",
                            "schema": {"type": "string"}}, *_GRAPH_PARAMS],
            "responses": {str(k): v for k, v in RESULTS.items()},
        },
        "post": {
            "tags": ["sparql"], "operationId": "sparql_query_or_update_post",
            "summary": "SPARQL query or update by POST (form, sparql-query or sparql-update body)",
            "parameters": [*_GRAPH_PARAMS, *_USING_PARAMS],
            "requestBody": QUERY_BODY,
            "responses": {**{str(k): v for k, v in RESULTS.items()},
                          "204": {"description": "the update was applied"},
                          "403": {"description": "updates refused: no token configured, or a wrong or missing token",
                                  "content": {"text/plain": {}}},
                          "413": {"description": "the body is too large"},
                          "415": {"description": "unknown body type"}},
        },
    }
}
