"""Reading RDF to validate, with errors that name the file and line, and moving terms
between pyoxigraph (the store) and rdflib (pySHACL's graphs) without changing them."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import rdflib

from caregraph.namespaces import XSD

# The formats `caregraph validate` reads, by file extension.
FORMATS_BY_SUFFIX = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".turtle": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".trig": ox.RdfFormat.TRIG,
    ".nq": ox.RdfFormat.N_QUADS,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
}

Term = ox.NamedNode | ox.BlankNode | ox.Literal
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_XSD_STRING = XSD + "string"


class UnreadableInput(Exception):
    """A file (or posted document) that is not readable RDF; names it and the line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source, self.line, self.reason = source, line, message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


def format_for(path: Path) -> ox.RdfFormat:
    try:
        return FORMATS_BY_SUFFIX[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(FORMATS_BY_SUFFIX))
        raise UnreadableInput(str(path), None,
                              f"cannot tell the RDF format from the extension {path.suffix!r} "
                              f"(use one of {known})") from None


def read_rdf(path: Path) -> list[ox.Triple]:
    """The triples of one file, from any graph it names; raises UnreadableInput."""
    fmt = format_for(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableInput(str(path), None, exc.strerror or str(exc)) from None
    return parse_rdf(data, fmt, str(path), base_iri=path.resolve().as_uri())


def has_dtd(data: bytes) -> bool:
    """Whether an XML document declares a DOCTYPE or entities: a DTD can declare entities that
    expand to gigabytes ("billion laughs"), and RDF/XML needs none, so caregraph refuses it."""
    return _DTD.search(data) is not None


def parse_rdf(data: bytes, fmt: ox.RdfFormat, source: str, base_iri: str | None = None) -> list[ox.Triple]:
    """Parse a document (a file's bytes or a posted body); raises UnreadableInput naming `source`."""
    if fmt == ox.RdfFormat.RDF_XML and has_dtd(data):
        raise UnreadableInput(source, None, "RDF/XML with a DOCTYPE or ENTITY declaration is refused: "
                                            "caregraph expands no XML entities")
    try:
        quads = list(ox.parse(data, fmt, base_iri=base_iri))
    except SyntaxError as exc:
        raise UnreadableInput(source, exc.lineno, exc.msg or str(exc)) from None
    except ValueError as exc:
        raise UnreadableInput(source, None, str(exc)) from None
    return [q.triple if isinstance(q, ox.Quad) else q for q in quads]


# -- terms -------------------------------------------------------------------

def to_rdflib(term: Term) -> rdflib.term.Identifier:
    """An rdflib term for a store term.

    A literal the store holds as xsd:string becomes a plain rdflib literal, as rdflib's own
    parser makes it: pySHACL compares terms exactly, and `"Good"^^xsd:string` is not
    `Literal("Good")` to it (the xsd:string pitfall in ENGINES.md).
    """
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == _XSD_STRING:
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value), normalize=False)


def from_rdflib(term: rdflib.term.Identifier) -> Term:
    """A store term for an rdflib term (a plain literal becomes xsd:string, as in RDF 1.1)."""
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is None:
            return ox.Literal(str(term))
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    raise TypeError(f"not an RDF term: {term!r}")


def triples_to_rdflib(triples, graph: rdflib.Graph | None = None) -> rdflib.Graph:
    graph = graph if graph is not None else rdflib.Graph()
    for t in triples:
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return graph


def rdflib_to_triples(graph: rdflib.Graph) -> list[ox.Triple]:
    return [ox.Triple(from_rdflib(s), from_rdflib(p), from_rdflib(o)) for s, p, o in graph]
