"""What a SPARQL query or update would fetch from elsewhere: SERVICE and LOAD.

A public endpoint must not make requests for its clients: `SERVICE` in a query or update
and `LOAD` in an update are refused unless the operator names the remote IRIs they may
reach (the `federation` setting, `CAREGRAPH_FEDERATION`). A SERVICE whose endpoint is a
variable, a relative IRI or anything but an absolute IRI written out (or a declared prefix
and a plain local name) can never be checked, so it is refused.

The check reads the request's tokens (sparql_tokens.py), not patterns over its text: a
bare word SERVICE or LOAD outside strings, IRIs and comments can only be that keyword, and
whatever case, spacing, prefixes or nesting (sub-queries, OPTIONAL, EXISTS, GRAPH, other
operations) surround it, it is seen. It runs in linear time on the event loop (rdflib's
parser was tried first: minutes on a large query, and a recursion error on a query of a
hundred triple patterns). The processes that run SPARQL cannot open internet sockets at
all unless federation is on (sandbox.py), so even a request this check misread would make
no connection.
"""

from __future__ import annotations

from caregraph.api.sparql_tokens import Token, tokens


class Refused(Exception):
    """A query or update that would reach outside the server, with the reason for the client."""


def _endpoint(following: list[Token], prefixes: dict[str, str]) -> str | None:
    """The absolute IRI a SERVICE or LOAD names, or None when it cannot be read with certainty."""
    for token in following:
        if token.keyword == "SILENT":
            continue
        if token.kind == "iri":
            iri = token.text[1:-1]
            return iri if "\\" not in iri and ":" in iri.split("/", 1)[0] else None
        if token.kind == "word" and ":" in token.text and not token.text.startswith("_:"):
            prefix, _, local = token.text.partition(":")
            if prefix not in prefixes or "\\" in local or "%" in local:
                return None
            return prefixes[prefix] + local
        return None
    return None


def _check(text: str, keywords: frozenset[str], allowed: frozenset[str], what: str) -> None:
    found = [t for t in tokens(text) if t.kind != "comment"]
    prefixes: dict[str, str] = {}
    for i, token in enumerate(found):
        keyword = token.keyword
        if keyword == "PREFIX" and i + 2 < len(found) and found[i + 2].kind == "iri":
            prefixes[found[i + 1].text.rstrip(":")] = found[i + 2].text[1:-1]
        if keyword not in keywords:
            continue
        if not allowed:
            raise Refused(f"{keyword} is not allowed on this endpoint: it makes no requests to other servers "
                          f"(its operator has not enabled federation)")
        endpoint = _endpoint(found[i + 1:i + 3], prefixes)
        if endpoint is None:
            raise Refused(f"this {keyword} is not allowed: its {what} must be an absolute IRI written out "
                          f"(not a variable or a relative IRI) and one the operator allows")
        if endpoint not in allowed:
            raise Refused(f"{keyword} <{endpoint}> is not allowed: this endpoint only reaches the remote IRIs "
                          f"its operator has allowed")


def check_query(query: str, allowed: frozenset[str]) -> None:
    """Raise Refused if the query has a SERVICE to an IRI not in `allowed`."""
    if "service" in query.lower():
        _check(query, frozenset({"SERVICE"}), allowed, "endpoint")


def may_reach_out(update: str) -> bool:
    """Whether an update could hold a LOAD or SERVICE: the keyword must appear as plain text."""
    text = update.lower()
    return "service" in text or "load" in text


def check_update(update: str, allowed: frozenset[str]) -> None:
    """Raise Refused if the update has a LOAD or SERVICE reaching an IRI not in `allowed`."""
    if may_reach_out(update):
        _check(update, frozenset({"SERVICE", "LOAD"}), allowed, "endpoint or source")
