"""How caregraph lists the law it cites: Acts before the instruments made under them, then
provisions in natural number order (s.9 before s.10, reg 12 before reg 22)."""

from __future__ import annotations

import re


def legal_order(basis: dict[str, str]) -> tuple:
    secondary = "/uksi/" in basis["uri"]
    return (secondary, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", basis["label"])])


def sorted_citations(bases: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(bases, key=legal_order)


def add(citations: list[dict[str, str]], basis, label) -> None:
    """Add the citation for a query result's basis IRI and label, once; no basis, no change."""
    if basis is None:
        return
    entry = {"uri": basis.value, "label": label.value if label is not None else basis.value}
    if entry not in citations:
        citations.append(entry)
