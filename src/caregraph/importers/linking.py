"""Turning one CQC record (a row of a directory or export file, or an API record) into linked
triples: the location, its provider, its council as of the file's date, its ICB, its
regulated activities, and the registered manager's post. Every CQC importer uses this, so
the same location gets the same nodes whichever file it came from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyoxigraph as ox

from caregraph import contacts, places
from caregraph.importers import ids
from caregraph.importers.common import TYPE, ImportReport, Staging, day, integer, node, text
from caregraph.namespaces import ACTOR, CG, FOAF, ORG, RDFS, SKOS
from caregraph.store import Store

RATINGS = {r.lower(): r for r in ("Outstanding", "Good", "Requires improvement", "Inadequate",
                                  "Inspected but not rated", "Insufficient evidence to rate", "No published rating")}

P_LABEL, P_ALT = node(RDFS + "label"), node(SKOS + "altLabel")
P_CQC, P_PROVIDER, P_COUNCIL, P_ICB = node(CG + "cqcId"), node(CG + "provider"), node(CG + "council"), node(CG + "icb")
P_POSTCODE, P_FROM, P_TO = node(CG + "postcode"), node(CG + "validFrom"), node(CG + "validTo")
P_ACTIVITY, P_SERVICE, P_RATING = node(CG + "regulatedActivity"), node(CG + "serviceType"), node(CG + "overallRating")
P_ODS, P_PLAYS, P_MATCH = node(CG + "odsCode"), node(CG + "playsRole"), node(SKOS + "exactMatch")
P_BEDS = node(CG + "careHomeBeds")
LOCATION_CLASS, PROVIDER_CLASS = node(CG + "CareLocation"), node(CG + "CareProvider")
ORG_POST, ORG_ROLE = node(ORG + "Post"), node(ORG + "role")
ORG_POST_IN, ORG_HELD_BY = node(ORG + "postIn"), node(ORG + "heldBy")
PERSON, NAME = node(FOAF + "Person"), node(FOAF + "name")
P_PHONE, P_HOMEPAGE = node(FOAF + "phone"), node(FOAF + "homepage")


@dataclass
class LocationRecord:
    """What a CQC source says about one location, in caregraph's terms."""

    location_id: str
    provider_id: str
    name: str
    council_name: str
    provider_name: str = ""
    also_known_as: str = ""
    postcode: str = ""
    service_types: list[str] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)      # names or API codes
    rating: str = ""
    beds: int | None = None           # care home beds; None or 0: not a care home, or the source does not say
    registered_from: dt.date | None = None
    registered_to: dt.date | None = None
    icb_gss: str = ""
    ods_code: str = ""
    manager: str | None = None        # None: the source does not say; "": it names no one
    nominated_individual: str | None = None
    phone: str = ""                   # the location's telephone number and website, as the source writes them
    website: str = ""
    provider_phone: str = ""
    provider_website: str = ""


