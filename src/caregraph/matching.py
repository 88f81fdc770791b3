"""Rank documents against a question in a person's own words.

No network and no model: Snowball stems (PyStemmer), stop words, field weights and phrase
matches over labels, alternative labels, search terms and descriptions. Phrases ("kicked
out of hospital") count when all their words appear in the question, in order.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import Stemmer

# Words that carry no meaning for "who is responsible for X" questions.
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself
yourselves who's whose whom tell told ask asking need needs want wants help please know
responsible responsibility get got go going someone somebody anyone anybody something
thing things happen happens happened us let lets say says said mum mom dad mother father
son daughter wife husband partner nan gran grandma grandad grandmother grandfather
aunt uncle brother sister friend neighbour family relative im ive dont doesnt cant wont
isnt arent didnt one also really still even yet way much many lot lots like just think
worried worry concerned believe feel seems seem made make must may might shall
""".split())

_TOKEN = re.compile(r"[a-z0-9]+")
_POSSESSIVE = re.compile(r"'s\b")
_APOSTROPHE = re.compile(r"'")
_HYPHENATED = re.compile(r"[a-z]+(?:-[a-z]+)+")
# Legal references people type: "s.42", "section 42", "reg 12", "regulation 12".
_LEGAL_REF = re.compile(r"\b(?:s|ss|section|sections)\.?\s*(\d+[a-z]*)\b|\b(?:reg|regs|regulation|regulations)\.?\s*(\d+[a-z]*)\b")


_STEMMER = Stemmer.Stemmer("english")
# Words Snowball folds into another word of different meaning, kept apart as search engines'
# stemmer overrides do: "probation" (in scope) is not "probate" (not), "barely" is not "bare".
STEM_OVERRIDES = {"probation": "probation", "probationary": "probation", "barely": "barely"}


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """The Snowball (Porter2) English stem of a lower-case word, or its override."""
    return STEM_OVERRIDES.get(word) or _STEMMER.stemWord(word)


def tokens(text: str) -> list[str]:
    """Stemmed content words of `text`, with legal references folded to one token ("s42").

    Hyphenated words count both whole and in parts, so "co-operate" meets "cooperate" and
    "self-funded" meets "self-funder".
    """
    return list(_tokens(text))


# The same labels recur across the knowledge (holders, themes, law), and indexes are rebuilt
# after every write: each text is read once.
@lru_cache(maxsize=200_000)
def _tokens(text: str) -> tuple[str, ...]:
    # "mum's" is mum; "won't" and "don't" are one word each, not "won" and "t".
    lowered = _APOSTROPHE.sub("", _POSSESSIVE.sub("", text.lower().replace("\u2019", "'")))
    refs = [("s" + (m.group(1) or "")) if m.group(1) else ("reg" + m.group(2)) for m in _LEGAL_REF.finditer(lowered)]
    lowered = _LEGAL_REF.sub(" ", lowered)
    joined = [stem(m.group(0).replace("-", "")) for m in _HYPHENATED.finditer(lowered)]
    words = [stem(w) for w in _TOKEN.findall(lowered) if w not in STOP_WORDS]
    return tuple(words + joined + refs)


def words(text: str) -> list[str]:
    """Every word of `text`, stemmed and in order, stop words kept and legal references folded
    in place: the sequence phrases are matched against ("care for my mum", "no home")."""
    return list(_words(text))


@lru_cache(maxsize=200_000)
def _words(text: str) -> tuple[str, ...]:
    lowered = _APOSTROPHE.sub("", _POSSESSIVE.sub("", text.lower().replace("\u2019", "'")))
    lowered = _LEGAL_REF.sub(lambda m: " s" + m.group(1) + " " if m.group(1) else " reg" + m.group(2) + " ", lowered)
    return tuple(stem(w) for w in _TOKEN.findall(lowered))


@dataclass
class Document:
    """Something that can answer a question, with weighted fields of text."""

    key: str
    fields: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    key: str
    score: float
    matched: tuple[str, ...]


# How much a match in each field counts. Labels and the words people use count most.
WEIGHTS = {"label": 3.0, "terms": 2.5, "asked": 1.0, "theme": 2.0, "holder": 1.5, "legal": 1.0, "description": 1.0}
# Minimum score for a document to count as an answer at all.
THRESHOLD = 6.0
# Fields whose values are lists of phrases; authors sometimes put several in one string.
PHRASE_SPLIT = re.compile(r"[,;]")
# A word found only in a long description is weak evidence on its own.
_WEAK_FIELDS = frozenset({"description"})
# Fields that describe a document's context (who holds it, which Act) rather than its
# subject: they can match, but do not decide how rare a word is.
_CONTEXT_FIELDS = frozenset({"holder", "legal"})


