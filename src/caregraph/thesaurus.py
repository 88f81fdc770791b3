"""The thesaurus: the problems people bring, in their words, and topics outside scope.

Both are SKOS concept schemes kept with the knowledge (`ontology/vocabularies/problems.ttl`
and `out-of-scope.ttl`). A problem's preferred, alternative and hidden labels (everyday
words, slang, misspellings) lead to the duties that answer it first (`cg:keyDuty`) and to
its escalation route (`cg:problemRoute`). An out-of-scope topic's labels ("parking ticket",
"council tax") mark a question caregraph should decline, with a note on where to go.
Matching is tuned in that data, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wordfreq import zipf_frequency

from caregraph import matching
from caregraph.namespaces import short_id
from caregraph.store import Store, value

PROBLEMS = "https://w3id.org/caregraph/id/scheme/problems"
OUT_OF_SCOPE = "https://w3id.org/caregraph/id/scheme/out-of-scope"


@dataclass(frozen=True)
class Concept:
    iri: str
    label: str
    in_scope: bool
    key_duties: tuple[str, ...]
    routes: tuple[str, ...]
    note: str | None

    def as_json(self) -> dict:
        return {"id": short_id(self.iri), "uri": self.iri, "label": self.label}


@dataclass(frozen=True)
class Match:
    """A concept found in a question: the label that matched and how specific it is."""

    concept: Concept
    words: str
    strength: float
    # Matched by a hidden label: a misspelling or slang for the concept.
    hidden: bool = False

    @property
    def everyday(self) -> bool:
        """Matched only by one everyday word ("complain", "stolen"): weak evidence."""
        return len(matching.tokens(self.words)) == 1 and is_everyday_word(self.words)


class Thesaurus:
    def __init__(self, concepts: dict[str, Concept], labels: Sequence[tuple[str, str, bool]]) -> None:
        self.concepts = concepts
        # Each label as its stemmed words, stop words kept: "no home" and "care for my" are
        # phrases, not "home" and "care". A label of stop words only could match anything.
        # In a fixed order, not the store's: which of two equally strong labels is shown must
        # not change when the knowledge is written again in another order.
        self._labels = [(iri, text, tuple(matching.words(text)), hidden) for iri, text, hidden in sorted(labels)
                        if matching.tokens(text)]
        # Labels by their first word: a question only needs the labels its words begin.
        self._by_first: dict[str, list[tuple[str, str, tuple[str, ...], bool]]] = {}
        for label in self._labels:
            self._by_first.setdefault(label[2][0], []).append(label)

    def match(self, question_words: Sequence[str], short: bool = False) -> list[Match]:
        """Concepts whose labels appear whole in the question's words (`matching.words`), in
        order and close together, the most specific label of each, strongest first. In a
        `short` question (a few content words) one everyday word may name a problem."""
        present = set(question_words)
        # A phrase's words must come in its order: "home care" is not "care home".
        # In the question's order, not a set's: which of two equally strong labels of a concept
        # is shown must not depend on Python's hash seed.
        candidates = [label for word in dict.fromkeys(question_words) for label in self._by_first.get(word, ())]
        found = [(iri, text, toks, hidden) for iri, text, toks, hidden in candidates
                 if present.issuperset(toks) and matching.in_order(toks, question_words, SLACK)
                 # An everyday word on its own ("nice", "fall", "food") names a problem only
                 # in a question of a few words; in a story it is usually just a word.
                 # Out-of-scope topics are meant to catch such words, wherever they stand.
                 and (short or len(toks) > 1 or not is_everyday_word(text) or not self.concepts[iri].in_scope)]
        # Words that belong to a longer phrase of another problem are that phrase's:
        # "kicked out of hospital" is about discharge, not about being kicked.
        phrases = [(iri, set(toks)) for iri, _, toks, _ in found]
        best: dict[str, Match] = {}
        for iri, text, toks, hidden in found:
            if any(other != iri and set(toks) < longer for other, longer in phrases):
                continue
            strength = float(len(matching.tokens(text)))
            if iri not in best or strength > best[iri].strength:
                best[iri] = Match(self.concepts[iri], text, strength, hidden)
        return sorted(best.values(), key=lambda m: (-m.strength, m.concept.label))

    def near(self, question_tokens: Sequence[str], limit: int = 3) -> list[Concept]:
        """Problems sharing some words with the question: what to offer when it is vague."""
        present = set(question_tokens)
        overlap: dict[str, float] = {}
        for iri, _, toks, _ in self._labels:
            concept = self.concepts[iri]
            shared = len(present.intersection(toks))
            if concept.in_scope and shared:
                overlap[iri] = max(overlap.get(iri, 0.0), shared / len(toks) + 0.1 * shared)
        ranked = sorted(overlap, key=lambda iri: (-overlap[iri], self.concepts[iri].label))
        return [self.concepts[iri] for iri in ranked[:limit]]


# Zipf frequency from which a word is too everyday to stand for a problem on its own.
EVERYDAY = 4.0
# A phrase's words may be spread over at most this many extra words ("left alone in bed").
SLACK = 3


def is_everyday_word(text: str) -> bool:
    """Whether a word is common in everyday English (Zipf frequency EVERYDAY or more)."""
    return zipf_frequency(text.lower(), "en") >= EVERYDAY


def label_rows(store: Store) -> list[tuple[str, ...]]:
    """Every label of the problems and out-of-scope topics as (concept, scheme, text, hidden)
    text, read once per version of the knowledge: the speller reads them too."""
    return store.cached("thesaurus-labels", lambda: store.select_text(
        "thesaurus_labels", ("concept", "scheme", "text", "hidden")), knowledge=True)


def load(store: Store) -> Thesaurus:
    """The thesaurus from the store, built once per version of the curated knowledge."""
    def build() -> Thesaurus:
        duties: dict[str, list[str]] = {}
        routes: dict[str, list[str]] = {}
        heads: dict[str, tuple[str, str | None]] = {}
        for row in store.select("problem_links"):
            iri = row["problem"].value
            heads[iri] = (value(row["label"]), value(row["scopeNote"]))
            for key, into in (("duty", duties), ("route", routes)):
                if row[key] is not None and row[key].value not in into.setdefault(iri, []):
                    into[iri].append(row[key].value)
        labels: list[tuple[str, str, bool]] = []
        scheme_of: dict[str, str] = {}
        for concept, scheme, text, hidden in label_rows(store):
            labels.append((concept, text, hidden == "true"))
            scheme_of[concept] = scheme
        concepts = {iri: Concept(iri, label, scheme_of.get(iri) != OUT_OF_SCOPE,
                                 tuple(sorted(duties.get(iri, ()))), tuple(sorted(routes.get(iri, ()))), note)
                    for iri, (label, note) in heads.items()}
        return Thesaurus(concepts, [label for label in labels if label[0] in concepts])
    return store.cached("thesaurus", build, knowledge=True)
