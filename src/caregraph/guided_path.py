"""The guided path: plain questions, one at a time, that lead a person who cannot name the
problem to a problem of the thesaurus, and from it to the duties and escalation route that
answer it. The questions and choices are data (ontology/knowledge/guided-path.ttl); this
module walks them and never decides anything the data does not say."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from caregraph import escalation, responsibility, thesaurus
from caregraph.namespaces import short_id
from caregraph.store import Store, value


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    next: str | None          # the id of the next question, or None when the path ends here
    problem: str | None       # the thesaurus problem IRI the path ends at
    alert: str | None


@dataclass
class Question:
    id: str
    label: str
    hint: str | None
    order: int
    asks_place: bool
    next: str | None          # for a place question: the question after it
    choices: list[Choice] = field(default_factory=list)

    def choice(self, choice_id: str) -> Choice | None:
        return next((c for c in self.choices if c.id == choice_id), None)


class UnknownStep(LookupError):
    """No question or choice by that id on the guided path."""


@dataclass
class Path:
    questions: dict[str, Question]

    @property
    def first(self) -> Question:
        return min(self.questions.values(), key=lambda q: q.order)

    def question(self, question_id: str) -> Question:
        try:
            return self.questions[question_id]
        except KeyError:
            raise UnknownStep(f"no question {question_id!r} on the guided path") from None

    def alert(self, choice_id: str) -> str | None:
        """The alert a choice carries (call 999), wherever it is asked."""
        for question in self.questions.values():
            choice = question.choice(choice_id)
            if choice is not None:
                return choice.alert
        return None

    def ends(self) -> list[tuple[list[str], Choice]]:
        """Every way through the path: the question ids asked, and the choice that ends it.
        A place question is passed without a place; alerts do not change the way."""
        found: list[tuple[list[str], Choice]] = []

        def walk(question: Question, asked: list[str]) -> None:
            asked = asked + [question.id]
            if question.asks_place:
                if question.next:
                    walk(self.question(question.next), asked)
                return
            for choice in question.choices:
                if choice.problem:
                    if all(end.id != choice.id for _, end in found):
                        found.append((asked, choice))
                elif choice.next and choice.next not in asked:
                    walk(self.question(choice.next), asked)
        walk(self.first, [])
        return found


def load(store: Store) -> Path:
    """The guided path as the knowledge states it (kept per version of the graph)."""
    def build() -> Path:
        questions: dict[str, Question] = {}
        for row in store.select("guided_path"):
            qid = short_id(row["question"].value)
            question = questions.get(qid)
            if question is None:
                question = questions[qid] = Question(
                    qid, value(row["qlabel"]), value(row["qhint"]), int(value(row["qorder"])),
                    bool(value(row["asksPlace"])), short_id(row["qnext"].value) if row["qnext"] else None)
            if row["choice"] is not None and question.choice(short_id(row["choice"].value)) is None:
                question.choices.append(Choice(
                    short_id(row["choice"].value), value(row["clabel"]),
                    short_id(row["cnext"].value) if row["cnext"] else None,
                    row["problem"].value if row["problem"] else None, value(row["alert"])))
        if not questions:
            raise UnknownStep("the guided path is missing from the knowledge")
        return Path(questions)
    return store.cached("guided-path", build)


@dataclass
class Outcome:
    """Where a path ends: the problem, the duties that answer it first, and its route."""

    problem: thesaurus.Concept
    response: responsibility.Response


def outcome(store: Store, problem_id: str, day: dt.date) -> Outcome:
    """The answer at the end of the path for a thesaurus problem (its id or IRI): its key
    duties in force on `day`, described as any answer is, and its escalation route."""
    concepts = thesaurus.load(store).concepts
    concept = concepts.get(problem_id) or next(
        (c for iri, c in concepts.items() if short_id(iri) == problem_id), None)
    if concept is None or not concept.in_scope:
        raise UnknownStep(f"no problem {problem_id!r} to end the guided path at")
    duties = [d for d in concept.key_duties if responsibility.in_force(store, d, day)]
    route = escalation.load_route(store, concept.routes[0], day) if concept.routes else None
    response = responsibility.Response(concept.label, day, responsibility.describe(store, duties, day), route)
    if any(not a.statutory for a in response.answers):
        response.notes.append(responsibility.NOT_LAW)
    return Outcome(concept, response)
