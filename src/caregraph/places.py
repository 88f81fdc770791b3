"""Place-specific answers: "who is responsible here?" for a registered location or a council.

A location (by CQC id or name) resolves to its provider, its council, that council's
Safeguarding Adults Board and local Healthwatch, its ICB and the national bodies. The duties
come from the curated knowledge (`responsibility.ask`), held by roles; for each holder role
the answer names the body that plays it at that place (`cg:playsRole`), as of the date asked.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from caregraph import contacts, responsibility
from caregraph.actors import directory
from caregraph.dates import holds, parse_day
from caregraph.importers import ids
from caregraph.namespaces import ACTOR, short_id
from caregraph.store import Store, iri, value

SOCIAL_SERVICES = ACTOR + "council-social-services"
HOUSING = ACTOR + "housing-authority"
PROVIDER_ROLE = ACTOR + "registered-provider"
MANAGER_ROLE = ACTOR + "registered-manager"
NOMINATED_ROLE = ACTOR + "nominated-individual"
NHS_TRUST_ROLE = ACTOR + "nhs-trust"
ICB_ROLE = ACTOR + "icb"
SAB_ROLE = ACTOR + "safeguarding-adults-board"
HEALTHWATCH_ROLE = ACTOR + "local-healthwatch"
MAX_CHOICES = 10


def name_key(text: str) -> str:
    """A name folded for matching: case, accents, '&' and 'and', hyphens, full stops and commas."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = folded.replace("&", " and ")
    folded = re.sub(r"[.'\u2019]", "", folded)
    return re.sub(r"[^a-z0-9]+", " ", folded).strip()


# -- errors ------------------------------------------------------------------------

class PlaceError(LookupError):
    """A place could not be resolved; the message says why and what to try."""


class UnknownPlace(PlaceError):
    def __init__(self, kind: str, text: str, suggestions: list[str]) -> None:
        self.kind, self.text, self.suggestions = kind, text, suggestions
        hint = f"; did you mean: {'; '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no {kind} called {text!r}{hint}")


class AmbiguousPlace(PlaceError):
    """Several places match; carries a short list to choose from."""

    def __init__(self, kind: str, text: str, choices: list[dict], more: int = 0) -> None:
        self.kind, self.text, self.choices, self.more = kind, text, choices, more
        listed = "\n".join(f"  {c['id']}  {c['label']}" + (f"  ({c['detail']})" if c.get("detail") else "")
                           for c in choices)
        extra = f"\n  ... and {more} more: add words from the name or the town" if more else ""
        super().__init__(f"{text!r} matches {len(choices) + more} {kind}s; give one of these ids:\n{listed}{extra}")


class PlaceNotOnDate(PlaceError):
    """The place existed, but not on the date asked (an abolished council, say)."""


# -- councils ----------------------------------------------------------------------

@dataclass(frozen=True)
class Council:
    iri: str
    gss: str
    label: str
    names: tuple[str, ...]
    valid_from: dt.date | None
    valid_to: dt.date | None
    roles: frozenset[str]
    county: str | None
    successors: tuple[str, ...]

    @property
    def social_services(self) -> bool:
        return SOCIAL_SERVICES in self.roles

    def exists_on(self, day: dt.date) -> bool:
        return holds(self.valid_from, self.valid_to, day)

    def as_json(self) -> dict:
        return {"id": self.gss, "uri": self.iri, "label": self.label,
                "valid_from": _iso(self.valid_from), "valid_to": _iso(self.valid_to)}


