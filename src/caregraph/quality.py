"""Quality by place, from the imported CQC registers: for each council (and each ICB) the
registered locations by service type with their latest overall ratings, the share rated
Inadequate or Requires improvement, the beds in such homes, and how that compares with
England; and the same for each service type nationally.

A location counts on a date when the newest import that records it, dated on or before that
date, shows it registered then; its rating is that record's latest overall rating. The share
is of rated locations (Outstanding, Good, Requires improvement or Inadequate); locations
with no such rating yet are counted as not rated.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from caregraph import places, queries, responsibility
from caregraph.dates import holds
from caregraph.namespaces import short_id
from caregraph.store import Store, date_literal, value

RATINGS = ("Outstanding", "Good", "Requires improvement", "Inadequate")
POOR = ("Requires improvement", "Inadequate")
NOT_RATED = "Not rated"
ENGLAND = {"id": "E92000001", "label": "England"}
KEPT_DAYS = 4


class QualityError(LookupError):
    """A place that cannot be resolved, or no register imported."""


@dataclass
class Record:
    """One import's record of a location."""

    as_of: dt.date | None
    graph: str
    council: str | None
    icb: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    rating: str
    beds: int
    services: list[str] = field(default_factory=list)


def _service_names(store: Store) -> dict[str, tuple[str, str]]:
    """Any CQC wording of a service type -> (concept id, the short name the directory uses)."""
    def load() -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        rows = store.select("quality_service_types")
        short: dict[str, str] = {}
        for row in rows:
            if row["alt"] is not None:
                short.setdefault(row["concept"].value, value(row["alt"]))
        # A short name two service types share ("Doctors/GPs") would merge them: use the full one.
        shared = {name for name, n in Counter(short.values()).items() if n > 1}
        short = {concept: name for concept, name in short.items() if name not in shared}
        for row in rows:
            concept = row["concept"].value
            entry = (short_id(concept), short.get(concept, value(row["label"])))
            for name in (row["label"], row["alt"]):
                if name is not None:
                    out[value(name).lower()] = entry
        return out
    return store.cached("quality-service-names", load)


def records(store: Store) -> dict[str, list[Record]]:
    """Every imported record of every location, read once per store generation."""
    return store.cached("quality-records", lambda: _load(store))


def _load(store: Store) -> dict[str, list[Record]]:
    names = _service_names(store)
    dates = {row["graph"].value: value(row["asOf"]) for row in store.select("quality_import_dates")}
    found: dict[tuple[str, str], Record] = {}
    # Tens of thousands of rows: read them by position, converting only what is there.
    result = store.query(queries.render(queries.text("quality_locations")))
    for location, graph, council, icb, start, end, rating, beds, service in result:
        key = (location.value, graph.value)
        record = found.get(key)
        if record is None:
            given = rating.value if rating is not None else NOT_RATED
            record = found[key] = Record(
                dates.get(graph.value), graph.value, council.value if council is not None else None,
                icb.value if icb is not None else None, _date(start), _date(end),
                given if given in RATINGS else NOT_RATED, int(beds.value) if beds is not None else 0)
        if service is not None:
            service_id = names.get(service.value.lower(), (service.value,))[0]
            if service_id not in record.services:
                record.services.append(service_id)
    by_location: dict[str, list[Record]] = {}
    for (location, _), record in found.items():
        by_location.setdefault(location, []).append(record)
    return by_location


def _date(term) -> dt.date | None:
    return dt.date.fromisoformat(term.value) if term is not None else None


def current(store: Store, day: dt.date) -> list[Record]:
    """The record that stands for each location registered on `day`: the newest dated on or before it."""
    # A few recent days are kept (a page and its JSON ask for the same one); not every day ever asked.
    kept: dict[dt.date, list[Record]] = store.cached("quality-current", dict)
    if day not in kept:
        chosen = []
        for snapshots in records(store).values():
            if len(snapshots) == 1:     # most locations: one import records them
                latest = snapshots[0]
                if latest.as_of is not None and latest.as_of > day:
                    continue
            else:
                usable = [r for r in snapshots if r.as_of is None or r.as_of <= day]
                if not usable:
                    continue
                latest = max(usable, key=lambda r: (r.as_of or dt.date.min, r.graph))
            if holds(latest.valid_from, latest.valid_to, day):
                chosen.append(latest)
        while len(kept) >= KEPT_DAYS:
            kept.pop(next(iter(kept)))
        kept[day] = chosen
    return kept[day]


