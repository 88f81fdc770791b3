"""Content negotiation: pick the media type a client prefers from what the server offers.

Multi-valued `Accept` headers with q-values are honoured (RFC 9110 section 12.5.1): each offer
takes the q of the most specific range that matches it; the highest q wins, then an exact
match over a wildcard, then the range the client listed first, then the server's own order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    position: int

    def specificity(self, media_type: str) -> int | None:
        """How specifically this range matches `media_type` (2 exact, 1 type/*, 0 */*), or None."""
        kind, _, sub = media_type.partition("/")
        if self.type == "*":
            return 0
        if self.type != kind:
            return None
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == sub else None


def parse_accept(header: str | None) -> list[MediaRange]:
    """The ranges of an Accept header; malformed parts and bad q-values are skipped."""
    ranges: list[MediaRange] = []
    for position, part in enumerate((header or "").split(",")):
        pieces = [p.strip() for p in part.split(";")]
        kind, _, sub = pieces[0].lower().partition("/")
        if not kind or not sub:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, raw = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(raw.strip())))
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(kind, sub, q, position))
    return ranges


def choose(header: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers, the first offer without an Accept header, or None if
    nothing offered is acceptable."""
    ranges = parse_accept(header)
    if not ranges:
        return offers[0] if offers else None
    best: tuple | None = None
    chosen = None
    for order, offer in enumerate(offers):
        matches = [(r.specificity(offer), r) for r in ranges]
        matches = [(s, r) for s, r in matches if s is not None]
        if not matches:
            continue
        specificity, match = max(matches, key=lambda m: (m[0], -m[1].position))
        if match.q <= 0:
            continue
        key = (match.q, specificity == 2, -match.position, -order)
        if best is None or key > best:
            best, chosen = key, offer
    return chosen


def prefers_html(header: str | None) -> bool:
    """Whether a client asks for HTML ahead of RDF and JSON (a browser)."""
    return choose(header, ["text/turtle", "application/ld+json", "application/json", "text/html"]) == "text/html" \
        and any(r.type == "text" and r.subtype == "html" for r in parse_accept(header))