class CouncilIndex:
    """Every council by GSS code and by each of its names, folded by `name_key`."""

    def __init__(self, store: Store) -> None:
        raw: dict[str, dict] = {}
        for row in store.select("place_councils"):
            entry = raw.setdefault(row["council"].value, {
                "gss": value(row["gss"]), "label": value(row["label"]), "names": set(), "roles": set(),
                "successors": set(), "from": value(row["from"]), "to": value(row["to"]),
                "county": row["county"].value if row["county"] else None})
            if row["name"] is not None:
                entry["names"].add(value(row["name"]))
            if row["role"] is not None:
                entry["roles"].add(row["role"].value)
            if row["successor"] is not None:
                entry["successors"].add(row["successor"].value)
        self.by_iri = {c: Council(c, e["gss"], e["label"], tuple(sorted(e["names"])), e["from"], e["to"],
                                  frozenset(e["roles"]), e["county"], tuple(sorted(e["successors"])))
                       for c, e in raw.items()}
        self.by_gss = {c.gss: c for c in self.by_iri.values()}
        self.by_key: dict[str, list[Council]] = {}
        for council in self.by_iri.values():
            for key in {name_key(n) for n in council.names}:
                self.by_key.setdefault(key, []).append(council)

    def __len__(self) -> int:
        return len(self.by_iri)

    def resolve(self, text: str, day: dt.date, *, social_services: bool = False) -> tuple[Council, str | None]:
        """The council `text` (a GSS code or a name) means on `day`, and a note when it was
        reached through a successor. Raises UnknownPlace, AmbiguousPlace or PlaceNotOnDate."""
        kind = "council with adult social services responsibilities" if social_services else "council"
        code = text.strip().upper()
        if ids.GSS.match(code):
            council = self.by_gss.get(code)
            if council is None or (social_services and not council.social_services):
                raise UnknownPlace(kind, text, [])
            candidates = [council]
        else:
            candidates = [c for c in self.by_key.get(name_key(text), [])
                          if c.social_services or not social_services]
            if not candidates:
                raise UnknownPlace(kind, text, self._near(text, social_services))
        current = [c for c in candidates if c.exists_on(day)]
        if len(current) == 1:
            return current[0], None
        if len(current) > 1:
            raise AmbiguousPlace(kind, text, [{"id": c.gss, "label": c.label} for c in current])
        # Named a council that did not exist on the day: follow its successors.
        later = [c for c in candidates if c.valid_from and c.valid_from > day]
        if later and len(later) == len(candidates):
            raise PlaceNotOnDate(f"{later[0].label} ({later[0].gss}) did not exist yet on {day.isoformat()}: "
                                 f"it began on {later[0].valid_from.isoformat()}")
        successors = self.successors_on(candidates, day)
        if len(successors) == 1:
            ended = candidates[0]
            return successors[0], (f"{ended.label} ({ended.gss}) ended on {_iso(ended.valid_to)}; "
                                   f"its area is now {successors[0].label} ({successors[0].gss})")
        ended = candidates[0]
        names = " or ".join(f"{s.label} ({s.gss})" for s in successors) or "other councils"
        raise PlaceNotOnDate(f"{ended.label} ({ended.gss}) ended on {_iso(ended.valid_to)}; its area passed to "
                             f"{names}: name one of those, or ask as of {_iso(ended.valid_to)} or earlier")

    def successors_on(self, councils: Iterable[Council], day: dt.date) -> list[Council]:
        """The councils that had taken over from `councils` by `day`, following successions through."""
        found: dict[str, Council] = {}
        todo = [s for c in councils for s in c.successors]
        seen: set[str] = set()
        while todo:
            successor = self.by_iri.get(todo.pop())
            if successor is None or successor.iri in seen:
                continue
            seen.add(successor.iri)
            if successor.exists_on(day):
                found[successor.iri] = successor
            else:
                todo.extend(successor.successors)
        return sorted(found.values(), key=lambda c: c.gss)

    def _near(self, text: str, social_services: bool) -> list[str]:
        keys = [k for k, cs in self.by_key.items() if any(c.social_services or not social_services for c in cs)]
        close = difflib.get_close_matches(name_key(text), keys, n=3, cutoff=0.75)
        return list(dict.fromkeys(f"{c.label} ({c.gss})" for k in close for c in self.by_key[k]))  # closest first


