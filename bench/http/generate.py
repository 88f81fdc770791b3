"""An England-scale set of linked records in the shape of ontology/README.md ("Linked
records"): 153 councils with their Safeguarding Adults Boards and local Healthwatch, 42 ICBs,
30,000 registered providers and 50,000 registered locations, as N-Triples. Synthetic and
deterministic (seeded): codes look like the real ones but name nothing real."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

ID = "https://w3id.org/caregraph/id/"
CG = "https://w3id.org/caregraph/def#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
XSD = "http://www.w3.org/2001/XMLSchema#"
# Council GSS prefixes: unitary, metropolitan, London, county (all social services authorities).
COUNCIL_KINDS = [("E06", 63), ("E08", 36), ("E09", 33), ("E10", 21)]
ACTIVITIES = ["accommodation-personal-care", "accommodation-nursing-care", "personal-care",
              "treatment-disease-disorder-injury", "diagnostic-screening"]
SERVICE_TYPES = ["Care home service without nursing", "Care home service with nursing",
                 "Domiciliary care service", "Supported living service", "Extra Care housing services"]
RATINGS = ["Outstanding", "Good", "Requires improvement", "Inadequate", "Not yet rated"]


def _lit(text: str, dtype: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"^^<{XSD}{dtype}>' if dtype else f'"{escaped}"'


def records(seed: int = 20240601, councils: int = 153, icbs: int = 42, providers: int = 30_000,
            locations: int = 50_000):
    """(subject, predicate, object) N-Triples terms, as strings."""
    rng = random.Random(seed)
    council_iris = []
    for prefix, count in COUNCIL_KINDS:
        for n in range(1, count + 1):
            if len(council_iris) == councils:
                break
            code = f"{prefix}{n:06d}"
            council = f"<{ID}council/{code}>"
            council_iris.append(council)
            sab, healthwatch = f"<{ID}sab/{code}>", f"<{ID}healthwatch/{code}>"
            yield council, f"<{RDF_TYPE}>", f"<{CG}Council>"
            yield council, f"<{LABEL}>", _lit(f"Council {code}")
            yield council, f"<{ALT}>", _lit(f"{code} Council")
            yield council, f"<{CG}gssCode>", _lit(code)
            yield council, f"<{CG}playsRole>", f"<{ID}actor/council-social-services>"
            if prefix != "E10":
                yield council, f"<{CG}playsRole>", f"<{ID}actor/housing-authority>"
            yield council, f"<{CG}validFrom>", _lit("2009-04-01", "date")
            yield council, f"<{CG}safeguardingAdultsBoard>", sab
            yield council, f"<{CG}localHealthwatch>", healthwatch
            for node, cls, role, label in ((sab, "SafeguardingAdultsBoard", "safeguarding-adults-board",
                                            "Safeguarding Adults Board"),
                                           (healthwatch, "LocalHealthwatch", "local-healthwatch", "Healthwatch")):
                yield node, f"<{RDF_TYPE}>", f"<{CG}{cls}>"
                yield node, f"<{LABEL}>", _lit(f"{label} {code}")
                yield node, f"<{CG}playsRole>", f"<{ID}actor/{role}>"
                yield node, f"<{CG}council>", council
    icb_iris = []
    for n in range(1, icbs + 1):
        code = f"E54{n:06d}"
        icb = f"<{ID}icb/{code}>"
        icb_iris.append(icb)
        yield icb, f"<{RDF_TYPE}>", f"<{CG}IntegratedCareBoard>"
        yield icb, f"<{LABEL}>", _lit(f"Integrated Care Board {code}")
        yield icb, f"<{CG}gssCode>", _lit(code)
        yield icb, f"<{CG}odsCode>", _lit(f"Q{n + 100:02d}")
        yield icb, f"<{CG}playsRole>", f"<{ID}actor/icb>"
    provider_iris = []
    for n in range(1, providers + 1):
        cqc = f"1-{100000000 + n}"
        provider = f"<{ID}provider/{cqc}>"
        provider_iris.append(provider)
        yield provider, f"<{RDF_TYPE}>", f"<{CG}CareProvider>"
        yield provider, f"<{LABEL}>", _lit(f"Provider {n} Ltd")
        yield provider, f"<{CG}cqcId>", _lit(cqc)
        yield provider, f"<{CG}playsRole>", f"<{ID}actor/registered-provider>"
    for n in range(1, locations + 1):
        cqc = f"1-{200000000 + n}"
        location = f"<{ID}location/{cqc}>"
        yield location, f"<{RDF_TYPE}>", f"<{CG}CareLocation>"
        yield location, f"<{LABEL}>", _lit(f"Location {n}")
        yield location, f"<{CG}cqcId>", _lit(cqc)
        yield location, f"<{CG}provider>", rng.choice(provider_iris)
        yield location, f"<{CG}council>", rng.choice(council_iris)
        yield location, f"<{CG}icb>", rng.choice(icb_iris)
        yield location, f"<{CG}postcode>", _lit(f"LS{rng.randint(1, 29)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}X")
        for activity in rng.sample(ACTIVITIES, rng.randint(1, 2)):
            yield location, f"<{CG}regulatedActivity>", f"<{ID}regulated-activity/{activity}>"
        yield location, f"<{CG}serviceType>", _lit(rng.choice(SERVICE_TYPES))
        yield location, f"<{CG}overallRating>", _lit(rng.choice(RATINGS))
        yield location, f"<{CG}validFrom>", _lit(f"{rng.randint(2011, 2023)}-{rng.randint(1, 12):02d}-01", "date")


def write(path: Path, **sizes: int) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for s, p, o in records(**sizes):
            out.write(f"{s} {p} {o} .\n")
            count += 1
    return count


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path)
    print(f"{write(parser.parse_args().output)} triples")
