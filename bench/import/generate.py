"""Make a CQC care directory CSV for the whole of England, in the real weekly file's layout
(title lines, then the 15 current headers): 50,000 locations of 30,000 providers spread over
the 153 councils with adult social services responsibilities, named as CQC names them.

    python bench/import/generate.py [--locations 50000] [--providers 30000] [--out bench/out/...]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path

from caregraph.build import open_store
from caregraph.places import councils

HEADER = ["Name", "Also known as", "Address", "Postcode", "Phone number", "Service's website (if available)",
          "Service types", "Date of latest check", "Specialisms/services", "Provider name", "Local authority",
          "Region", "Location URL", "CQC Location ID (for office use only)", "CQC Provider ID (for office use only)"]
SERVICES = ["Residential homes", "Nursing homes", "Homecare agencies", "Supported living", "Doctors/GPs",
            "Dentist", "Shared lives", "Supported housing", "Clinic", "Hospice"]
SPECIALISMS = ["Dementia", "Caring for adults over 65 yrs", "Caring for adults under 65 yrs", "Learning disabilities",
               "Mental health conditions", "Physical disabilities", "Sensory impairments", "Services for everyone"]
ACTIVITIES = ["Personal care", "Accommodation for persons who require nursing or personal care",
              "Treatment of disease, disorder or injury", "Nursing care", "Diagnostic and screening procedures"]
REGIONS = ["London", "South East", "South West", "East", "East Midlands", "West Midlands", "North West",
           "North East", "Yorkshire & Humberside"]
WORDS = ["Oak", "Willow", "Meadow", "Park", "Abbey", "Rose", "Hill", "River", "Cedar", "Beech", "Orchard", "Grange",
         "Lodge", "Court", "Manor", "House", "View", "Gardens", "Haven", "Field", "Brook", "Elm", "Ash", "Holly"]
DRAMA_AREAS = ["113", "114", "116", "117", "118", "121", "131", "141", "151", "161", "191"]
KINDS = ["Care Home", "Nursing Home", "Home Care", "Care Services", "Supported Living", "Surgery", "Dental Practice"]


def council_names() -> list[str]:
    """What CQC calls each current council with adult social services responsibilities."""
    store, _ = open_store()
    names = []
    for council in councils(store).by_iri.values():
        if council.social_services and council.valid_to is None:
            short = [n for n in council.names if n != council.label]
            names.append(min(short, key=len) if short else council.label)
    return sorted(names)


def postcode(rng: random.Random) -> str:
    area = rng.choice(["LS", "M", "B", "NE", "BS", "SO", "CB", "OL", "TN", "EX", "NG", "L", "S", "SW", "E"])
    return f"{area}{rng.randint(1, 29)} {rng.randint(0, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
           f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"


def phone(rng: random.Random) -> str:
    """A number in one of Ofcom's ranges kept for drama (0113 496 0000 to 0999 and the like):
    well-formed, and no one's."""
    return f"0{rng.choice(DRAMA_AREAS)} 496 0{rng.randint(0, 999):03d}"


def generate(path: Path, locations: int, providers: int, seed: int = 5) -> Path:
    rng = random.Random(seed)
    las = council_names()
    provider_ids = [f"1-{100000000 + i * 7919:09d}" for i in range(providers)]
    provider_names = [f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(['Ltd', 'Limited', 'Care Ltd', 'CIC'])} {i}"
                      for i in range(providers)]
    # Every provider has a location; the rest go mostly to large groups (a Zipf-like share), as in the register.
    weights = [1 / (i + 1) ** 0.8 for i in range(providers)]
    owners = list(range(providers)) + rng.choices(range(providers), weights=weights, k=locations - providers)
    rng.shuffle(owners)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        blank = [""] * (len(HEADER) - 1)
        writer.writerow(["CQC Locations data"] + blank)
        writer.writerow([""] * len(HEADER))
        writer.writerow([f"This data was produced on {dt.date.today():%d %B %Y}"] + blank)
        writer.writerow([""] * len(HEADER))
        writer.writerow(HEADER)
        for n, owner in enumerate(owners):
            location_id = f"1-{1000000000 + n * 104729:010d}"
            services = rng.sample(SERVICES[:4], rng.choice([1, 1, 2]))
            specialisms = rng.sample(SPECIALISMS, 3) + rng.sample(ACTIVITIES, rng.choice([1, 2]))
            writer.writerow([
                f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(KINDS)}", "",
                f"{rng.randint(1, 300)} {rng.choice(WORDS)} Road, {rng.choice(WORDS)}ton", postcode(rng),
                phone(rng), f"www.location{n}.example" if rng.random() < 0.6 else "", "|".join(services),
                f"{rng.randint(1, 28):02d}/{rng.choice(['Jan', 'Mar', 'Jun', 'Sep'])}/2025 - 00:00",
                "|".join(specialisms), provider_names[owner], rng.choice(las), rng.choice(REGIONS),
                f"https://www.cqc.org.uk/location/{location_id}", location_id, provider_ids[owner]])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=50_000)
    parser.add_argument("--providers", type=int, default=30_000)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "out" /
                        "england_CQC_directory.csv")
    args = parser.parse_args()
    path = generate(args.out, args.locations, args.providers)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