def councils(store: Store) -> CouncilIndex:
    """The council index for `store`, rebuilt only when the store changes."""
    return store.cached("place-councils", lambda: CouncilIndex(store))


# -- locations ---------------------------------------------------------------------

class LocationNames:
    """Every registered location's names, for finding one by what a person types."""

    def __init__(self, store: Store) -> None:
        self.by_key: dict[str, set[str]] = {}
        self.by_word: dict[str, set[str]] = {}
        for row in store.select("place_location_names"):
            location, name = row["location"].value, value(row["name"])
            key = name_key(name)
            self.by_key.setdefault(key, set()).add(location)
            for word in set(key.split()):
                self.by_word.setdefault(word, set()).add(location)

    def find(self, text: str) -> list[str]:
        """Locations whose name is `text`; failing that, whose names contain all its words."""
        key = name_key(text)
        exact = self.by_key.get(key)
        if exact:
            return sorted(exact)
        words = key.split()
        if not words:
            return []
        found = set(self.by_word.get(words[0], set()))
        for word in words[1:]:
            found &= self.by_word.get(word, set())
        return sorted(found)

    def near(self, text: str) -> list[str]:
        close = difflib.get_close_matches(name_key(text), list(self.by_key), n=3, cutoff=0.8)
        return sorted({short_id(loc) for key in close for loc in self.by_key[key]})


def location_names(store: Store) -> LocationNames:
    return store.cached("place-location-names", lambda: LocationNames(store))


@dataclass
class Snapshot:
    """One import's record of a location."""

    graph: str
    as_of: dt.date | None
    label: str
    provider: str
    council: str | None
    icb: str | None
    postcode: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    rating: str | None


@dataclass
class Location:
    iri: str
    cqc_id: str
    snapshots: list[Snapshot]
    service_types: list[str] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)

    @property
    def latest(self) -> Snapshot:
        return max(self.snapshots, key=lambda s: (s.as_of or dt.date.min, s.graph))

    def choice(self, councils_: CouncilIndex) -> dict:
        latest = self.latest
        council = councils_.by_iri.get(latest.council or "")
        detail = ", ".join(x for x in (latest.postcode, council.label if council else None) if x)
        return {"id": self.cqc_id, "label": latest.label, "detail": detail}


def _load_locations(store: Store, location_iris: list[str]) -> dict[str, Location]:
    found: dict[str, Location] = {}
    if not location_iris:
        return found
    for row in store.select("place_location", [{"location": iri(i)} for i in location_iris]):
        loc = found.setdefault(row["location"].value, Location(row["location"].value, value(row["cqcId"]), []))
        snap = Snapshot(row["graph"].value, value(row["asOf"]), value(row["label"]), row["provider"].value,
                        row["council"].value if row["council"] else None,
                        row["icb"].value if row["icb"] else None, value(row["postcode"]), value(row["from"]),
                        value(row["to"]), value(row["rating"]))
        if snap not in loc.snapshots:
            loc.snapshots.append(snap)
    return found


def find_location(store: Store, text: str) -> Location:
    """The registered location `text` names: a CQC location id, or a name that matches one
    location. Raises UnknownPlace, or AmbiguousPlace with a short list to choose from."""
    code = text.strip().upper()
    if ids.LOCATION_ID.match(code):
        found = _load_locations(store, [ids.location(code)])
        if found:
            return next(iter(found.values()))
        if code.startswith("1-"):
            raise UnknownPlace("registered location", text, [])
        # Five letters may be an NHS site code or a word of a name ("Court"): try the names too.
    names = location_names(store)
    matches = names.find(text)
    if not matches:
        raise UnknownPlace("registered location", text, names.near(text))
    if len(matches) == 1:
        return _load_locations(store, matches)[matches[0]]
    shown = _load_locations(store, matches[:MAX_CHOICES])
    index = councils(store)
    raise AmbiguousPlace("registered location", text, [shown[m].choice(index) for m in matches[:MAX_CHOICES]
                                                       if m in shown],
                         more=max(0, len(matches) - MAX_CHOICES))