class Linker:
    """Links CQC records into a staging graph, reporting each one it cannot link."""

    def __init__(self, store: Store, staging: Staging, report: ImportReport, *, with_names: bool) -> None:
        self.store, self.staging, self.report, self.with_names = store, staging, report, with_names
        self.councils = places.councils(store)
        self.activities: dict[str, str] = {}
        for row in store.select("import_regulated_activities"):
            self.activities[places.name_key(row["name"].value)] = row["activity"].value
        self.icbs: dict[str, str] = {}
        for row in store.select("import_icbs"):
            self.icbs[row["gss"].value] = row["icb"].value
            if row["ods"] is not None:
                self.icbs[row["ods"].value] = row["icb"].value
        self._activity_names: dict[str, str | None] = {}
        self._councils: dict[tuple[str, dt.date], tuple[str | None, str | None]] = {}
        self._seen: dict[str, tuple[str, str, str]] = {}    # location -> (where, council, provider)
        self._postcodes: dict[str, str] = {}
        self._providers_seen: set[str] = set()
        self._providers_named: set[str] = set()

    def activity(self, name: str) -> str | None:
        """The regulated activity concept a name or API code stands for (names repeat: remember them)."""
        if name not in self._activity_names:
            self._activity_names[name] = self.activities.get(places.name_key(name))
        return self._activity_names[name]

    def is_activity(self, name: str) -> bool:
        return self.activity(name) is not None

    def council(self, name: str, day: dt.date | None = None) -> tuple[str | None, str | None]:
        """The council IRI a register's local-authority name means on `day` (default: the import's
        date), or the reason not."""
        day = day or self.report.as_of
        if (name, day) not in self._councils:
            try:
                council, note = self.councils.resolve(name, day, social_services=True)
            except places.PlaceError as exc:
                self._councils[name, day] = (None, f"council {name!r}: {exc}")
            else:
                if note:
                    self.report.note(f"local authority {name!r}: {note}; linked there")
                self._councils[name, day] = (council.iri, None)
        return self._councils[name, day]

    def location(self, where: int | str, record: LocationRecord) -> bool:
        """Stage one location; returns False (and reports why) when it cannot be linked."""
        reason = self._problem(record)
        council = None
        if reason is None:
            council, reason = self.council(record.council_name)
            ended = record.registered_to
            if council is None and ended and ended < self.report.as_of:
                # A deregistered location's record names the council of its last day ("Cumbria" in 2020).
                council, _ = self.council(record.council_name, ended)
                reason = None if council else reason
        if reason is None:
            earlier = self._seen.get(record.location_id)
            if earlier and (earlier[1], earlier[2]) != (council, record.provider_id):
                reason = (f"location {record.location_id} already appears at {earlier[0]} with a different "
                          "council or provider")
        if reason is not None:
            self.report.skip(where, reason)
            return False
        where_text = f"line {where}" if isinstance(where, int) else where
        if record.location_id in self._seen:
            first = self._seen[record.location_id][0]
            self.report.note(f"{where_text} repeats location {record.location_id} of {first}: the rows are merged")
        else:
            self._seen[record.location_id] = (where_text, council, record.provider_id)
        self._stage(where_text, record, council)
        return True

    def _problem(self, record: LocationRecord) -> str | None:
        if not ids.LOCATION_ID.match(record.location_id):
            return f"bad CQC location id {record.location_id!r}"
        if not ids.PROVIDER_ID.match(record.provider_id):
            return f"bad CQC provider id {record.provider_id!r} for location {record.location_id}"
        if not record.name.strip():
            return f"location {record.location_id} has no name"
        if not record.council_name.strip():
            return f"location {record.location_id} gives no local authority, so it cannot be linked to a council"
        if record.registered_from and record.registered_to and record.registered_to < record.registered_from:
            return f"location {record.location_id} was deregistered before it was registered"
        return None

    def _stage(self, where: str, record: LocationRecord, council: str) -> None:
        add, loc = self.staging.add, node(ids.location(record.location_id))
        provider = self.provider(record.provider_id, record.provider_name)
        add(loc, TYPE, LOCATION_CLASS)
        add(loc, P_LABEL, text(record.name.strip()))
        add(loc, P_CQC, text(record.location_id))
        add(loc, P_PROVIDER, provider)
        add(loc, P_COUNCIL, node(council))
        if record.also_known_as.strip() and record.also_known_as.strip() != record.name.strip():
            add(loc, P_ALT, text(record.also_known_as.strip()))
        if record.postcode.strip():
            postcode = ids.postcode(record.postcode)
            if postcode:
                add(loc, P_POSTCODE, text(postcode))
                self._postcodes[record.location_id] = postcode
            else:
                self.report.note(f"{where}: {record.postcode!r} is not a postcode; left out")
        for service in dict.fromkeys(s.strip() for s in record.service_types if s.strip()):
            add(loc, P_SERVICE, text(service))
        for activity in record.activities:
            concept = self.activity(activity)
            if concept:
                add(loc, P_ACTIVITY, node(concept))
            else:
                self.report.note(f"{where}: regulated activity {activity!r} is not in caregraph's scheme; left out")
        if record.rating.strip():
            rating = RATINGS.get(record.rating.strip().lower())
            if rating:
                add(loc, P_RATING, text(rating))
            else:
                self.report.note(f"{where}: rating {record.rating!r} is not one CQC gives; left out")
        if record.beds:
            add(loc, P_BEDS, integer(record.beds))
        if record.registered_from:
            add(loc, P_FROM, day(record.registered_from))
        if record.registered_to:
            add(loc, P_TO, day(record.registered_to))
        if record.icb_gss:
            icb = self.icbs.get(record.icb_gss)
            if icb:
                add(loc, P_ICB, node(icb))
            else:
                self.report.note(f"{where}: ICB code {record.icb_gss!r} is not one caregraph knows; not linked")
        if record.ods_code:
            add(loc, P_ODS, text(record.ods_code))
        self.contact(where, loc, record.phone, record.website)
        self.contact(where, provider, record.provider_phone, record.provider_website)
        if record.manager is not None and record.manager.strip():
            self.post(ids.registered_manager(loc.value), "registered-manager", provider, record.manager)
        if record.nominated_individual:
            self.post(ids.nominated_individual(provider.value), "nominated-individual", provider,
                      record.nominated_individual)

    def provider(self, provider_id: str, name: str = "") -> ox.NamedNode:
        """Stage a provider (with its name, when the source gives one) and return its node."""
        add, prov = self.staging.add, node(ids.provider(provider_id))
        if provider_id not in self._providers_seen:
            self._providers_seen.add(provider_id)
            add(prov, TYPE, PROVIDER_CLASS)
            add(prov, P_CQC, text(provider_id))
            add(prov, P_PLAYS, node(ACTOR + "registered-provider"))
            if len(provider_id) == 3:  # an NHS trust registers under its ODS trust code
                add(prov, P_MATCH, node(ids.trust(provider_id)))
        if name.strip():
            add(prov, P_LABEL, text(name.strip()))
            self._providers_named.add(provider_id)
        return prov

    def contact(self, where: str, subject: ox.NamedNode, phone: str, website: str) -> None:
        """A record's telephone number (as a tel: IRI) and website; one that cannot be read is left out."""
        if phone.strip():
            tel = contacts.phone_iri(phone)
            if tel:
                self.staging.add(subject, P_PHONE, node(tel))
            else:
                self.report.note(f"{where}: {phone.strip()!r} is not a UK telephone number; left out")
        if website.strip():
            site = contacts.website_iri(website)
            if site:
                self.staging.add(subject, P_HOMEPAGE, node(site))
            else:
                self.report.note(f"{where}: {website.strip()!r} is not a website address; left out")

    def post(self, post_iri: str, role: str, provider: ox.NamedNode, holder: str) -> None:
        """The post (registered manager, nominated individual); the person's name only with --with-names."""
        add, post = self.staging.add, node(post_iri)
        add(post, TYPE, ORG_POST)
        add(post, ORG_ROLE, node(ACTOR + role))
        add(post, ORG_POST_IN, provider)
        if self.with_names:
            person = node(post_iri + "/holder")
            add(post, ORG_HELD_BY, person)
            add(person, TYPE, PERSON)
            add(person, NAME, text(holder.strip()))

    def finish(self) -> None:
        """Providers the source never names get a label built from their id, so every node reads."""
        for provider_id in sorted(self._providers_seen - self._providers_named):
            self.staging.add(node(ids.provider(provider_id)), P_LABEL,
                             text(places.placeholder_provider_label(provider_id)))
        unnamed = len(self._providers_seen - self._providers_named)
        if unnamed:
            self.report.note(f"{unnamed} provider(s) are not named in this source: labelled by their CQC id "
                             "until a source that names them is imported")
        self._compare_with_other_imports()

    def _compare_with_other_imports(self) -> None:
        """Note the locations another import places in a different council or postcode: the
        register changed between the two dates (or the two sources disagree)."""
        changed: dict[tuple[str, str], set[str]] = {}
        for row in self.store.select("import_other_records", [{"self": node(self.report.graph)}]):
            cqc_id = row["location"].value.removeprefix(ids.LOCATION)
            if cqc_id not in self._seen:
                continue
            council, postcode = row["council"], row["postcode"]
            ours = self._postcodes.get(cqc_id)
            if (council is not None and council.value != self._seen[cqc_id][1]) or \
                    (postcode is not None and ours is not None and postcode.value != ours):
                as_of = row["asOf"].value if row["asOf"] is not None else "no date"
                changed.setdefault((row["graph"].value, as_of), set()).add(cqc_id)
        for (graph, as_of), found in sorted(changed.items()):
            examples = ", ".join(sorted(found)[:5]) + (" ..." if len(found) > 5 else "")
            self.report.note(f"{len(found)} location(s) have a different council or postcode in <{graph}> "
                             f"(as of {as_of}): {examples}; each import keeps the record of its own date, and "
                             "a place answer uses the one that fits the date asked")


def beds(text: str) -> int | None:
    """A count of beds as a register writes it ("12", "0", blank); anything else is not a count."""
    text = text.strip()
    return int(text) if text.isdigit() else None


def split_list(value: str, separator: str) -> list[str]:
    """A CQC list field. With commas, a piece that starts in lower case continues the one before
    ("Hospital services for people with mental health needs, learning disabilities and ...")."""
    pieces = [p.strip() for p in value.split(separator)]
    out: list[str] = []
    for piece in pieces:
        if not piece:
            continue
        if separator == "," and out and piece[0].islower():
            out[-1] = f"{out[-1]}, {piece}"
        else:
            out.append(piece)
    return out
