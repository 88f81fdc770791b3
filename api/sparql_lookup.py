"""Lookups answered in the serving process, without a trip to a query worker.

A worker process exists so that a query can be killed at the time limit (pyoxigraph has no
timeout). A lookup, a SELECT or ASK whose whole WHERE is one triple pattern with no variable
repeated, and no DISTINCT, ORDER BY, GROUP BY, OFFSET, FILTER, path or sub-query, is a scan
of one index range: every step of its evaluation yields a solution after a bounded amount of
work. Such a query is run here, with its output written by pyoxigraph's own serializer into a
writer that stops it after `INLINE_BYTES` bytes or `INLINE_SECONDS`; a lookup that runs past
either is given up and goes to a worker like any other query (which cuts and marks the result
at the server's limits), so the event loop is never held for longer than that.

The shape is recognised by matching the whole query text against the grammar's terminals
(IRIs, prefixed names, variables, literals, comments), so text inside an IRI, a string or a
comment cannot make another query look like a lookup.
"""

from __future__ import annotations

import functools
import re
import time

import pyoxigraph as ox

from caregraph.api import negotiation
from caregraph.api.sparql_output import FORMATS, OFFERS

INLINE_BYTES = 256 * 1024  # more output than this goes to a worker
INLINE_SECONDS = 0.02  # a lookup still running after this goes to a worker

_SPACE = r"(?:\s|#[^\n\r]*)*"  # whitespace and comments
_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_PNAME = r"(?:[A-Za-z](?:[\w.\-]*[\w\-])?)?:(?:\w(?:[\w.\-]*[\w\-])?)?"
_VAR = r"[?$]\w+"
_STRING = r"\"(?:[^\"\\\n\r]|\\[tbnrf\\\"'])*\"|'(?:[^'\\\n\r]|\\[tbnrf\\\"'])*'"
_LITERAL = (rf"(?:{_STRING})(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^(?:{_IRI}|{_PNAME}))?"
            r"|[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|(?i:true|false)")
_TERM = rf"{_IRI}|{_PNAME}|{_VAR}|{_LITERAL}"
_LOOKUP = re.compile(
    rf"{_SPACE}(?:(?i:BASE){_SPACE}{_IRI}{_SPACE}|(?i:PREFIX){_SPACE}{_PNAME}{_SPACE}{_IRI}{_SPACE})*"
    rf"(?:(?i:SELECT){_SPACE}(?:\*|(?:{_VAR}{_SPACE})+)|(?i:ASK)){_SPACE}(?:(?i:WHERE){_SPACE})?"
    rf"\{{{_SPACE}(?P<s>{_TERM}){_SPACE}(?P<p>{_IRI}|{_PNAME}|{_VAR}|a){_SPACE}(?P<o>{_TERM}){_SPACE}\.?{_SPACE}\}}"
    rf"{_SPACE}(?:(?i:LIMIT){_SPACE}\d+{_SPACE})?",
    re.S)


def is_lookup(query: str) -> bool:
    """Whether the query is a single-pattern lookup (see the module's description)."""
    match = _LOOKUP.fullmatch(query)
    if match is None:
        return False
    variables = [term[1:] for term in match.group("s", "p", "o") if term[0] in "?$"]
    return len(variables) == len(set(variables))  # `?x ?p ?x` filters a scan: unbounded work per solution


class _Overrun(Exception):
    pass


class _BoundedOutput:
    """Where pyoxigraph writes the result: gives up once it is too long or too late."""

    def __init__(self, max_bytes: int, deadline: float) -> None:
        self.parts: list[bytes] = []
        self.size, self.max_bytes, self.deadline = 0, max_bytes, deadline

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.max_bytes or time.monotonic() > self.deadline:
            raise _Overrun
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


_SERIALIZERS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}


@functools.lru_cache(maxsize=256)  # clients send few distinct Accept headers, each parsed once
def _format(kind: str, accept: str | None) -> str | None:
    chosen = negotiation.choose(accept, list(OFFERS[kind]))
    return None if chosen is None else OFFERS[kind][chosen]


def answer(store: ox.Store, query: str, accept: str | None, dataset: dict, base_iri: str | None,
           result_limit: int) -> tuple[str, bytes] | None:
    """The media type and body of the complete result of a query `is_lookup` accepted, or None
    when a worker must answer it: an error to report, no format for the Accept header, or a
    result too long or too slow to write here."""
    deadline = time.monotonic() + INLINE_SECONDS
    try:
        result = store.query(query, base_iri=base_iri, **dataset)
    except (SyntaxError, OSError, ValueError, TypeError):
        return None  # the worker reports it, with the same message as for any other query
    fmt = _format("boolean" if isinstance(result, ox.QueryBoolean) else "results", accept)
    if fmt is None:
        return None
    output = _BoundedOutput(min(INLINE_BYTES, result_limit), deadline)
    try:
        result.serialize(output, _SERIALIZERS[fmt])
    except _Overrun:
        return None
    except (OSError, ValueError, TypeError):
        return None
    return FORMATS[fmt].media_type, b"".join(output.parts)