# -- a place and the bodies that play each role there --------------------------------

@dataclass
class Body:
    """The particular body (or post) that plays a role at a place, or the role itself when
    caregraph has no record of who plays it there."""

    uri: str
    label: str
    role: str
    role_label: str
    kind: str          # "local" body, "post" at a local body, "national" body, or "role" (not linked here)
    id: str | None = None
    note: str | None = None
    contact: contacts.Contact | None = None     # how to reach it, where the registers say

    def as_json(self) -> dict:
        return {"id": self.id, "uri": self.uri, "label": self.label, "role": short_id(self.role),
                "role_label": self.role_label, "kind": self.kind, "note": self.note,
                "contact": self.contact.as_json() if self.contact else None}


@dataclass
class Place:
    kind: str                       # "location" or "council"
    as_of: dt.date
    label: str
    id: str
    uri: str
    council: Council | None
    location: Location | None = None
    provider: dict | None = None
    icb: dict | None = None
    local: dict[str, Body] = field(default_factory=dict)    # role IRI -> the body playing it here
    notes: list[str] = field(default_factory=list)
    contact: contacts.Contact | None = None     # the location's own telephone number and website

    def as_json(self) -> dict:
        out = {"kind": self.kind, "id": self.id, "uri": self.uri, "label": self.label,
               "as_of": self.as_of.isoformat(), "council": self.council.as_json() if self.council else None,
               "bodies": [b.as_json() for b in self.local.values()], "notes": self.notes}
        if self.location is not None:
            latest = self.location.latest
            out.update({"postcode": latest.postcode, "provider": self.provider, "icb": self.icb,
                        "registered_from": _iso(latest.valid_from), "registered_to": _iso(latest.valid_to),
                        "overall_rating": latest.rating, "service_types": self.location.service_types,
                        "regulated_activities": self.location.activities,
                        "contact": self.contact.as_json() if self.contact else None,
                        "sources": sorted({s.graph for s in self.location.snapshots})})
        return out


def _council_bodies(store: Store, place: Place) -> None:
    """The council's own roles, and its board and Healthwatch, as of the day."""
    council, day = place.council, place.as_of
    roles = directory(store)
    for role in sorted(council.roles):
        place.local[role] = Body(council.iri, council.label, role, roles.get(role).label, "local", council.gss)
    if not council.social_services and council.county:
        county = councils(store).by_iri.get(council.county)
        if county is not None:
            place.local[SOCIAL_SERVICES] = Body(county.iri, county.label, SOCIAL_SERVICES,
                                                roles.get(SOCIAL_SERVICES).label, "local", county.gss,
                                                note=f"the county council for {council.label}'s area")
            council = county
    if SOCIAL_SERVICES in place.local and HOUSING not in place.local:
        place.local[HOUSING] = Body(HOUSING, roles.get(HOUSING).label, HOUSING, roles.get(HOUSING).label, "role",
                                    note=f"{council.label} is a county council, so the housing authority is the "
                                         "district council for the address: name it as the council to see it")
    for body, role, label, start, end in _council_bodies_index(store).get(council.iri, []):
        if holds(start, end, day):
            place.local[role] = Body(body, label, role, roles.get(role).label, "local")


def _council_bodies_index(store: Store) -> dict[str, list[tuple]]:
    def load() -> dict[str, list[tuple]]:
        index: dict[str, list[tuple]] = {}
        for row in store.select("place_council_bodies"):
            index.setdefault(row["council"].value, []).append(
                (row["body"].value, row["role"].value, value(row["label"]), value(row["from"]), value(row["to"])))
        return index
    return store.cached("place-council-bodies", load)


def _icb_labels(store: Store) -> dict[str, str]:
    return store.cached("place-icb-labels", lambda: {
        row["icb"].value: value(row["label"]) for row in store.select("import_icbs") if row["label"] is not None})


