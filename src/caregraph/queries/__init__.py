"""Named SPARQL queries: the only place caregraph's domain SPARQL lives.

A query that takes parameters marks where they go with a comment line `# $values`;
`render` replaces it with a VALUES block built from validated RDF terms, so raw user
input never becomes query text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import pyoxigraph as ox

_DIR = Path(__file__).resolve().parent
_MARKER = "# $values"

Row = Mapping[str, "ox.NamedNode | ox.Literal | ox.BlankNode | None"]


@cache
def text(name: str) -> str:
    """The text of the named query `<name>.rq`."""
    path = _DIR / f"{name}.rq"
    if not path.is_file():
        raise KeyError(f"no named query {name!r} in {_DIR}")
    return path.read_text(encoding="utf-8")


def names() -> list[str]:
    """Every named query shipped with caregraph."""
    return sorted(p.stem for p in _DIR.glob("*.rq"))


def render(query: str, rows: Sequence[Row] | None = None) -> str:
    """The query with its `# $values` marker replaced by a VALUES block for `rows`."""
    if _MARKER not in query:
        if rows:
            raise ValueError("this query takes no parameters")
        return query
    if not rows:
        return query.replace(_MARKER, "")
    variables = list(rows[0].keys())
    lines = []
    for row in rows:
        if list(row.keys()) != variables:
            raise ValueError("every row must bind the same variables")
        lines.append("(" + " ".join("UNDEF" if row[v] is None else str(row[v]) for v in variables) + ")")
    head = " ".join("?" + v for v in variables)
    return query.replace(_MARKER, f"VALUES ({head}) {{ {' '.join(lines)} }}")
