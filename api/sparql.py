"""The SPARQL 1.1 Protocol at /sparql: queries by GET, by POST form and by POST
application/sparql-query, updates behind a bearer token, and a service description.

Queries run in killable worker processes (sparql_workers.py) with the configured time
limit; results stream, and a result over the byte limit ends with a truncation marker
(sparql_output.py). Response headers `Caregraph-Time-Limit` (seconds) and
`Caregraph-Result-Limit` (bytes) state the limits.
"""

from __future__ import annotations

import hmac
import re
from collections import OrderedDict
from collections.abc import Hashable
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caregraph.api import negotiation
from caregraph.api.sparql_output import GRAPH_FORMATS, OFFERS, RDF_FORMATS, RESULT_FORMATS
from caregraph.api.settings import Settings
from caregraph.api.sparql_workers import Execution, Job, QueryFailed
from caregraph.store import StoreError

router = APIRouter(tags=["sparql"])

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RESULT_FORMAT_IRIS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                       "Turtle", "N-Triples", "RDF_XML", "JSON-LD"]
# Strings, IRIs and comments, so a keyword is only seen where it is a keyword.
_TOKENS = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\'|"(?:[^"\\\n]|\\.)*"'
                     r"|'(?:[^'\\\n]|\\.)*'|<[^<>\"{}|^`\\\s]*>|#[^\n]*|[?$]?[A-Za-z_][\w\-.:]*", re.S)

QUERY_BODY = {
    "content": {
        "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
            "query": {"type": "string"}, "update": {"type": "string"},
            "default-graph-uri": {"type": "array", "items": {"type": "string"}},
            "named-graph-uri": {"type": "array", "items": {"type": "string"}}}}},
        "application/sparql-query": {"schema": {"type": "string"}},
        "application/sparql-update": {"schema": {"type": "string"}},
    }
}
RESULTS = {
    200: {"description": "SELECT/ASK results (SPARQL JSON, XML, CSV, TSV) or CONSTRUCT/DESCRIBE graphs "
                         "(Turtle, N-Triples, RDF/XML, JSON-LD) by Accept; the service description without a query",
          "content": {t.split(";")[0]: {} for t in dict.fromkeys(
              f.media_type for f in (*RESULT_FORMATS.values(), *GRAPH_FORMATS.values()))}},
    400: {"description": "malformed query, with the parser's message", "content": {"text/plain": {}}},
    406: {"description": "no acceptable format for this kind of result", "content": {"text/plain": {}}},
    503: {"description": "the query ran past the time limit and was stopped", "content": {"text/plain": {}}},
}


def limits(settings: Settings) -> dict[str, str]:
    return {"Caregraph-Time-Limit": f"{settings.query_timeout:g}",
            "Caregraph-Result-Limit": str(settings.result_limit), "Vary": "Accept"}


def _limits(request: Request) -> dict[str, str]:
    return limits(request.app.state.settings)


def _error(status: int, message: str, request: Request) -> PlainTextResponse:
    return PlainTextResponse(message + "\n", status_code=status, headers=_limits(request))


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
    """The query's keywords and names, upper-cased, outside strings, IRIs and comments."""
    return {m.group(0).upper() for m in _TOKENS.finditer(query)}


def uses_service(query: str) -> bool:
    """Whether the query asks for a remote SERVICE (refused: the server must not fetch URLs for clients)."""
    return "SERVICE" in _words(query)


def make_job(query: str, accept: str | None, default_graphs: list[str], named_graphs: list[str],
             words: set[str] | None = None) -> Job:
    """A query job, or QueryFailed(400) for SERVICE or a dataset IRI that is not an IRI."""
    if "SERVICE" in (_words(query) if words is None else words):
        raise QueryFailed(400, "SERVICE (federated query) is not allowed on this endpoint")
    return Job(query, accept, _graphs("default-graph-uri", default_graphs), _graphs("named-graph-uri", named_graphs))


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
    """ASGI middleware that answers SPARQL queries at /sparql (GET ?query=, POST a form with
    `query`, POST application/sparql-query) without routing, Request or Response objects: the
    server's hottest path. Everything else at /sparql (the service description, updates,
    errors about the request itself) passes on to the routes below."""

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
        if scope["method"] != "POST":
            if "query" not in params or "update" in params:
                await self.app(scope, receive, send)
                return
            query = params["query"][0]
        else:
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in ("application/sparql-query", "application/x-www-form-urlencoded"):
                await self.app(scope, receive, send)
                return
            limit = self.service.state.settings.upload_limit
            body = await _read_body(receive, limit, headers.get("content-length"))
            if body is None:
                await self._plain(send, 413, f"the request body is larger than this server's limit of {limit} bytes")
                return
            if kind == "application/x-www-form-urlencoded":
                form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                if "query" not in form or "update" in form:
                    await self.app(scope, _replay(body), send)
                    return
                query = form["query"][0]
                default_graphs = default_graphs + form.get("default-graph-uri", [])
                named_graphs = named_graphs + form.get("named-graph-uri", [])
            else:
                try:
                    query = body.decode("utf-8")
                except UnicodeDecodeError as exc:
                    await self._plain(send, 400, f"the body is not UTF-8: {exc}")
                    return
        words = _words(query)
        accept = headers.get("accept")
        key = None
        if self.results.budget and not words & VOLATILE:
            key = (self.service.state.store.generation, query, accept, tuple(default_graphs), tuple(named_graphs))
            hit = self.results.get(key)
            if hit is not None:
                await self._whole(send, *hit)
                return
        try:
            execution = await self.service.state.pool.execute(
                make_job(query, accept, default_graphs, named_graphs, words))
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
        body = (message + "\n").encode("utf-8")
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


async def _read_body(receive: Receive, limit: int, declared: str | None) -> bytes | None:
    """The request body, or None when it is over `limit` bytes (read no further than that)."""
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    parts, size, more = [], 0, True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
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


async def _run_update(request: Request, update: str) -> Response:
    settings = request.app.state.settings
    if not settings.update_token:
        return _error(403, "this endpoint is read-only: SPARQL updates are refused (no update token is configured)",
                      request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.update_token.encode()):
        return _error(403, "SPARQL updates need this server's update token, sent as 'Authorization: Bearer <token>'",
                      request)
    if uses_service(update):
        return _error(400, "SERVICE (federated query) is not allowed on this endpoint", request)
    store = request.app.state.store
    try:
        await request.app.state.pool.exclusive(lambda: store.update(update))
    except StoreError as exc:
        return _error(400, str(exc), request)
    except OSError as exc:
        return _error(500, f"the update failed: {exc}", request)
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
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limit = request.app.state.settings.upload_limit
    if kind == "application/x-www-form-urlencoded":
        form = await request.form()
        query, update = form.get("query"), form.get("update")
        if query is not None and update is not None:
            return _error(400, "send either query or update, not both", request)
        if update is None:
            return _error(400, "the form has no 'query' (or 'update') field", request)
        return await _run_update(request, str(update))
    if kind == "application/sparql-update":
        body = await request.body()
        if len(body) > limit:
            return _error(413, f"the request body is larger than this server's limit of {limit} bytes", request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _error(400, f"the body is not UTF-8: {exc}", request)
        return await _run_update(request, text)
    return _error(415, "POST a form (application/x-www-form-urlencoded), application/sparql-query or "
                       "application/sparql-update", request)


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
            "parameters": _GRAPH_PARAMS,
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