class Index:
    """An in-memory inverted index over documents, ranked BM25-style with field weights."""

    def __init__(self, documents: Iterable[Document], weights: dict[str, float] | None = None) -> None:
        self.weights = weights or WEIGHTS
        self._keys: list[str] = []
        # token -> {document number: (best field weight, found outside weak fields)}
        self._postings: dict[str, dict[int, tuple[float, bool]]] = {}
        # the rarest token of a phrase -> [(document number, field weight, phrase)]: a question
        # without that token cannot hold the phrase, so common words stay cheap to look up.
        self._phrases: dict[str, list[tuple[int, float, tuple[str, ...]]]] = {}
        phrases: list[tuple[int, float, tuple[str, ...]]] = []
        df: Counter[str] = Counter()
        weights_key = tuple(self.weights.items())
        for number, doc in enumerate(documents):
            self._keys.append(doc.key)
            found, content, own_phrases = _analyse(
                tuple((name, tuple(texts)) for name, texts in doc.fields.items()), weights_key)
            for tok, posting in found:
                postings = self._postings.get(tok)
                if postings is None:
                    postings = self._postings[tok] = {}
                postings[number] = posting
            df.update(content)
            phrases.extend((number, weight, toks) for weight, toks in own_phrases)
        n = max(len(self._keys), 1)
        self._idf = {tok: math.log(1 + (n - c + 0.5) / (c + 0.5)) for tok, c in df.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        # The rarest token has the fewest documents (none, for a word only of context fields);
        # the Counter's own lookup as the key keeps this loop over every phrase fast.
        for number, weight, toks in phrases:
            self._phrases.setdefault(min(toks, key=df.__getitem__), []).append((number, weight, toks))

    def idf(self, token: str) -> float:
        return self._idf.get(token, self._unknown_idf)

    def search(self, question: str, limit: int | None = None, threshold: float = THRESHOLD) -> list[Hit]:
        """Documents that match the question, best first, above the threshold."""
        return self.search_tokens(tokens(question), limit, threshold)

    def search_tokens(self, qtoks: Sequence[str], limit: int | None = None,
                      threshold: float = THRESHOLD) -> list[Hit]:
        """Documents that match a question's tokens (see `tokens`), best first, above the threshold."""
        if not qtoks:
            return []
        qset = set(qtoks)
        scores: dict[int, float] = {}
        matched: dict[int, set[str]] = {}
        strong: set[int] = set()
        for tok in qset:
            idf = self.idf(tok)
            for number, (weight, is_strong) in self._postings.get(tok, {}).items():
                scores[number] = scores.get(number, 0.0) + weight * idf
                matched.setdefault(number, set()).add(tok)
                if is_strong:
                    strong.add(number)
            for number, weight, phrase in self._phrases.get(tok, ()):
                if qset.issuperset(phrase):
                    # A whole phrase is stronger evidence than its words apart, most of
                    # all when its words come in the same order.
                    order = 1.0 if in_order(phrase, qtoks) else 0.5
                    scores[number] += order * weight * sum(self.idf(t) for t in phrase) * 0.5
        # Among answers with enough evidence, prefer those that account for more of the question.
        ranked = [(-round(score * (0.7 + 0.3 * len(matched[number]) / len(qset)), 3), self._keys[number], number)
                  for number, score in scores.items() if number in strong and score >= threshold]
        ranked = heapq.nsmallest(limit, ranked) if limit else sorted(ranked)
        return [Hit(key, -score, tuple(sorted(matched[number]))) for score, key, number in ranked]


# A document's postings (token, (best field weight, found outside weak fields)), the words of
# its content and its phrases (field weight, tokens), kept for documents seen before: the index
# is built again after every change to the knowledge, which leaves most documents as they were.
@lru_cache(maxsize=8192)
def _analyse(fields: tuple[tuple[str, tuple[str, ...]], ...], weights: tuple[tuple[str, float], ...]) -> tuple[
        tuple[tuple[str, tuple[float, bool]], ...], frozenset[str], tuple[tuple[float, tuple[str, ...]], ...]]:
    weight_of = dict(weights)
    found: dict[str, tuple[float, bool]] = {}
    content: set[str] = set()
    phrases: list[tuple[float, tuple[str, ...]]] = []
    for name, texts in fields:
        weight = weight_of[name]
        strong = name not in _WEAK_FIELDS
        parts = texts if name == "description" else [p for text in texts for p in PHRASE_SPLIT.split(text)]
        # A part seen before in this field adds no posting (a holder's label recurs with each
        # of its assignments), but its phrase still counts each time.
        seen: set[str] = set()
        for part in parts:
            toks = _tokens(part)
            if part not in seen:
                seen.add(part)
                for tok in toks:
                    prior = found.get(tok)
                    found[tok] = (weight, strong) if prior is None else (max(prior[0], weight), prior[1] or strong)
                if name not in _CONTEXT_FIELDS:
                    content.update(toks)
            if len(toks) > 1 and name != "description":
                phrases.append((weight, toks))
    return tuple(found.items()), frozenset(content), tuple(phrases)


def documents_from_rows(rows: Iterable[Sequence[str]]) -> list[Document]:
    """Documents from the (key, field, text) rows of a named query (`Store.select_text`)."""
    docs: dict[str, Document] = {}
    for key, name, text in rows:
        doc = docs.get(key)
        if doc is None:
            doc = docs[key] = Document(key)
        doc.fields.setdefault(name, []).append(text)
    return list(docs.values())


def in_order(phrase: Sequence[str], words: Sequence[str], slack: int | None = None) -> bool:
    """Whether the phrase's words come in this order among the words, with gaps; with
    `slack`, all within a stretch of at most len(phrase) + slack words."""
    for start, word in enumerate(words):
        if word != phrase[0]:
            continue
        at, matched = start, 1
        for position in range(start + 1, len(words)):
            if matched == len(phrase):
                break
            if words[position] == phrase[matched]:
                at, matched = position, matched + 1
        if matched == len(phrase) and (slack is None or at - start < len(phrase) + slack):
            return True
    return False
