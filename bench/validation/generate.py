"""An England-scale graph to validate: caregraph's curated knowledge (with its reference
geography: the 153 councils with adult social services responsibilities and the 42 ICBs)
plus synthetic CQC providers and locations in the linked-records shape the importers write
(ontology/README.md), with a known set of injected violations.

Writes N-Quads (the curated graphs as built, the records in an import graph) and, next to
it, the injected violations as JSON: [{"shape": ..., "focus": ...}]. Deterministic (seeded).
Codes look like real ones but name nothing real.

The curated knowledge alone is about 31,000 triples, so a smaller graph (--councils and
--icbs) takes a self-contained slice of it: that many councils and ICBs, the records the
injected violations need, and everything they link to, followed to the end.

    python bench/validation/generate.py --providers 30000 --locations 50000 --out bench/out/validation/1M.nq
    python bench/validation/generate.py --councils 20 --icbs 6 --providers 180 --locations 300 \
        --out bench/out/validation/10k.nq
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import pyoxigraph as ox

from caregraph.build import open_store
from caregraph.namespaces import ACTOR, CG, DUTY, GRAPH, ID, INFERRED_GRAPH, RDF, RDFS, SKOS, XSD

IMPORT_GRAPH = GRAPH + "import/bench"
ORG = "http://www.w3.org/ns/org#"
SERVICE_TYPES = ["Care home service without nursing", "Care home service with nursing", "Domiciliary care service",
                 "Supported living service", "Extra Care housing services", "Shared Lives"]
RATINGS = ["Outstanding", "Good", "Good", "Good", "Requires improvement", "Inadequate", "No published rating"]
AREAS = ["LS", "M", "B", "S", "NE", "L", "BS", "NG", "TS", "CB", "OX", "PL", "EX", "YO", "DN", "HU"]


def n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def lit(text: str, dtype: str | None = None) -> ox.Literal:
    return ox.Literal(text, datatype=n(XSD + dtype)) if dtype else ox.Literal(text)


class Graph:
    """Quads for the import graph, and the violations planted in them."""

    def __init__(self) -> None:
        self.quads: list[ox.Quad] = []
        self.planted: list[dict[str, str]] = []

    def add(self, s: str, p: str, o: ox.NamedNode | ox.Literal | str, graph: str = IMPORT_GRAPH) -> None:
        self.quads.append(ox.Quad(n(s), n(p), n(o) if isinstance(o, str) else o, n(graph)))

    def plant(self, shape: str, focus: str) -> None:
        self.planted.append({"shape": "https://w3id.org/caregraph/shapes#" + shape, "focus": focus})


def _column(store, query: str) -> list[str]:
    return sorted(row[0].value for row in store.query(query, use_default_graph_as_union=True))


def _councils_with_adult_social_services(store: ox.Store) -> list[str]:
    return _column(store, f"""SELECT ?c WHERE {{ ?c a <{CG}Council> ; <{CG}playsRole> <{ACTOR}council-social-services>
                                 FILTER NOT EXISTS {{ ?c <{CG}validTo> ?end }} }}""")


def _district_councils(store: ox.Store) -> list[str]:
    return _column(store, f"""SELECT ?c WHERE {{ ?c a <{CG}Council> ; <{CG}playsRole> <{ACTOR}housing-authority>
                                 FILTER NOT EXISTS {{ ?c <{CG}playsRole> <{ACTOR}council-social-services> }} }}""")


def _icbs(store: ox.Store) -> list[str]:
    return _column(store, f"SELECT ?i WHERE {{ ?i a <{CG}IntegratedCareBoard> }}")


def _regulated_activities(store: ox.Store) -> list[str]:
    return _column(store, f"SELECT ?a WHERE {{ ?a <{SKOS}inScheme> <{ID}scheme/regulated-activities> }}")


def curated_slice(curated: ox.Store, councils: int, icbs: int) -> ox.Store:
    """caregraph's ontology, the first `councils` councils with adult social services, one
    district council, the first `icbs` ICBs, the regulated activities and the duties and
    actors the injected violations change, with every node they link to, followed to the end:
    a part of the knowledge that conforms on its own. Inferred triples are kept where both
    ends are kept."""
    ontology = {q.subject.value for q in curated.quads_for_pattern(None, None, None, n(GRAPH + "caregraph"))}
    seeds = (sorted(ontology) + _councils_with_adult_social_services(curated)[:councils]
             + _district_councils(curated)[:1] + _icbs(curated)[:icbs] + _regulated_activities(curated)
             + [DUTY + "ca-s42-enquiry", DUTY + "ca-s9-needs-assessment",
                ACTOR + "secretary-of-state-health", ACTOR + "dhsc", ACTOR + "parliament"])
    inferred = n(INFERRED_GRAPH)
    keep: set[str] = set()
    todo = list(seeds)
    while todo:
        node = todo.pop()
        if node in keep:
            continue
        keep.add(node)
        todo += [q.object.value for q in curated.quads_for_pattern(n(node), None, None)
                 if isinstance(q.object, ox.NamedNode) and q.graph_name != inferred]
    part = ox.Store()
    part.extend(q for node in keep for q in curated.quads_for_pattern(n(node), None, None)
                if q.graph_name != inferred or not isinstance(q.object, ox.NamedNode) or q.object.value in keep)
    return part


def records(curated, providers: int, locations: int, seed: int) -> Graph:
    rng = random.Random(seed)
    councils, districts = _councils_with_adult_social_services(curated), _district_councils(curated)
    icbs, activities = _icbs(curated), _regulated_activities(curated)
    if not (councils and districts and len(icbs) >= 2 and activities):
        raise SystemExit(f"the curated geography is not as expected: {len(councils)} councils with adult "
                         f"social services, {len(districts)} districts, {len(icbs)} ICBs, "
                         f"{len(activities)} regulated activities")
    g = Graph()
    provider_iris = []
    for i in range(providers):
        cqc = f"1-{100000000 + i * 7919 % 899999999:09d}{i % 10}"
        iri = f"{ID}provider/{cqc}"
        provider_iris.append(iri)
        g.add(iri, RDF + "type", CG + "CareProvider")
        g.add(iri, RDFS + "label", lit(f"Provider {i} Care Ltd"))
        g.add(iri, CG + "cqcId", lit(cqc))
        g.add(iri, CG + "playsRole", ACTOR + "registered-provider")
    location_iris = []
    for i in range(locations):
        cqc = f"1-{1000000000 + i * 104729 % 8999999999:010d}"
        iri = f"{ID}location/{cqc}"
        location_iris.append(iri)
        g.add(iri, RDF + "type", CG + "CareLocation")
        g.add(iri, RDFS + "label", lit(f"Location {i}"))
        if rng.random() < 0.3:
            g.add(iri, SKOS + "altLabel", lit(f"Home {i}"))
        g.add(iri, CG + "cqcId", lit(cqc))
        provider = rng.choice(provider_iris)
        g.add(iri, CG + "provider", provider)
        g.add(iri, CG + "council", rng.choice(councils))
        if rng.random() < 0.95:
            g.add(iri, CG + "icb", rng.choice(icbs))
        g.add(iri, CG + "postcode", lit(f"{rng.choice(AREAS)}{rng.randint(1, 29)} {rng.randint(1, 9)}"
                                         f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"))
        if rng.random() < 0.85:
            g.add(iri, CG + "overallRating", lit(rng.choice(RATINGS)))
        for activity in rng.sample(activities, rng.choice([1, 2, 2, 3])):
            g.add(iri, CG + "regulatedActivity", activity)
        for service in rng.sample(SERVICE_TYPES, rng.choice([1, 1, 2])):
            g.add(iri, CG + "serviceType", lit(service))
        g.add(iri, CG + "validFrom", lit(f"{rng.randint(2010, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "date"))
        manager = f"{iri}/registered-manager"
        g.add(manager, RDF + "type", ORG + "Post")
        g.add(manager, ORG + "role", ACTOR + "registered-manager")
        g.add(manager, ORG + "postIn", provider)
    _plant_in_records(g, rng, location_iris, provider_iris, councils, districts, icbs, activities)
    return g


def _plant_in_records(g: Graph, rng: random.Random, locations: list[str], providers: list[str],
                      councils: list[str], districts: list[str], icbs: list[str], activities: list[str]) -> None:
    """Linked-record violations, each on a location or provider of its own."""
    picks = iter(rng.sample(locations, 8))
    loc = next(picks)
    current = {q.object.value for q in g.quads if q.subject.value == loc and q.predicate.value == CG + "provider"}
    g.add(loc, CG + "provider", next(p for p in providers if p not in current))
    g.plant("LocationProvider", loc)
    loc = next(picks)
    g.quads = [q for q in g.quads if not (q.subject.value == loc and q.predicate.value == CG + "council")]
    g.plant("LocationCouncil", loc)
    loc = next(picks)
    g.quads = [q for q in g.quads if not (q.subject.value == loc and q.predicate.value == CG + "council")]
    g.add(loc, CG + "council", districts[0])
    g.plant("LocationCouncilHasAdultSocialServices", loc)
    loc = next(picks)
    g.quads = [q for q in g.quads if not (q.subject.value == loc and q.predicate.value == CG + "postcode")]
    g.add(loc, CG + "postcode", lit("ls1 4ap"))
    g.plant("LocationPostcode", loc)
    loc = next(picks)
    g.quads = [q for q in g.quads if not (q.subject.value == loc and q.predicate.value == CG + "overallRating")]
    g.add(loc, CG + "overallRating", lit("Requires Improvement"))
    g.plant("LocationRating", loc)
    loc = next(picks)
    icb_now = {q.object.value for q in g.quads if q.subject.value == loc and q.predicate.value == CG + "icb"}
    for icb in [i for i in icbs if i not in icb_now][: 2 - len(icb_now)]:
        g.add(loc, CG + "icb", icb)
    g.plant("LocationIcb", loc)
    loc = next(picks)
    g.add(loc, CG + "regulatedActivity", activities[0] + "s")
    g.plant("ConceptFromExpectedScheme", loc)
    # A location whose CQC id (and so IRI) has a letter O for a zero.
    bad = f"{ID}location/1-10000000O1"
    for p, o in ((RDF + "type", CG + "CareLocation"), (RDFS + "label", lit("Misspelt House")),
                 (CG + "cqcId", lit("1-10000000O1")), (CG + "provider", providers[2]), (CG + "council", councils[0])):
        g.add(bad, p, o)
    g.plant("LocationCqcId", bad)
    # Providers: one with no name, one whose id has too few digits.
    g.quads = [q for q in g.quads if not (q.subject.value == providers[3] and q.predicate.value == RDFS + "label")]
    g.plant("ActorLabel", providers[3])
    short = f"{ID}provider/1-1234567"
    for p, o in ((RDF + "type", CG + "CareProvider"), (RDFS + "label", lit("Short Id Ltd")),
                 (CG + "cqcId", lit("1-1234567")), (CG + "playsRole", ACTOR + "registered-provider")):
        g.add(short, p, o)
    g.plant("ProviderCqcId", short)


def _plant_in_curated(curated: ox.Store, g: Graph) -> None:
    """Violations in the curated knowledge: a duty without its law, a cycle, two accountable holders."""
    duty = DUTY + "ca-s42-enquiry"
    curated.update(f"DELETE WHERE {{ GRAPH ?g {{ <{duty}> <{CG}legalBasis> ?basis }} }}")
    g.plant("DutyLegalBasis", duty)
    sos, dhsc = ACTOR + "secretary-of-state-health", ACTOR + "dhsc"
    link = f"{sos}/answersVia/bench"
    g.add(sos, CG + "answersVia", link)
    g.add(link, CG + "relation", ID + "relation/accountable-to")
    g.add(link, CG + "counterpart", dhsc)
    g.add(link, CG + "caveat", lit("Planted by the benchmark."))
    g.add(sos, CG + "accountableTo", dhsc, INFERRED_GRAPH)  # what the build would materialise
    g.add(dhsc, CG + "holdsToAccount", sos, INFERRED_GRAPH)
    g.plant("NoAccountabilityCycle", sos)
    g.plant("NoAccountabilityCycle", dhsc)
    overlap = DUTY + "ca-s9-needs-assessment"
    first = next(iter(curated.query(f"SELECT ?f WHERE {{ <{overlap}> <{CG}validFrom> ?f }}",
                                    use_default_graph_as_union=True)))[0]
    extra = f"{overlap}/assignment/bench"
    g.add(overlap, CG + "assignment", extra)
    g.add(extra, CG + "holder", ACTOR + "parliament")
    g.add(extra, CG + "raciRole", ID + "raci/accountable")
    g.add(extra, CG + "validFrom", first)
    g.add(extra, CG + "validTo", first)
    g.plant("DutyOneAccountableHolder", overlap)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--providers", type=int, default=30_000)
    parser.add_argument("--locations", type=int, default=50_000)
    parser.add_argument("--councils", type=int, help="take a slice of the curated knowledge with this many councils")
    parser.add_argument("--icbs", type=int, default=6, help="ICBs in the slice (with --councils)")
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument("--out", type=Path, default=Path("bench/out/validation/1M.nq"))
    args = parser.parse_args()
    built, _ = open_store()
    curated = curated_slice(built.raw, args.councils, args.icbs) if args.councils else built.raw
    g = records(curated, args.providers, args.locations, args.seed)
    _plant_in_curated(curated, g)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as fh:
        ox.serialize(list(curated) + g.quads, fh, ox.RdfFormat.N_QUADS)
    args.out.with_suffix(".planted.json").write_text(json.dumps(g.planted, indent=1))
    print(f"{args.out}: {len(curated) + len(g.quads):,} quads; {len(_councils_with_adult_social_services(curated))} "
          f"councils with adult social services, {len(_icbs(curated))} ICBs, {args.providers:,} providers, "
          f"{args.locations:,} locations; {len(g.planted)} injected violations")


if __name__ == "__main__":
    main()
