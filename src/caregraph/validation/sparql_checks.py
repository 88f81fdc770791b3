"""What SHACL-SPARQL a shape may hold, read from the query text before either engine runs it.

The SHACL specification (5.3.1, pre-binding) forbids MINUS, VALUES, federated queries
(SERVICE), `AS $var` for a pre-bound variable, and sub-selects that do not project the
pre-bound variables. caregraph refuses such shapes with a message naming the rule, and it
also refuses FROM / FROM NAMED: both engines would otherwise fetch a graph or an endpoint
over the network (rdflib loads a FROM IRI, and runs SERVICE), and caregraph makes no
outbound requests.

`joins_like_prebinding` tells the fast engine when joining a query with its focus nodes
gives the same answer as pre-binding $this in it (SHACL's meaning), so that it runs one
query for all focus nodes only where that is exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Strings, IRIs and comments removed before looking at keywords: a keyword inside a
# string or an IRI (`<http://example.org/values>`) is not a keyword.
_LEXICAL = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""' r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"' r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\s]*>'
    r"|#[^\n]*",
)
_RULES = (
    (re.compile(r"(?<![?$\w])SERVICE\b", re.I), "SERVICE (a federated query) is not allowed: caregraph sends no "
                                       "request to another endpoint"),
    (re.compile(r"(?<![?$\w])FROM\b", re.I), "FROM / FROM NAMED is not allowed: a shape's query reads the data "
                                    "graph, and caregraph fetches no graph from the network"),
    (re.compile(r"(?<![?$\w])MINUS\b", re.I), "MINUS is not allowed in SHACL-SPARQL (SHACL 5.3.1)"),
    (re.compile(r"(?<![?$\w])VALUES\b", re.I), "VALUES is not allowed in SHACL-SPARQL (SHACL 5.3.1)"),
)
_AS_PREBOUND = re.compile(r"(?<![?$\w])AS\s+[?$](this|currentShape|shapesGraph)\b", re.I)
_SELECT = re.compile(r"\bSELECT\b(?P<projection>[^{]*?)(?:\bWHERE\b\s*)?\{", re.I | re.S)
_THIS = re.compile(r"[?$]this\b")


def strip(query: str) -> str:
    """The query with strings and IRIs replaced by a placeholder and comments removed."""
    return _LEXICAL.sub(lambda m: "" if m.group(0).startswith("#") else " <x> ", query)


def forbidden(query: str) -> str | None:
    """Why SHACL (or caregraph) does not allow `query` in a shape, or None."""
    text = strip(query)
    for pattern, reason in _RULES:
        if pattern.search(text):
            return reason
    assigned = _AS_PREBOUND.search(text)
    if assigned:
        return f"`AS ${assigned.group(1)}` assigns a pre-bound variable (SHACL 5.3.1)"
    if _THIS.search(text):
        for head in list(_SELECT.finditer(text))[1:]:
            projection = head.group("projection")
            if "*" not in projection and not _THIS.search(projection):
                return "a sub-select does not project $this (SHACL 5.3.1)"
    return None


@dataclass
class _Group:
    keyword: str  # the word before the `{`: WHERE, OPTIONAL, EXISTS, UNION, GRAPH ... or ""
    own: str = ""  # its text outside nested groups
    children: list[_Group] | None = None


def _groups(text: str) -> _Group:
    root = _Group("", "", [])
    stack = [root]
    start = 0
    for i, ch in enumerate(text):
        if ch == "{":
            stack[-1].own += text[start:i]
            words = re.findall(r"[A-Za-z]+|[^\sA-Za-z]", stack[-1].own)
            group = _Group(words[-1].upper() if words else "", "", [])
            stack[-1].children.append(group)
            stack.append(group)
            start = i + 1
        elif ch == "}":
            stack[-1].own += text[start:i]
            if len(stack) > 1:
                stack.pop()
            start = i + 1
    stack[-1].own += text[start:]
    return root


def _outside_parentheses(text: str) -> str:
    depth, out = 0, []
    for ch in text:
        depth += ch == "("
        if depth == 0:
            out.append(ch)
        depth -= ch == ")" and depth > 0
    return "".join(out)


def joins_like_prebinding(query: str) -> bool:
    """True when every group below the outermost one that mentions $this also matches it in
    a triple pattern (or a sub-select projecting it) at its own level, so that $this is bound
    there whether it is pre-bound or joined from outside. FILTER (NOT) EXISTS groups are
    evaluated with $this already bound, so they may use it freely."""
    root = _groups(strip(query))
    outer = root.children[0] if root.children else None
    if outer is None:
        return False

    def safe(group: _Group, top: bool) -> bool:
        if group.keyword == "EXISTS":
            return True
        if not top and _THIS.search(group.own) and not _THIS.search(_outside_parentheses(group.own)):
            return False
        return all(safe(child, False) for child in group.children or [])

    return safe(outer, True)
