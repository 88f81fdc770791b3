"""POST /validate: RDF in, a SHACL report out (JSON or Turtle by Accept), validated together
with the built graph; `?target=IRI` validates one focus node (Fuseki's shape of this service).
The validation itself is the library's (caregraph.validation)."""

from __future__ import annotations

import json
import re

import pyoxigraph as ox
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from caregraph.api import negotiation
from caregraph.api.linked_data import CONTEXT_PATH
from caregraph.linked_data import jsonld_context
from caregraph.validation import ValidationReport, validate
from caregraph.validation.rdf_input import UnreadableInput, parse_rdf

router = APIRouter(tags=["validation"])

# The store's parser reads the body (in Rust, a tenth of rdflib's time and garbage, so the
# server stays responsive); the library hands pySHACL the terms unchanged (rdf_input.to_rdflib).
PARSERS = {"text/turtle": ox.RdfFormat.TURTLE, "application/x-turtle": ox.RdfFormat.TURTLE,
           "application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
           "application/ld+json": ox.RdfFormat.JSON_LD, "application/rdf+xml": ox.RdfFormat.RDF_XML}
REPORTS = {"application/json": "json", "application/ld+json": "json", "text/turtle": "turtle"}
# JSON-LD nested deeper than this is refused before it is read: a reader recursing through
# 10,000 levels fails; real documents stay within a few dozen.
JSONLD_MAX_DEPTH = 100
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether arrays and objects in `text` nest deeper than `limit` (strings skipped)."""
    depth = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def _inline_contexts(node: object) -> object:
    """Replace references to caregraph's published context by the context itself; refuse any
    other remote context, which this server will not fetch on a client's behalf."""
    if isinstance(node, list):
        return [_inline_contexts(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, val in node.items():
        if key == "@context":
            refs = val if isinstance(val, list) else [val]
            resolved = []
            for ref in refs:
                if isinstance(ref, str):
                    if not ref.endswith(CONTEXT_PATH):
                        raise HTTPException(400, f"JSON-LD: remote @context {ref!r} is not fetched by this "
                                                 f"server; inline it or use {CONTEXT_PATH}")
                    ref = jsonld_context()["@context"]
                resolved.append(ref)
            out[key] = resolved if isinstance(val, list) else resolved[0]
        else:
            out[key] = _inline_contexts(val)
    return out


def parse_body(body: bytes, content_type: str) -> list[ox.Triple]:
    """The posted RDF's triples; raises HTTPException 400/415. It blocks: run it in a
    worker thread."""
    kind = content_type.split(";")[0].strip().lower()
    fmt = PARSERS.get(kind)
    if fmt is None:
        raise HTTPException(415, f"send RDF as one of: {', '.join(PARSERS)} (got {kind or 'no Content-Type'})")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"the body is not UTF-8: {exc}") from None
    if fmt == ox.RdfFormat.JSON_LD:
        if json_depth_exceeds(text, JSONLD_MAX_DEPTH):
            raise HTTPException(400, f"JSON-LD nested more than {JSONLD_MAX_DEPTH} levels deep is refused")
        if '"@import"' in text:
            raise HTTPException(400, "JSON-LD: @import is not fetched by this server; inline the context")
        try:
            body = json.dumps(_inline_contexts(json.loads(text))).encode("utf-8")
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"malformed JSON-LD: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    try:
        return parse_rdf(body, fmt, "the body")  # refuses an XML DTD: no entity is ever expanded
    except UnreadableInput as exc:
        raise HTTPException(400, f"malformed {kind}: {exc}") from None


@router.post("/validate", summary="Validate RDF against caregraph's SHACL shapes", response_class=Response,
             openapi_extra={"requestBody": {"required": True, "content": {
                 t: {"schema": {"type": "string"}} for t in ("text/turtle", "application/n-triples",
                                                             "application/ld+json")}}},
             responses={200: {"description": "the SHACL validation report (conforms or not); header "
                                             "Caregraph-Conforms says which",
                              "content": {"application/json": {}, "text/turtle": {}}},
                        400: {"description": "malformed RDF or target, with the parser's message"},
                        406: {"description": "report only as JSON or Turtle"},
                        413: {"description": "body too large"}, 415: {"description": "not an RDF type"}})
async def validate_data(request: Request, target: str | None = Query(
        None, description="validate only this focus node (an IRI)")) -> Response:
    chosen = negotiation.choose(request.headers.get("accept"), list(REPORTS))
    if chosen is None:
        raise HTTPException(406, "the report is offered as application/json or text/turtle")
    limit = request.app.state.settings.upload_limit
    body = await request.body()
    if len(body) > limit:
        raise HTTPException(413, f"the body is larger than this server's limit of {limit} bytes")
    if not body.strip():
        raise HTTPException(400, "the body is empty: POST the RDF to validate")
    focus = None
    if target is not None:
        try:
            focus = [ox.NamedNode(target).value]
        except ValueError:
            raise HTTPException(400, f"target: not an IRI: {target!r}") from None
    content_type = request.headers.get("content-type", "")

    def parse_and_validate() -> ValidationReport:
        return validate(parse_body(body, content_type), focus=focus)

    # Parsing and validation take seconds on big bodies: a worker thread keeps the server answering.
    report = await run_in_threadpool(parse_and_validate)
    headers = {"Caregraph-Conforms": "true" if report.conforms else "false"}
    if REPORTS[chosen] == "turtle":
        return Response(report.to_turtle(), media_type="text/turtle; charset=utf-8", headers=headers)
    return Response(report.to_json(), media_type="application/json", headers=headers)
