"""How caregraph reads a question: words mended, problems recognised, scope judged.

The reading is shared by `ask`, `/responsible`, `escalate` and the pages, and is returned
with every answer so a person can see what decided it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from caregraph import matching, spelling, thesaurus
from caregraph.store import Store


@dataclass
class Reading:
    question: str
    text: str
    tokens: list[str]
    corrections: dict[str, str] = field(default_factory=dict)
    # Ordinary English words caregraph's knowledge never uses ("parking", "tax").
    foreign: list[str] = field(default_factory=list)
    problems: list[thesaurus.Match] = field(default_factory=list)
    outside: list[thesaurus.Match] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"corrections": self.corrections,
                "problems": [dict(m.concept.as_json(), words=m.words) for m in self.problems],
                "outside_scope": [dict(m.concept.as_json(), words=m.words) for m in self.outside],
                "unknown_words": self.foreign}


def speller(store: Store) -> spelling.Speller:
    """A speller over every word of caregraph's knowledge, built once per version of the graph."""
    return store.cached("speller", lambda: spelling.Speller(
        spelling.vocabulary(row["text"].value for row in store.select("thesaurus_vocabulary")),
        matching.STOP_WORDS))


def read(store: Store, question: str) -> Reading:
    mended = speller(store).read(question)
    toks = matching.tokens(mended.text)
    found = thesaurus.load(store).match(toks)
    return Reading(question, mended.text, toks, mended.corrections, mended.foreign,
                   [m for m in found if m.concept.in_scope], [m for m in found if not m.concept.in_scope])