def _successor_note(index: CouncilIndex, council: Council, day: dt.date) -> tuple[Council | None, str]:
    successors = index.successors_on([council], day)
    if len(successors) == 1:
        return successors[0], (f"the register names {council.label}, which ended on {_iso(council.valid_to)}; "
                               f"its area is now {successors[0].label}")
    names = " or ".join(s.label for s in successors) or "other councils"
    return None, (f"the register names {council.label}, which ended on {_iso(council.valid_to)}; its area passed "
                  f"to {names}, and the register does not say which: council bodies are not named")


def location_place(store: Store, location: Location, day: dt.date) -> Place:
    """A location as a place on `day`: its provider, council and the bodies that serve it."""
    index = councils(store)
    latest = location.latest
    place = Place("location", day, latest.label, location.cqc_id, location.iri, None, location)
    linked = [index.by_iri[s.council] for s in sorted(location.snapshots, key=lambda s: s.as_of or dt.date.min,
                                                         reverse=True) if s.council in index.by_iri]
    council = next((c for c in linked if c.exists_on(day)), None)
    if council is None and linked:
        council, note = _successor_note(index, linked[0], day)
        place.notes.append(note)
    elif not linked:
        place.notes.append("no council is linked to this location")
    place.council = council
    if latest.valid_to and latest.valid_to < day:
        place.notes.append(f"the location's registration ended on {latest.valid_to.isoformat()}")
    if latest.valid_from and latest.valid_from > day:
        place.notes.append(f"the location was registered on {latest.valid_from.isoformat()}, after "
                           f"{day.isoformat()}")
    for row in store.select("place_location_services", [{"location": iri(location.iri)}]):
        if row["serviceType"] is not None and value(row["serviceType"]) not in location.service_types:
            location.service_types.append(value(row["serviceType"]))
        if row["activity"] is not None:
            label = value(row["activityLabel"]) or row["activity"].value
            if label not in location.activities:
                location.activities.append(label)
    roles = directory(store)
    provider_rows = store.select("place_provider", [{"provider": iri(latest.provider)}])
    provider_label = _provider_label(provider_rows, short_id(latest.provider))
    place.provider = {"id": short_id(latest.provider), "uri": latest.provider, "label": provider_label}
    place.local[PROVIDER_ROLE] = Body(latest.provider, provider_label, PROVIDER_ROLE,
                                      roles.get(PROVIDER_ROLE).label, "local", short_id(latest.provider))
    trust = next((r for r in provider_rows if r["trust"] is not None), None)
    if trust is not None:
        place.local[NHS_TRUST_ROLE] = Body(trust["trust"].value, value(trust["trustLabel"]), NHS_TRUST_ROLE,
                                           roles.get(NHS_TRUST_ROLE).label, "local", short_id(trust["trust"].value))
    manager, nominated = ids.registered_manager(location.iri), ids.nominated_individual(latest.provider)
    holders = {r["post"].value: value(r["name"]) for r in store.select(
        "place_post_holders", [{"post": iri(manager)}, {"post": iri(nominated)}])}
    name = holders.get(manager)
    place.local[MANAGER_ROLE] = Body(manager, f"Registered manager of {latest.label}" + (f" ({name})" if name else ""),
                                     MANAGER_ROLE, roles.get(MANAGER_ROLE).label, "post",
                                     note=None if name else "the graph holds the role, not the person")
    if nominated in holders:  # only imports run with --with-names name the person
        label = f"Nominated individual of {provider_label} ({holders[nominated]})"
        place.local[NOMINATED_ROLE] = Body(nominated, label, NOMINATED_ROLE, roles.get(NOMINATED_ROLE).label, "post")
    icb = next((s.icb for s in sorted(location.snapshots, key=lambda s: s.as_of or dt.date.min, reverse=True)
                if s.icb), None)
    if icb is None and holds(roles.get(ICB_ROLE).valid_from, roles.get(ICB_ROLE).valid_to, day):
        place.local[ICB_ROLE] = Body(ICB_ROLE, roles.get(ICB_ROLE).label, ICB_ROLE, roles.get(ICB_ROLE).label,
                                     "role", note="the imported records give no ICB for this location; the CQC "
                                                  "API's records do")
    elif icb is not None:
        label = _icb_labels(store).get(icb, short_id(icb))
        place.icb = {"id": short_id(icb), "uri": icb, "label": label}
        place.local[ICB_ROLE] = Body(icb, label, ICB_ROLE, roles.get(ICB_ROLE).label, "local", short_id(icb))
    if council is not None:
        _council_bodies(store, place)
    _add_contacts(store, place)
    return place


