"""What a SPARQL query or update would fetch from elsewhere, read from its parsed form.

A public endpoint must not make requests for its clients: `SERVICE` in a query or update
and `LOAD` in an update are refused unless the operator names the remote IRIs they may
reach (the `federation` setting, `CAREGRAPH_FEDERATION`). A SERVICE whose endpoint is a
variable can never be checked, so it is always refused.

The check parses with rdflib's SPARQL parser, not with patterns over the text. Two places
where rdflib reads a query differently from pyoxigraph (which runs it) are evened out
first, so a keyword cannot hide from the check and still reach the engine:
- rdflib expands \\u and \\U escapes anywhere in the text, pyoxigraph only inside strings
  and IRIs: escapes are replaced by a plain letter before the check (an escaped endpoint
  IRI is then never on the allowed list, so it is refused, never let through);
- pyoxigraph ends a comment at a carriage return, rdflib only at a line feed: carriage
  returns are read as line feeds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef

_ESCAPES = re.compile(r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}")


class Refused(Exception):
    """A query or update that would reach outside the server, with the reason for the client."""


def _as_rdflib_reads_it(text: str) -> str:
    return _ESCAPES.sub("x", text).replace("\r", "\n")


def _remote(node: object) -> Iterator[tuple[str, object]]:
    """Every SERVICE endpoint and LOAD source in a parsed query or update."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            if item.name == "ServiceGraphPattern":
                yield "SERVICE", item.get("term")
            elif item.name == "Load":
                yield "LOAD", item.get("iri")
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)


def _check(targets: Iterator[tuple[str, object]], allowed: frozenset[str]) -> None:
    for keyword, target in targets:
        if not isinstance(target, URIRef):
            raise Refused(f"{keyword} with a variable endpoint is not allowed on this endpoint")
        if str(target) not in allowed:
            if not allowed:
                raise Refused(f"{keyword} is not allowed on this endpoint: it makes no requests to other "
                              f"servers (its operator has not enabled federation)")
            raise Refused(f"{keyword} <{target}> is not allowed: this endpoint only reaches the remote IRIs "
                          f"its operator has allowed")


def check_query(query: str, base_iri: str | None, allowed: frozenset[str]) -> None:
    """Raise Refused if the query has a SERVICE to an IRI not in `allowed`.

    A query that cannot be checked (rdflib cannot parse it) is refused only when it could
    hold a SERVICE: the keyword must appear as plain text for any parser to see it."""
    if "service" not in query.lower():
        return
    try:
        parsed = translateQuery(parseQuery(_as_rdflib_reads_it(query)), base=base_iri)
    except Exception as exc:  # noqa: BLE001 - rdflib raises many kinds for text it cannot read
        raise Refused(f"the query mentions SERVICE and could not be checked: {_reason(exc)}") from None
    _check(_remote(parsed.algebra), allowed)


def may_reach_out(update: str) -> bool:
    """Whether an update could hold a LOAD or SERVICE: the keyword must appear as plain text."""
    text = update.lower()
    return "service" in text or "load" in text


def check_update(update: str, base_iri: str | None, allowed: frozenset[str]) -> None:
    """Raise Refused if the update has a LOAD or SERVICE reaching an IRI not in `allowed`."""
    if not may_reach_out(update):
        return
    try:
        parsed = translateUpdate(parseUpdate(_as_rdflib_reads_it(update)), base=base_iri)
    except Exception as exc:  # noqa: BLE001 - rdflib raises many kinds for text it cannot read
        raise Refused(f"the update mentions SERVICE or LOAD and could not be checked: {_reason(exc)}") from None
    _check(_remote(parsed.algebra), allowed)


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
