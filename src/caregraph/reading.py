"""How caregraph reads a question: words mended, problems recognised, scope judged.

The reading is shared by `ask`, `/responsible`, `escalate` and the pages, and is returned
with every answer so a person can see what decided it.
"""

from __future__ import annotations

import re
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
    # How many content words the person wrote (tokens also holds the problems' own names).
    length: int = 0
    # In a story, the words of its last question: where a person says what they need.
    focus: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"corrections": self.corrections,
                "problems": [dict(m.concept.as_json(), words=m.words) for m in self.problems],
                "outside_scope": [dict(m.concept.as_json(), words=m.words) for m in self.outside],
                "unknown_words": self.foreign}


# Questions of up to this many content words are short.
SHORT_QUESTION = 4


def speller(store: Store) -> spelling.Speller:
    """A speller over every word of caregraph's knowledge, built once per version of it.
    One-word labels of the thesaurus are kept whole ("aftercare" is not "after care")."""
    def build() -> spelling.Speller:
        labels = spelling.vocabulary(text for _, _, text, _ in thesaurus.label_rows(store) if " " not in text)
        words = spelling.vocabulary(text for text, in store.select_text("thesaurus_vocabulary", ("text",)))
        return spelling.Speller(words, matching.STOP_WORDS, keep=labels)
    return store.cached("speller", build, knowledge=True)


def read(store: Store, question: str) -> Reading:
    mended = speller(store).read(question)
    toks = matching.tokens(mended.text)
    sequence = matching.words(mended.text)
    short = len(toks) <= SHORT_QUESTION
    words = thesaurus.load(store)
    found = words.match(sequence, short)
    # Slang or a misspelling the thesaurus knows brings the problem's preferred name into the
    # question ("nicking" reads as financial abuse too), so duties and longer phrases in
    # those words are found: "carehome neglet" meets "care home neglect".
    expanded, extended = list(toks), list(sequence)
    for match in found:
        if match.hidden and match.concept.in_scope:
            # In place, right after the words that matched, so phrases around them still read.
            name = matching.tokens(match.concept.label)
            last = matching.words(match.words)[-1]
            at = extended.index(last) + 1 if last in extended else len(extended)
            extended[at:at] = matching.words(match.concept.label)
            expanded += [t for t in name if t not in expanded]
    if len(extended) > len(sequence):
        # The inserted name finds longer phrases across it, but a problem already found keeps
        # the strength of the words the person used: "bared" is not "barring someone from care work".
        first = {m.concept.iri: m for m in found}
        found = [first.get(m.concept.iri, m) for m in words.match(extended, short)]
    problems = [m for m in found if m.concept.in_scope]
    return Reading(question, mended.text, expanded, mended.corrections, mended.foreign,
                   problems, [m for m in found if not m.concept.in_scope], len(toks), _focus(mended.text, len(toks)))


# From this many content words on, a question is a story with a point to find.
STORY = 15
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


def _focus(text: str, length: int) -> list[str]:
    """A story's last question, else its last sentence, as tokens."""
    if length < STORY:
        return []
    sentences = [s for s in _SENTENCE.findall(text) if matching.tokens(s)]
    asked = [s for s in sentences if s.rstrip().endswith("?")]
    return matching.tokens((asked or sentences or [""])[-1])