def _add_contacts(store: Store, place: Place) -> None:
    """Each local body's telephone number and website; the registered manager is reached at the
    location's own number."""
    found = contacts.contacts(store, [place.uri] + [b.uri for b in place.local.values()])
    if place.kind == "location":
        place.contact = found.get(place.uri)
    for body in place.local.values():
        body.contact = place.contact if body.role == MANAGER_ROLE else found.get(body.uri)


def _provider_label(rows: list[dict], cqc_id: str) -> str:
    """The provider's name, preferring a real one to the placeholder some imports give."""
    names = sorted({value(r["label"]) for r in rows if r["label"] is not None} - {placeholder_provider_label(cqc_id)})
    return names[0] if names else placeholder_provider_label(cqc_id)


def placeholder_provider_label(cqc_id: str) -> str:
    """The label of a provider known only by its id (the CQC API's location records carry no provider name)."""
    return f"CQC registered provider {cqc_id}"


def council_place(store: Store, text: str, day: dt.date) -> Place:
    index = councils(store)
    council, note = index.resolve(text, day)
    place = Place("council", day, council.label, council.gss, council.iri, council)
    if note:
        place.notes.append(note)
    _council_bodies(store, place)
    _add_contacts(store, place)
    return place


def place_for(store: Store, day: dt.date, location: str | None = None, council: str | None = None,
              place: str | None = None) -> Place:
    """The place a person named, as of `day`: a location (which fixes its council), a council, or
    `place`, any of those: a GSS code or a council's name is a council, anything else a location."""
    if place:
        text = place.strip()
        if ids.GSS.match(text.upper()) or name_key(text) in councils(store).by_key:
            return council_place(store, text, day)
        return location_place(store, find_location(store, text), day)
    if location:
        place = location_place(store, find_location(store, location), day)
        if council:
            # A district council can be named with a location in its county: it is the housing authority there.
            asked, _ = councils(store).resolve(council, day)
            area = asked.iri if asked.social_services else asked.county
            if place.council is not None and area != place.council.iri:
                raise PlaceError(f"{place.label} is in {place.council.label}'s area, not {asked.label}'s; "
                                 "give the location alone")
            if not asked.social_services:
                place.local[HOUSING] = Body(asked.iri, asked.label, HOUSING,
                                            directory(store).get(HOUSING).label, "local", asked.gss,
                                            contact=contacts.contacts(store, [asked.iri]).get(asked.iri))
        return place
    if council:
        return council_place(store, council, day)
    raise PlaceError("name a place: a CQC location id or name, or a council's GSS code or name")


# -- answers -------------------------------------------------------------------------

def body_for(store: Store, place: Place, holder: str) -> Body:
    """The body that plays `holder` at `place`: a local body, a post at one, a national body
    (which plays itself), or the role itself when caregraph cannot name the body here."""
    if holder in place.local:
        return place.local[holder]
    actors = directory(store)
    actor = actors.get(holder)
    if actor.kind not in ("StatutoryRole", "Post", "PersonRole"):
        return Body(holder, actor.label, holder, actor.label, "national", actor.id,
                    contact=contacts.contacts(store, [holder]).get(holder))
    principal = _agents(store).get(holder)
    if principal in place.local and place.local[principal].kind == "local":
        body = place.local[principal]
        where = (place.label if holder == MANAGER_ROLE else body.label)
        # A post is reached through the body it acts for.
        return Body(holder, f"{actor.label}, {where}", holder, actor.label, "post",
                    note=f"acts for {body.label}", contact=body.contact)
    return Body(holder, actor.label, holder, actor.label, "role", actor.id,
                note="caregraph does not record who plays this role here")


