""""Who is responsible for X?": a question in a person's words to duties, holders, law,
oversight and the escalation route, as the law stood on a date."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from caregraph import citations, classifier, escalation, matching, reading, thesaurus
from caregraph.dates import holds
from caregraph.namespaces import STATUS, short_id
from caregraph.store import Solution, Store, value

ROLE_ORDER = {"accountable": 0, "responsible": 1, "consulted": 2, "informed": 3}


# How sure caregraph is that it understood a question.
SURE, UNSURE, OUTSIDE = "sure", "unsure", "outside"
NOT_LAW = "Not a legal duty: this rests on guidance, an agreement or a code, named below, not on an Act or regulations."


@dataclass
class Answer:
    duty: dict
    legal_basis: list[dict[str, str]]
    holders: list[dict[str, str]]
    oversight: list[dict[str, str]]
    score: float
    # Guidance, agreements or codes the duty rests on when it is not law, and the law it
    # helps meet without being that law's duty.
    non_statutory_basis: list[dict[str, str]] = field(default_factory=list)
    related_law: list[dict[str, str]] = field(default_factory=list)

    @property
    def statutory(self) -> bool:
        return bool(self.legal_basis)

    def as_json(self) -> dict:
        return {"duty": self.duty, "statutory": self.statutory, "legal_basis": self.legal_basis,
                "non_statutory_basis": self.non_statutory_basis, "related_law": self.related_law,
                "holders": self.holders, "oversight": self.oversight, "score": self.score}


@dataclass
class Suggestion:
    """A topic or route to choose from when the question is vague."""

    kind: str
    id: str
    uri: str
    label: str

    def as_json(self) -> dict:
        return {"kind": self.kind, "id": self.id, "uri": self.uri, "label": self.label}


@dataclass
class Response:
    question: str
    as_of: dt.date
    answers: list[Answer]
    escalation: escalation.Route | None = None
    notes: list[str] = field(default_factory=list)
    confidence: str = SURE
    reading: reading.Reading | None = None
    suggestions: list[Suggestion] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"question": self.question, "as_of": self.as_of.isoformat(), "confidence": self.confidence,
                "answers": [a.as_json() for a in self.answers],
                "escalation": self.escalation.as_json() if self.escalation else None,
                "suggestions": [s.as_json() for s in self.suggestions],
                "reading": self.reading.as_json() if self.reading else None,
                "notes": self.notes}


def _documents(store: Store) -> list[matching.Document]:
    # Read once per version of the knowledge for both the index and the word model: the query
    # is most of the time it takes to build either after a write.
    return store.cached("duty-documents", lambda: matching.documents_from_rows(
        store.select_text("duty_documents", ("duty", "field", "text"))), knowledge=True)


def _index(store: Store) -> matching.Index:
    return store.cached("duty-index", lambda: matching.Index(_documents(store)), knowledge=True)


def _model(store: Store) -> classifier.NaiveBayes:
    return store.cached("duty-model", lambda: classifier.NaiveBayes(_documents(store)), knowledge=True)


def _validity(store: Store) -> dict[str, tuple[object, object, str | None]]:
    def load() -> dict[str, tuple[object, object, str | None]]:
        return {row["duty"].value: (value(row["from"]), value(row["to"]),
                                    row["status"].value if row["status"] else None)
                for row in store.select("duty_validity")}
    return store.cached("duty-validity", load, knowledge=True)


def shown_on(store: Store, duty: str, day: dt.date) -> dt.date:
    """The day to describe a duty on when no date was asked for: `day` itself, or, for a duty
    that had ended by then, its last day in force, so it shows who held it rather than no one."""
    _, end, _ = _validity(store).get(duty, (None, None, None))
    return end if isinstance(end, dt.date) and end < day else day


def _rows(store: Store, name: str, duties: list[str]) -> list[Solution]:
    """The rows of a per-duty query for the given duties, kept per version of the knowledge:
    they are its own rows, so an import of records keeps them. Only the duties not read yet
    are read, in one query: on the on-disk England-scale store the four queries of one answer
    took about 5 ms, a dictionary lookup takes microseconds; and the first answer after a
    change to the knowledge reads the rows of its own few duties, not of all of them (a fifth
    of that answer's time)."""
    known: dict[str, list[Solution]] = store.cached("duty-rows/" + name, dict, knowledge=True)
    missing = [d for d in dict.fromkeys(duties) if d not in known]
    if missing:
        validity = _validity(store)
        wanted = [d for d in missing if d in validity]
        grouped: dict[str, list[Solution]] = {}
        if wanted:
            with store.knowledge_reads():
                grouped = store.select_grouped(name, "duty", wanted)
        for duty in missing:
            known[duty] = grouped.get(duty, [])
    return [row for duty in duties for row in known[duty]]


def in_force(store: Store, duty: str, day: dt.date) -> bool:
    start, end, status = _validity(store).get(duty, (None, None, None))
    if start is None:  # enacted but never commenced, or not yet operational
        return False
    return status != STATUS + "not-commenced" and holds(start, end, day)


# What a recognised problem adds to the duties that answer it first, per rare word of the
# label that matched (a word's rarity in the knowledge counts up to IDF_CAP).
PROBLEM_BOOST = 8.0
IDF_CAP = 4.0
# Evidence bars for a question with no recognised problem: below WEAK nothing matches;
# between WEAK and STRONG caregraph answers but says it is unsure and offers choices.
WEAK = 6.0
STRONG = 14.0
# Up to this many content words a question is short: an out-of-scope topic in it decides.
SHORT = 6
# The least share of a short question's words the best duty must account for.
COVERAGE = 0.34
# How many of the best matches by words are weighed; the rest cannot reach the top.
DEPTH = 150
# From this many content words on, word matches are scaled down by the square root of length.
LONG = 12
# A story's last question says what the person needs: its word matches count this much again.
FOCUS = 0.5
# A problem named in that last question is what the story is about: its boost counts double.
FOCUS_PROBLEM = 2.0
# A word in at least about one duty in fifteen (IDF at most this) that is not everyday English
# ("carer", "dementia", "hospital") is a care word: beside it, a word caregraph never uses
# ("wallet") does not make a question someone else's. Tokens are stems, and a stem is rarely
# an everyday word ("hospit"): that errs towards keeping a question.
CORE_IDF = 3.0
# The word model (`classifier`) adds up to MODEL_WEIGHT to the duties it finds likeliest:
# all of it to its first choice, less for each unit of log-probability below it, nothing from
# MODEL_SPAN below. Chosen on the tuning half, where writers H, I and J's questions were new
# to both the index and the model (weights 6 to 20 and spans 3 to 8 tried, with the phrases
# weighing 0.5 to 1.0).
MODEL_WEIGHT = 12.0
MODEL_SPAN = 5.0


def ask(store: Store, question: str, as_of: dt.date | None = None, limit: int = 5) -> Response:
    """Ranked answers to `question` as the law stood on `as_of` (default today)."""
    day = as_of or dt.date.today()
    read = reading.read(store, question)
    ranked, coverage, evidence = rank(store, read, day)
    index = _index(store)
    core = any(index.idf(t) <= CORE_IDF and not thesaurus.is_everyday_word(t) for t in read.tokens)
    confidence = judge(read, evidence, coverage, core)
    if confidence == OUTSIDE:
        response = Response(question, day, [], None, confidence=confidence, reading=read)
        response.notes.append(_outside_note(read, day))
        return response
    if not read.tokens:
        # Only common words ("I need help with my mum"): vague, not outside caregraph, so
        # every route is offered to choose from instead of answers.
        response = Response(question, day, [], None, confidence=confidence, reading=read,
                            suggestions=suggest(store, read, day))
        response.notes.append("Say what is happening, or choose the problem closest to yours from the suggestions.")
        return response
    top = ranked[:limit]
    answers = describe(store, [d for d, _ in top], day, dict(top))
    response = Response(question, day, answers, route_for(store, read, day), confidence=confidence, reading=read)
    if confidence == UNSURE:
        response.suggestions = suggest(store, read, day)
        response.notes.append("caregraph is not sure it understood this question: the answers below are its "
                              "closest matches. Choose a topic or route from the suggestions, or say more.")
    if any(not a.statutory for a in answers):
        response.notes.append(NOT_LAW)
    return response


def rank(store: Store, read: reading.Reading, day: dt.date) -> tuple[list[tuple[str, float]], float, float]:
    """Duties in force on `day`, best first: the words they share with the question, whether
    they answer a problem the question names, and how likely the word model finds them. Also
    the share of the question's words that the best match by words accounts for, and the best
    score before the model's part: the evidence that the question is caregraph's at all (the
    model always has a likeliest duty, even for a question about parking)."""
    # A long story piles up word matches for many duties; scaled by its length, the words
    # count about as much as in a short question, so a recognised problem still decides.
    scale = math.sqrt(max(1.0, read.length / LONG))
    index = _index(store)
    alive: dict[str, bool] = {}

    def live(duty: str) -> bool:
        if duty not in alive:
            alive[duty] = in_force(store, duty, day)
        return alive[duty]

    hits = [h for h in index.search_tokens(read.tokens, limit=DEPTH, threshold=0.0) if live(h.key)]
    coverage = len(hits[0].matched) / len(set(read.tokens)) if hits else 0.0
    scores = {h.key: h.score / scale for h in hits}
    if read.focus:
        for h in index.search_tokens(read.focus, limit=DEPTH, threshold=0.0):
            if live(h.key):
                scores[h.key] = scores.get(h.key, 0.0) + FOCUS * h.score
    for match in read.problems:
        # A label of rare words ("deprivation of liberty") is surer evidence than a label
        # of common ones ("fees"): the boost follows the words' rarity in the knowledge.
        weight = sum(min(index.idf(t), IDF_CAP) for t in matching.tokens(match.words)) / IDF_CAP
        if read.focus and set(matching.tokens(match.words)) <= set(read.focus):
            weight *= FOCUS_PROBLEM
        for duty in match.concept.key_duties:
            scores[duty] = scores.get(duty, 0.0) + PROBLEM_BOOST * weight
    evidence = max((v for d, v in scores.items() if live(d)), default=0.0)
    likelihoods = _model(store).log_likelihoods(read.tokens)
    likeliest = max(likelihoods.values(), default=0.0)
    for duty, likelihood in likelihoods.items():
        if likeliest - likelihood < MODEL_SPAN and live(duty):
            scores[duty] = scores.get(duty, 0.0) + MODEL_WEIGHT * (1 - (likeliest - likelihood) / MODEL_SPAN)
    ranked = [(d, round(v, 3)) for d, v in scores.items() if live(d)]
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return ranked, coverage, round(evidence, 3)


def judge(read: reading.Reading, best: float, coverage: float = 1.0, core: bool = False) -> str:
    """SURE, UNSURE or OUTSIDE caregraph's scope: a recognised problem makes a question
    caregraph's, an out-of-scope topic that weighs as much or more makes it someone else's
    (in a short question; a long story mentions all sorts), and without either the words'
    evidence for the best answer decides. A `core` care word keeps a question whose other
    words caregraph never uses in scope."""
    problem = max((m.strength for m in read.problems), default=0.0)
    # Several out-of-scope topics in one question ("dog", "holiday") add up.
    outside = sum(m.strength for m in read.outside)
    if not read.tokens:
        return OUTSIDE if read.foreign or outside else UNSURE
    # A story mentions all sorts (a budgie, a holiday, a school): with a recognised problem or
    # strong word evidence it is about care, whatever else it mentions.
    cared_for = read.length >= reading.STORY and (problem > 0 or best >= STRONG)
    if not cared_for and (outside > problem or (outside and outside == problem and read.length <= SHORT)):
        return OUTSIDE
    # Problems named only by everyday words ("complain", "stolen") beside an out-of-scope
    # topic or, in a short question, words caregraph never uses: about something else.
    weak = all(m.everyday for m in read.problems)
    if weak and not cared_for and (outside or (read.foreign and read.length <= SHORT and not core)):
        return OUTSIDE
    if problem:
        return SURE
    if read.length <= SHORT and coverage < COVERAGE:
        # A short question most of whose words no duty uses is about something else.
        return OUTSIDE
    if best < WEAK:
        # Weak evidence and words caregraph never uses: about something else. Weak evidence
        # in caregraph's own words: vague, so offer choices.
        return OUTSIDE if (read.foreign and not core) or not best else UNSURE
    return SURE if best >= STRONG else UNSURE


def route_for(store: Store, read: reading.Reading, day: dt.date) -> escalation.Route | None:
    """The escalation route of the strongest recognised problem, else the best by words."""
    for match in read.problems:
        if match.concept.routes:
            return escalation.load_route(store, match.concept.routes[0], day, match.strength)
    routes = escalation.routes_for_tokens(store, read.tokens, day, limit=1)
    return routes[0] if routes else None


def suggest(store: Store, read: reading.Reading, day: dt.date, limit: int = 3) -> list[Suggestion]:
    """The closest problems and escalation routes, for a person to choose between; every
    route when the question gives nothing to go on."""
    if not read.tokens:
        routes = {r["route"].value: r["label"].value for r in store.select("route_list")}
        return [Suggestion("route", short_id(iri), iri, label) for iri, label in routes.items()]
    found = [Suggestion("topic", short_id(c.iri), c.iri, c.label)
             for c in thesaurus.load(store).near(read.tokens, limit)]
    for route in escalation.routes_for_tokens(store, read.tokens, day, limit=limit, threshold=0.0):
        found.append(Suggestion("route", short_id(route.iri), route.iri, route.label))
    return found


def _outside_note(read: reading.Reading, day: dt.date) -> str:
    note = ("Nothing in caregraph's knowledge matches this question as the law stood on "
            f"{day.isoformat()}: it covers adult social care and the housing and health duties that meet it.")
    for match in read.outside:
        if match.concept.note:
            return f"{note} {match.concept.note}"
    return note + " Try other words, or name the problem or the body."


def describe(store: Store, duties: list[str], day: dt.date, scores: dict[str, float] | None = None) -> list[Answer]:
    """Full answers for the given duty IRIs, in the order given."""
    if not duties:
        return []
    summaries = {r["duty"].value: r for r in _rows(store, "duty_summary", duties)}
    bases: dict[str, list[dict[str, str]]] = {d: [] for d in duties}
    for r in _rows(store, "duty_legal_basis", duties):
        citations.add(bases[r["duty"].value], r["basis"], r["label"])
    holders: dict[str, list[dict[str, str]]] = {d: [] for d in duties}
    own_basis: dict[str, list[dict[str, str]]] = {d: [] for d in duties}
    for r in _rows(store, "duty_assignments", duties):
        duty = r["duty"].value
        if not (holds(value(r["from"]), value(r["to"]), day) and holds(value(r["holderFrom"]), value(r["holderTo"]), day)):
            continue
        entry = {"id": short_id(r["holder"].value), "uri": r["holder"].value,
                 "label": value(r["holderLabel"]), "role": value(r["role"])}
        if entry not in holders[duty]:
            holders[duty].append(entry)
        if entry["role"] == "accountable":
            citations.add(own_basis[duty], r["basis"], r["basisLabel"])
    oversight: dict[str, list[dict[str, str]]] = {d: [] for d in duties}
    for r in _rows(store, "duty_oversight", duties):
        if holds(value(r["from"]), value(r["to"]), day):
            entry = {"id": short_id(r["actor"].value), "uri": r["actor"].value, "label": value(r["label"])}
            if entry not in oversight[r["duty"].value]:
                oversight[r["duty"].value].append(entry)
    sources: dict[str, list[dict[str, str]]] = {d: [] for d in duties}
    related: dict[str, list[dict[str, str]]] = {d: [] for d in duties}
    for r in _rows(store, "duty_sources", duties):
        if r["kind"].value == "related":
            citations.add(related[r["duty"].value], r["source"], r["label"])
            continue
        entry = {"uri": r["source"].value, "label": value(r["label"]) or r["source"].value,
                 "kind": value(r["sourceKind"]), "page": value(r["page"])}
        if entry not in sources[r["duty"].value]:
            sources[r["duty"].value].append(entry)
    answers = []
    for duty in duties:
        s = summaries[duty]
        answers.append(Answer(
            duty={"id": short_id(duty), "uri": duty, "label": value(s["label"]),
                  "description": value(s["description"]), "modality": value(s["modality"]),
                  "sector": value(s["sector"]), "status": value(s["status"]),
                  "confidence": value(s["confidence"]), "caveat": value(s["caveat"]),
                  "valid_from": _iso(value(s["from"])), "valid_to": _iso(value(s["to"]))},
            # A holder that acts under its own provision on that date adds that law to the
            # duty's own; it never replaces it.
            legal_basis=citations.sorted_citations(
                bases[duty] + [b for b in own_basis[duty] if b not in bases[duty]]),
            holders=sorted(holders[duty], key=lambda h: (ROLE_ORDER.get(h["role"], 9), h["label"])),
            oversight=sorted(oversight[duty], key=lambda o: o["label"]),
            score=(scores or {}).get(duty, 0.0),
            non_statutory_basis=sources[duty], related_law=citations.sorted_citations(related[duty])))
    return answers


def _iso(day: object) -> str | None:
    return day.isoformat() if isinstance(day, dt.date) else None
