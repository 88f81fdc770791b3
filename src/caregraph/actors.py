"""Find actors by what a person types: an id, an IRI, a name or an acronym."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass

from caregraph.namespaces import ACTOR, CG, short_id
from caregraph.store import Store, value


@dataclass(frozen=True)
class Actor:
    iri: str
    label: str
    names: tuple[str, ...]
    kind: str
    valid_from: dt.date | None
    valid_to: dt.date | None

    @property
    def id(self) -> str:
        return short_id(self.iri)

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "uri": self.iri, "label": self.label}


# Everyday names several actors share, and the one a person asking about adult social care
# usually means; `also_named` gives the others so an answer can point to them.
USUAL_MEANING = {"the council": "council-social-services", "council": "council-social-services"}


class UnknownActor(LookupError):
    """No actor matches; carries the nearest names so the person can try again."""

    def __init__(self, text: str, suggestions: list[str]) -> None:
        self.text, self.suggestions = text, suggestions
        hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no actor called {text!r}{hint}")


class AmbiguousActor(LookupError):
    def __init__(self, text: str, candidates: list[Actor]) -> None:
        self.text, self.candidates = text, candidates
        names = ", ".join(f"{a.id} ({a.label})" for a in candidates)
        super().__init__(f"{text!r} could mean several actors: {names}; give one of these ids")


class ActorDirectory:
    """All actors of a store, indexed by id and by every name they go by."""

    def __init__(self, store: Store) -> None:
        actors: dict[str, dict] = {}
        for row in store.select("actors"):
            iri = row["actor"].value
            entry = actors.setdefault(iri, {"label": value(row["label"]), "names": set(),
                                            "kind": row["class"].value.removeprefix(CG),
                                            "from": value(row["from"]), "to": value(row["to"])})
            entry["names"].add(value(row["label"]))
            if row["alt"] is not None:
                entry["names"].add(value(row["alt"]))
        self.by_iri = {iri: Actor(iri, e["label"], tuple(sorted(e["names"])), e["kind"], e["from"], e["to"])
                       for iri, e in actors.items()}
        self._by_name: dict[str, list[Actor]] = {}
        for actor in self.by_iri.values():
            for key in {actor.id.lower(), *(n.lower() for n in actor.names)}:
                self._by_name.setdefault(key, []).append(actor)

    def __iter__(self):
        return iter(self.by_iri.values())

    def get(self, iri: str) -> Actor:
        return self.by_iri[iri]

    def resolve(self, text: str) -> Actor:
        """The actor `text` names; raises UnknownActor with near matches, or AmbiguousActor."""
        key = text.strip()
        if key in self.by_iri:
            return self.by_iri[key]
        if key.startswith(ACTOR) or "://" in key:
            raise UnknownActor(text, self._near(short_id(key)))
        found = self._by_name.get(key.lower(), [])
        if len(found) == 1:
            return found[0]
        usual = [a for a in found if a.id == USUAL_MEANING.get(key.lower())]
        if usual:
            return usual[0]
        if len(found) > 1:
            raise AmbiguousActor(text, sorted(found, key=lambda a: a.id))
        raise UnknownActor(text, self._near(key))

    def also_named(self, text: str, actor: Actor) -> list[Actor]:
        """The other actors that go by `text` (when `resolve` chose `actor` as its usual meaning)."""
        return sorted((a for a in self._by_name.get(text.strip().lower(), []) if a != actor), key=lambda a: a.id)

    def _near(self, text: str) -> list[str]:
        keys = list(self._by_name)
        close = difflib.get_close_matches(text.lower(), keys, n=5, cutoff=0.6)
        ids: list[str] = []
        for key in close:
            for actor in self._by_name[key]:
                if actor.id not in ids:
                    ids.append(actor.id)
        return ids[:5]


def directory(store: Store) -> ActorDirectory:
    """The actor directory for `store`, rebuilt only when the store changes."""
    return store.cached("actors", lambda: ActorDirectory(store))
