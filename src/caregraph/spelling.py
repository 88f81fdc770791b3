"""Read a question's words as caregraph knows them: misspellings and joined words mended.

People type "safegaurding", "neglet" and "carehome". A word caregraph does not know is
mended against the words of its own knowledge (every label, description, search term and
thesaurus label): split into two known words, or the nearest known word within one or two
edits (rapidfuzz, optimal string alignment). A common English word that caregraph does not
know ("parking", "school", "tax") is left alone: it is not a typo but a sign the question
may be about something else (wordfreq's frequency list, shipped with the package, tells).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA
from wordfreq import zipf_frequency

from caregraph.matching import stem

# Zipf frequency (log10 of uses per billion words) at or above which an unknown word is
# ordinary English rather than a misspelling: "parking" is 4.5, "hosptial" 1.4.
COMMON_ENGLISH = 3.0
# Shortest word worth mending; shorter ones are too easy to turn into something else.
MIN_LENGTH = 4
_WORD = re.compile(r"[a-z]+")


@dataclass
class Reading:
    """A question's text with its words mended, and what was mended."""

    text: str
    corrections: dict[str, str] = field(default_factory=dict)
    # Ordinary English words that caregraph's knowledge never uses.
    foreign: list[str] = field(default_factory=list)


class Speller:
    """Mends words against a vocabulary of known words and how often each is used."""

    def __init__(self, counts: dict[str, int], stop_words: Iterable[str] = (), keep: Iterable[str] = ()) -> None:
        self.counts = counts
        self.stop_words = frozenset(stop_words)
        # Words used as they are in curated labels: never split, even if rare.
        self.keep = frozenset(keep)
        self._choices = [w for w in counts if len(w) >= 3]
        # "grans" and "mums" are a stop word's plural or possessive, not "grant" mistyped.
        self._stems = {stem(w) for w in counts} | {stem(w) for w in self.stop_words}
        self._mend = lru_cache(maxsize=50_000)(self._mend_uncached)
        self._rare_join = lru_cache(maxsize=50_000)(self._rare_join_uncached)

    def knows(self, word: str) -> bool:
        """A word caregraph uses, in this form or another of the same stem ("handles", "handled")."""
        return word in self.counts or word in self.stop_words or stem(word) in self._stems

    def read(self, text: str) -> Reading:
        """The text with every unknown word mended where a known word is near enough."""
        corrections: dict[str, str] = {}
        foreign: list[str] = []

        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            if len(word) < MIN_LENGTH:
                return word
            if self.knows(word):
                # A run-together word that crept into the knowledge ("carehome") still
                # reads as its two words, so it meets the phrases that use them.
                joined = self._rare_join(word)
                if joined:
                    corrections[word] = joined
                    return joined
                return word
            mended = self._mend(word)
            if mended is None:
                if zipf_frequency(word, "en") >= COMMON_ENGLISH:
                    foreign.append(word)
                return word
            corrections[word] = mended
            return mended

        mended_text = _WORD.sub(replace, text.lower())
        return Reading(mended_text, corrections, foreign)

    def _mend_uncached(self, word: str) -> str | None:
        # "feedin", "movin", "nothin": the dropped g of speech.
        if word.endswith("in") and self.knows(word + "g"):
            return word + "g"
        joined = self._split(word)
        if joined:
            return joined
        if zipf_frequency(word, "en") >= COMMON_ENGLISH:
            return None
        limit = 1 if len(word) <= 7 else 2
        found = process.extract(word, self._choices, scorer=OSA.distance, score_cutoff=limit, limit=8)
        if not found:
            return None
        best = min(distance for _, distance, _ in found)
        # Among the nearest, the word caregraph uses most is the likeliest meaning.
        return max((w for w, distance, _ in found if distance == best), key=lambda w: self.counts.get(w, 0))

    def _rare_join_uncached(self, word: str) -> str | None:
        if word in self.keep or zipf_frequency(word, "en") >= COMMON_ENGLISH:
            return None
        split = self._split(word)
        if split and all(self.counts[part] >= 5 * self.counts.get(word, 0) for part in split.split()):
            return split
        return None

    def _split(self, word: str) -> str | None:
        """Two known words run together ("carehome"), the commonest such split."""
        best: tuple[int, str] | None = None
        for i in range(3, len(word) - 2):
            left, right = word[:i], word[i:]
            if left in self.counts and right in self.counts:
                weight = min(self.counts[left], self.counts[right])
                if best is None or weight > best[0]:
                    best = (weight, f"{left} {right}")
        return best[1] if best else None


def vocabulary(texts: Iterable[str]) -> dict[str, int]:
    """How often each lower-case word appears across the texts."""
    counts: dict[str, int] = {}
    for text in texts:
        for word in _WORD.findall(text.lower()):
            counts[word] = counts.get(word, 0) + 1
    return counts
