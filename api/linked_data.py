"""Linked data: every caregraph URI https://w3id.org/caregraph/id/... dereferences here at
/id/... with content negotiation (HTML for browsers, Turtle, JSON-LD, N-Triples, RDF/XML),
and the JSON-LD @context is published at /context.jsonld."""

from __future__ import annotations

import json

import pyoxigraph as ox
import rdflib
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from caregraph import linked_data
from caregraph.api import negotiation, pages
from caregraph.namespaces import ID

router = APIRouter(tags=["linked data"])

CONTEXT_PATH = "/context.jsonld"
OFFERS = {
    "text/turtle": "turtle", "application/x-turtle": "turtle",
    "application/ld+json": "jsonld", "application/json": "jsonld",
    "application/n-triples": "nt", "text/plain": "nt",
    "application/rdf+xml": "rdfxml",
    "text/html": "html", "application/xhtml+xml": "html",
}
MEDIA = {"turtle": "text/turtle; charset=utf-8", "jsonld": "application/ld+json", "nt": "application/n-triples",
         "rdfxml": "application/rdf+xml"}


def context_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + CONTEXT_PATH


def to_jsonld(triples: list[ox.Triple], context_ref: str) -> bytes:
    """Compact JSON-LD using caregraph's context, which the document references by URL."""
    graph = rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    context = linked_data.jsonld_context()["@context"]
    document = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
    document["@context"] = context_ref
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def serialize(triples: list[ox.Triple], fmt: str, request: Request) -> Response:
    if fmt == "jsonld":
        body = to_jsonld(triples, context_url(request))
    else:
        rdf_format = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
                      "rdfxml": ox.RdfFormat.RDF_XML}[fmt]
        body = ox.serialize(triples, format=rdf_format,
                            prefixes=linked_data.JSONLD_PREFIXES if fmt != "nt" else None)
    return Response(body, media_type=MEDIA[fmt], headers={"Vary": "Accept"})


@router.get(CONTEXT_PATH, summary="The JSON-LD @context of caregraph's terms and identifiers",
            response_class=JSONResponse)
def context() -> JSONResponse:
    return JSONResponse(linked_data.jsonld_context(), media_type="application/ld+json",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/id/{path:path}", summary="Dereference a caregraph URI (https://w3id.org/caregraph/id/...)",
            response_class=Response,
            responses={200: {"description": "what caregraph says about the resource, by Accept",
                             "content": {m: {} for m in ("text/html", "text/turtle", "application/ld+json",
                                                         "application/n-triples", "application/rdf+xml")}},
                       404: {"description": "caregraph has nothing about this URI"},
                       406: {"description": "no acceptable format"}})
def dereference(path: str, request: Request) -> Response:
    uri = ID + path
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, list(OFFERS))
    if chosen is None:
        return JSONResponse({"detail": "resources are offered as " + ", ".join(OFFERS)}, status_code=406)
    fmt = OFFERS[chosen]
    store = request.app.state.store
    try:
        triples = linked_data.describe(store, uri)
    except ValueError:
        triples = []
    if not triples:
        if fmt == "html":
            return pages.not_found(request, f"caregraph has nothing about {uri}")
        return JSONResponse({"detail": f"caregraph has nothing about <{uri}>"}, status_code=404)
    if fmt == "html":
        return pages.resource_page(request, uri, triples)
    return serialize(triples, fmt, request)