@dataclass
class Tally:
    """Locations by rating and the beds in them."""

    ratings: dict[str, int] = field(default_factory=lambda: {r: 0 for r in (*RATINGS, NOT_RATED)})
    beds: int = 0
    poor_beds: int = 0

    @classmethod
    def of(cls, records: list[Record]) -> Tally:
        """The tally of `records` (counted in C by Counter: tens of thousands at a time)."""
        tally = cls()
        tally.ratings.update(Counter(r.rating for r in records))
        tally.beds = sum(r.beds for r in records)
        tally.poor_beds = sum(r.beds for r in records if r.rating in POOR)
        return tally

    @property
    def locations(self) -> int:
        return sum(self.ratings.values())

    @property
    def rated(self) -> int:
        return sum(self.ratings[r] for r in RATINGS)

    @property
    def poor(self) -> int:
        return sum(self.ratings[r] for r in POOR)

    @property
    def poor_share(self) -> float | None:
        return round(self.poor / self.rated, 4) if self.rated else None

    def as_json(self) -> dict:
        return {"locations": self.locations, "ratings": dict(self.ratings), "rated": self.rated,
                "inadequate_or_requires_improvement": self.poor, "share_inadequate_or_requires_improvement":
                    self.poor_share, "beds": self.beds, "beds_in_inadequate_or_requires_improvement": self.poor_beds}


def _tally(chosen: list[Record]) -> tuple[Tally, dict[str, Tally]]:
    by_service: dict[str, list[Record]] = {}
    for record in chosen:
        for service in record.services:
            by_service.setdefault(service, []).append(record)
    return Tally.of(chosen), {service: Tally.of(found) for service, found in by_service.items()}


def _services_json(store: Store, by_service: dict[str, Tally], england: dict[str, Tally] | None = None) -> list[dict]:
    labels = {cid: label for cid, label in _service_names(store).values()}
    out = []
    for service, tally in sorted(by_service.items(), key=lambda s: (-s[1].locations, s[0])):
        entry = {"service_type": {"id": service, "label": labels.get(service, service)}, **tally.as_json()}
        if england is not None:
            entry["england_share"] = england[service].poor_share if service in england else None
            entry["difference_points"] = _points(tally.poor_share, entry["england_share"])
        out.append(entry)
    return out


def _points(share: float | None, england: float | None) -> float | None:
    """The difference in percentage points (positive: more poorly rated than England)."""
    return None if share is None or england is None else round((share - england) * 100, 1)


def _require_records(store: Store) -> None:
    if not records(store):
        raise QualityError("no CQC register is imported: run `caregraph --store STORE import cqc-export FILE` "
                           "(or cqc-api, cqc-directory) first")


def national(store: Store, day: dt.date) -> dict:
    """England as a whole on `day`, and each service type nationally."""
    _require_records(store)
    total, by_service = _tally(current(store, day))
    return {"as_of": day.isoformat(), "area": ENGLAND, **total.as_json(),
            "service_types": _services_json(store, by_service)}


def _area(store: Store, day: dt.date, area: dict, chosen: list[Record]) -> dict:
    total, by_service = _tally(chosen)
    england, england_services = _tally(current(store, day))
    return {"as_of": day.isoformat(), "area": area, **total.as_json(),
            "england": england.as_json(), "difference_points": _points(total.poor_share, england.poor_share),
            "service_types": _services_json(store, by_service, england_services)}


def council_quality(store: Store, text: str, day: dt.date) -> dict:
    """Quality in one council's area (a GSS code or a name) on `day`, beside England's."""
    _require_records(store)
    try:
        council, note = places.councils(store).resolve(text, day, social_services=True)
    except places.PlaceError as exc:
        raise QualityError(str(exc)) from None
    chosen = [r for r in current(store, day) if r.council == council.iri]
    out = _area(store, day, {"kind": "council", **council.as_json()}, chosen)
    out["notes"] = [note] if note else []
    return out


