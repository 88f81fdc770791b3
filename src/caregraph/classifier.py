"""A multinomial naive Bayes model of which duty a question asks about, learned from the
knowledge's own words: each label, search term, way people ask and sentence of a duty's
description is one example of that duty.

The word index (`matching.Index`) ranks by how rare the shared words are across all duties;
this model weighs each word by how much more often one duty uses it than the others. The two
err on different questions, so `responsibility.rank` adds the model's view to the index's.

The formula is scikit-learn's `MultinomialNB` over word and word-pair counts (tests/
test_classifier.py checks it gives the same log-probabilities); it is computed here from
counts kept per document so that a change to the knowledge recounts only the duties changed:
fitting scikit-learn's model again took about 0.5 s, over the 300 ms a first answer after a
write may take.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from caregraph.matching import PHRASE_SPLIT, Document, tokens

# The fields whose text says what a duty is about; who holds it, its Act and its themes are
# shared by many duties and would only blur them.
FIELDS = ("label", "terms", "asked", "description")
# Additive smoothing: chosen on the tuning half of the question bank (0.03 to 1.0 tried).
ALPHA = 0.1
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def features(toks: Sequence[str]) -> list[str]:
    """A text's tokens (see `matching.tokens`) and each pair of neighbouring tokens."""
    return [*toks, *(a + "_" + b for a, b in zip(toks, toks[1:]))]


class NaiveBayes:
    """Which duties a question's words point to, as log-probabilities up to a constant."""

    def __init__(self, documents: Iterable[Document], alpha: float = ALPHA) -> None:
        self.keys: list[str] = []
        examples: list[int] = []
        sizes: list[int] = []
        # Each duty's lift per feature. A feature's postings across duties are gathered when a
        # question first uses it, not here: merging every feature of every duty took a third of
        # the first answer after a write.
        self._lifts: list[dict[str, float]] = []
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for doc in documents:
            n, size, lifts = _count(tuple((name, tuple(doc.fields.get(name, ()))) for name in FIELDS), alpha)
            if n:
                self.keys.append(doc.key)
                examples.append(n)
                sizes.append(size)
                self._lifts.append(lifts)
        self._vocabulary = frozenset().union(*self._lifts)
        total = sum(examples) or 1
        self._prior = [math.log(n / total) for n in examples]
        # log P(feature | duty) = log(count + alpha) - log(all of the duty's counts + alpha * |V|):
        # the second part is the same for every feature of a duty, and a feature the duty uses
        # adds its lift over an unseen one, log((count + alpha) / alpha).
        self._norm = [math.log(size + alpha * len(self._vocabulary)) for size in sizes]
        self._log_alpha = math.log(alpha)

    def _postings_of(self, feature: str) -> list[tuple[int, float]]:
        found = self._postings.get(feature)
        if found is None:
            found = self._postings[feature] = [(number, lifts[feature]) for number, lifts in enumerate(self._lifts)
                                               if feature in lifts]
        return found

    def log_likelihoods(self, toks: Sequence[str]) -> dict[str, float]:
        """Each duty's joint log-likelihood with the question's tokens. Features the knowledge
        never uses are left out, as scikit-learn's vectoriser leaves them out."""
        seen = Counter(f for f in features(toks) if f in self._vocabulary)
        size = sum(seen.values())
        scores = [prior + size * (self._log_alpha - norm) for prior, norm in zip(self._prior, self._norm)]
        for feature, times in seen.items():
            for number, lift in self._postings_of(feature):
                scores[number] += times * lift
        return dict(zip(self.keys, scores))


# A document's number of examples, number of features and each feature's lift, kept for
# documents seen before: the model is built again after every change to the knowledge, which
# leaves most as they were.
@lru_cache(maxsize=8192)
def _count(fields: tuple[tuple[str, tuple[str, ...]], ...], alpha: float) -> tuple[int, int, dict[str, float]]:
    examples, found = 0, Counter[str]()
    for name, texts in fields:
        split = _SENTENCE if name == "description" else PHRASE_SPLIT
        for text in texts:
            for part in split.split(text):
                toks = tokens(part)
                if toks:
                    examples += 1
                    found.update(features(toks))
    lifts = {feature: math.log((count + alpha) / alpha) for feature, count in found.items()}
    return examples, sum(found.values()), lifts