def _agents(store: Store) -> dict[str, str]:
    def load() -> dict[str, str]:
        return {row["holder"].value: row["principal"].value for row in store.select("place_role_agents")}
    return store.cached("place-role-agents", load)


def matching_text(store: Store, question: str, place: Place) -> str:
    """The question as it is matched against the duties: the place's own names taken out (they
    are not words about duties) and the plain word for the kind of service added ("care home")."""
    names = [s.label for s in place.location.snapshots] if place.location else list(place.council.names)
    text = question
    for name in sorted(set(names), key=len, reverse=True):
        text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    words = _service_words(store)
    kinds = [w for s in (place.location.service_types if place.location else []) for w in words.get(name_key(s), [])]
    kinds = [w for w in dict.fromkeys(kinds) if w.lower() not in text.lower()]
    text = " ".join(text.split())
    return f"{text} ({', '.join(kinds)})" if kinds else text


def _service_words(store: Store) -> dict[str, list[str]]:
    def load() -> dict[str, list[str]]:
        words: dict[str, list[str]] = {}
        for row in store.select("place_service_words"):
            words.setdefault(name_key(value(row["label"])), []).append(value(row["word"]))
        return words
    return store.cached("place-service-words", load)


@dataclass
class PlaceResponse:
    question: str
    as_of: dt.date
    place: Place
    answers: list[responsibility.Answer]
    bodies: list[dict]          # each body with the duties it holds here and those it oversees
    escalation: dict | None
    notes: list[str]
    matched_as: str = ""

    def as_json(self) -> dict:
        by_role = {b["role_uri"]: _plain(b) for b in self.bodies}
        answers = []
        for answer in self.answers:
            entry = answer.as_json()
            entry["holders"] = [dict(h, body=by_role[h["uri"]]) for h in answer.holders]
            entry["oversight"] = [dict(o, body=by_role[o["uri"]]) for o in answer.oversight]
            answers.append(entry)
        return {"question": self.question, "matched_as": self.matched_as, "as_of": self.as_of.isoformat(),
                "place": self.place.as_json(),
                "bodies": [{k: v for k, v in b.items() if k != "role_uri"} for b in self.bodies],
                "answers": answers, "escalation": self.escalation, "notes": self.notes}

    def as_text(self) -> str:
        """The answer as the command line prints it."""
        place = self.place
        lines = [f"Q: {self.question}   (as of {self.as_of.isoformat()})"]
        if self.matched_as != self.question:
            lines.append(f"   read as: {self.matched_as}")
        lines.append("")
        if place.kind == "location":
            latest = place.location.latest
            lines.append(f"Place: {place.label}, CQC location {place.id}"
                         + (f", {latest.postcode}" if latest.postcode else ""))
            if place.contact:
                lines.append(f"  contact: {_contact_text(place.contact)}")
            if place.location.service_types:
                lines.append(f"  services: {', '.join(place.location.service_types)}")
        else:
            lines.append(f"Place: {place.label} ({place.id})")
        for body in place.local.values():
            ident = f" ({body.id})" if body.id and body.kind == "local" else ""
            label = "not named here" if body.kind == "role" else body.label
            note = f" ({body.note})" if body.note else ""
            lines.append(f"  {body.role_label}: {label}{ident}{note}")
            if body.contact and body.kind != "post":
                lines.append(f"    contact: {_contact_text(body.contact)}")
        lines += [f"  note: {n}" for n in place.notes + self.notes]
        lines.append("")
        if not self.answers:
            return "\n".join(lines).rstrip()
        lines.append("Who holds these duties here:")
        for body in self.bodies:
            if not body["duties"] and not body["oversees"]:
                continue
            ident = f" ({body['id']})" if body["id"] and body["kind"] == "local" else ""
            plays = f", as {body['role_label'].lower()}" if body["kind"] == "local" else ""
            lines.append(f"- {body['label']}{ident}{plays}")
            if body["note"] and body["kind"] != "local":
                lines.append(f"    ({body['note']})")
            for duty in body["duties"]:
                lines.append(f"    {', '.join(duty['raci'])}: {duty['label']}")
                for basis in duty["legal_basis"]:
                    lines.append(f"      law: {basis['label']} <{basis['uri']}>")
            if body["oversees"]:
                lines.append(f"    oversees: {'; '.join(d['label'] for d in body['oversees'])}")
        if self.escalation:
            lines += ["", f"Escalation route: {self.escalation['label']}"]
            for step in self.escalation["steps"]:
                side = " (at the same time)" if step["parallel"] else ""
                lines.append(f"  {step['order']}. {step['body']['label']}{side}")
        return "\n".join(lines)