def icb_quality(store: Store, text: str, day: dt.date) -> dict:
    """Quality in one ICB's area (GSS E54 or ODS code, or its name) on `day`, counting the
    locations whose record names the ICB (the CQC API's records do; the directory's do not)."""
    _require_records(store)
    icbs = {r["icb"].value: (value(r["gss"]), value(r["ods"]), value(r["label"])) for r in store.select("import_icbs")}
    key = text.strip().lower()
    found = [i for i, (gss, ods, label) in icbs.items()
             if key in ((gss or "").lower(), (ods or "").lower(), (label or "").lower())]
    if len(found) != 1:
        near = sorted(label for _, _, label in icbs.values() if label and key in label.lower())[:5]
        raise QualityError(f"no integrated care board called {text!r}" + (f"; did you mean: {', '.join(near)}?"
                                                                         if near else ""))
    gss, ods, label = icbs[found[0]]
    chosen = [r for r in current(store, day) if r.icb == found[0]]
    out = _area(store, day, {"kind": "icb", "id": gss, "ods": ods, "uri": found[0], "label": label}, chosen)
    out["notes"] = ["only locations whose imported record names their ICB are counted (the CQC API's records do; "
                    "the directory and exports do not)"]
    return out


def councils_table(store: Store, day: dt.date) -> list[dict]:
    """One row per council area with registered locations on `day`, most poorly rated share first."""
    _require_records(store)
    index = places.councils(store)
    by_council: dict[str, list[Record]] = {}
    for record in current(store, day):
        if record.council:
            by_council.setdefault(record.council, []).append(record)
    england = Tally.of(current(store, day))
    rows = []
    for iri_, chosen in by_council.items():
        council = index.by_iri.get(iri_)
        total = Tally.of(chosen)
        rows.append({"council": council.as_json() if council else {"id": short_id(iri_), "uri": iri_,
                                                                    "label": short_id(iri_)},
                     **total.as_json(), "difference_points": _points(total.poor_share, england.poor_share)})
    return sorted(rows, key=lambda r: (-(r["share_inadequate_or_requires_improvement"] or 0), r["council"]["label"]))


def chart_counts(store: Store, day: dt.date) -> dict[str, dict[str, int]]:
    """Council label -> rating -> locations, straight from the aggregate query the quality chart draws."""
    out: dict[str, dict[str, int]] = {}
    for row in store.select("quality_by_council", [{"day": date_literal(day)}]):
        rating = value(row["rating"])
        counts = out.setdefault(value(row["label"]), {r: 0 for r in (*RATINGS, NOT_RATED)})
        counts[rating if rating in RATINGS else NOT_RATED] += int(value(row["locations"]))
    return out


def who_acts(store: Store, text: str, day: dt.date) -> list[dict]:
    """Who must act in a council's area when a care service fails, on `day`: the duties about
    enforcement, market shaping and provider failure, and the safeguarding duties held there,
    each with the body that holds it in that place."""
    place = places.council_place(store, text, day)
    themes: dict[str, set[str]] = {}
    for row in store.select("quality_failure_duties"):
        themes.setdefault(row["duty"].value, set()).add(short_id(row["theme"].value))
    duties = [d for d in themes if responsibility.in_force(store, d, day)]
    out = []
    for answer in responsibility.describe(store, duties, day):
        accountable = [h for h in answer.holders if h["role"] == "accountable"]
        bodies = [places.body_for(store, place, h["uri"]) for h in accountable]
        duty_themes = themes[answer.duty["uri"]]
        # Safeguarding reaches far; here only what is held for the area itself (the council, its board).
        if duty_themes == {"safeguarding"} and not any(b.kind == "local" for b in bodies):
            continue
        out.append({"duty": {k: answer.duty[k] for k in ("id", "uri", "label", "modality")},
                    "themes": sorted(duty_themes), "law": answer.legal_basis,
                    "bodies": [b.as_json() for b in bodies]})
    order = {"enforcement": 0, "provider-failure": 1, "market-shaping": 2, "safeguarding": 3}
    return sorted(out, key=lambda e: (min(order[t] for t in e["themes"]), e["duty"]["label"].lower()))


def council_profile(store: Store, text: str, day: dt.date) -> dict:
    """The council profile: quality in its area beside who must act there when a service fails."""
    quality = council_quality(store, text, day)
    return {"quality": quality, "who_acts": who_acts(store, quality["area"]["id"], day)}