def _contact_text(contact: contacts.Contact) -> str:
    parts = [f"phone {contact.phone_text}"] if contact.phone else []
    if contact.website:
        parts.append(f"website {contact.website}")
    elif contact.finder:
        parts.append(f"website via GOV.UK {contact.finder}")
    return ", ".join(parts)


def _plain(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("duties", "oversees", "role_uri")}


def ask(store: Store, question: str, as_of: dt.date | str | None = None, *, location: str | None = None,
        council: str | None = None, place: str | None = None, limit: int = 5) -> PlaceResponse:
    """Ranked answers to `question` at a place, as of a date, naming the body that holds each duty there.
    The place is a `location` (CQC id or name), a `council` (GSS code or name), or `place`, either."""
    day = parse_day(as_of)
    place = place_for(store, day, location=location, council=council, place=place)
    matched_as = matching_text(store, question, place)
    response = responsibility.ask(store, matched_as, day, limit=limit)
    bodies: dict[str, dict] = {}

    def entry(holder: str) -> dict:
        if holder not in bodies:
            body = body_for(store, place, holder)
            bodies[holder] = dict(body.as_json(), role_uri=holder, duties=[], oversees=[])
        return bodies[holder]

    for role in place.local:
        entry(role)
    for answer in response.answers:
        for holder in answer.holders:
            duties = entry(holder["uri"])["duties"]
            held = next((d for d in duties if d["id"] == answer.duty["id"]), None)
            if held is None:
                duties.append({"id": answer.duty["id"], "uri": answer.duty["uri"], "label": answer.duty["label"],
                               "raci": [holder["role"]], "legal_basis": answer.legal_basis})
            elif holder["role"] not in held["raci"]:
                held["raci"].append(holder["role"])
        for overseer in answer.oversight:
            entry(overseer["uri"])["oversees"].append({"id": answer.duty["id"], "uri": answer.duty["uri"],
                                                       "label": answer.duty["label"]})
    escalation = None
    if response.escalation is not None:
        escalation = response.escalation.as_json()
        for step in escalation["steps"]:
            step["body"] = _plain(entry(step["actor"]["uri"]))
    ordered = sorted(bodies.values(), key=lambda b: (_KIND_ORDER[b["kind"]], _role_rank(b, response.answers)))
    return PlaceResponse(question, day, place, response.answers, ordered, escalation, response.notes, matched_as)


_KIND_ORDER = {"local": 0, "post": 1, "national": 2, "role": 3}


def _role_rank(body: dict, answers: list[responsibility.Answer]) -> tuple:
    """Bodies that answer for the best-ranked duty come first."""
    for n, answer in enumerate(answers):
        for holder in answer.holders:
            if holder["uri"] == body["role_uri"]:
                return (n, responsibility.ROLE_ORDER.get(holder["role"], 9))
    return (len(answers), 9)


def _iso(day: object) -> str | None:
    return day.isoformat() if isinstance(day, dt.date) else None
