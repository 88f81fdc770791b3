"""Alignment and quality by place for policy teams, on the embedded store.

1. The full alignment for every theme (matrix, bridges and sector network, gaps, overlaps,
   single points of failure, and the changes since 2012) on the curated knowledge, each run
   from a cold start (the store's derived caches cleared), and warm (cached).
2. Makes (once) an England-scale CQC location export in the real 45-column layout: 50,000
   locations in the 153 councils with adult social services responsibilities, with service
   types, care home beds and latest overall ratings drawn in the register's proportions;
   imports it into an in-memory embedded store (not timed), then times quality for all
   councils (the council table, England and each service type nationally) cold, and a single
   council's profile. The baseline is counting the same CSV file directly in Python.

    python bench/alignment/run.py [--runs 5] [--locations 50000]

Aims: the full alignment under 1 s, quality for all councils under 2 s.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]
OUT = BENCH / "out"
HEADER_FIXTURE = BENCH.parent / "tests" / "fixtures" / "registers" / "asc_locations_export.csv"
# Rough shares of the register: service type, its weight, and whether it has beds.
SERVICES = [("Domiciliary care service", 0.42, False), ("Care home service without nursing", 0.25, True),
            ("Care home service with nursing", 0.14, True), ("Supported living service", 0.12, False),
            ("Extra Care housing services", 0.04, False), ("Shared Lives", 0.03, False)]
RATINGS = [("Good", 0.62), ("Outstanding", 0.04), ("Requires improvement", 0.15), ("Inadequate", 0.01), ("", 0.18)]


def generate(path: Path, locations: int, seed: int = 12) -> Path:
    sys.path.insert(0, str(BENCH / "import"))
    from generate import council_names   # the names CQC uses for each current council

    rng = random.Random(seed)
    names = council_names()
    header = next(csv.reader(open(HEADER_FIXTURE, encoding="utf-8")))
    at = {h: i for i, h in enumerate(header)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for n in range(locations):
            service, _, has_beds = rng.choices(SERVICES, weights=[s[1] for s in SERVICES])[0]
            rating = rng.choices(RATINGS, weights=[r[1] for r in RATINGS])[0][0]
            row = [""] * len(header)
            row[at["Location Name"]] = f"Location {n}"
            row[at["Location ID"]] = f"1-{2000000000 + n * 7919:010d}"
            row[at["Location Local Authority"]] = rng.choice(names)
            row[at["Service Types"]] = service
            row[at["Care homes beds"]] = str(rng.randint(8, 90) if has_beds else 0)
            row[at["Location HSCA start date"]] = f"{rng.randint(2011, 2024)}-{rng.randint(1, 12):02d}-01"
            row[at["Location Latest Overall Rating"]] = rating
            row[at["Provider ID"]] = f"1-{300000000 + (n % 30000) * 13:09d}"
            row[at["Provider Name"]] = f"Provider {n % 30000}"
            writer.writerow(row)
    return path


def timed(runs: int, work, cold=None) -> list[float]:
    samples = []
    for _ in range(runs):
        if cold:
            cold()
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return samples


def direct_count(path: Path) -> None:
    """The baseline: ratings and beds per council straight from the CSV file."""
    counts: dict[str, Counter] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            entry = counts.setdefault(row["Location Local Authority"], Counter())
            entry[row["Location Latest Overall Rating"] or "Not rated"] += 1
            entry["beds"] += int(row["Care homes beds"] or 0)


def line(name: str, samples: list[float], aim: float | None = None, baseline: float | None = None,
         against: str = "the baseline") -> None:
    median = statistics.median(samples)
    extra = f"   aim {aim:.0f} s: {'met' if median < aim else 'MISSED'}" if aim else ""
    extra += f"   {median / baseline:.2f}x {against}" if baseline else ""
    print(f"  {name:<58}{median * 1000:>9.1f} ms{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--locations", type=int, default=50_000)
    args = parser.parse_args()

    from caregraph import alignment, quality
    from caregraph.build import open_store
    from caregraph.importers.run import import_source

    today = dt.date.today()
    store, _ = open_store()
    print(f"2 cores; medians of {args.runs} runs; embedded store (pyoxigraph, in memory)\n")
    print(f"Full alignment on the curated knowledge ({len(alignment.knowledge(store).duties)} duties, "
          f"{len(alignment.knowledge(store).themes)} themes)")
    full = lambda: alignment.alignment(store, today, dt.date(2012, 1, 1), today)  # noqa: E731
    cold = timed(args.runs, full, store._cache.clear)
    line("cold (derived caches cleared each run)", cold, aim=1)
    line("warm (knowledge read once per store version)", timed(args.runs, full), baseline=statistics.median(cold),
         against="the cold run")

    data = OUT / f"england_asc_export_{args.locations}.csv"
    if not data.is_file():
        generate(data, args.locations)
    started = time.perf_counter()
    report = import_source(store, "cqc-export", data, progress=io.StringIO(), as_of=today)
    print(f"\nQuality by place over {report.rows_linked:,} imported locations "
          f"(import {time.perf_counter() - started:.1f} s, not counted)")
    baseline = statistics.median(timed(args.runs, lambda: direct_count(data)))
    line("baseline: count the CSV file directly in Python", [baseline])

    def everything() -> None:
        quality.councils_table(store, today)
        quality.national(store, today)

    def clear() -> None:
        store._cache.clear()

    line("all councils + England + service types, cold", timed(args.runs, everything, clear), aim=2,
         baseline=baseline)
    line("all councils + England + service types, warm", timed(args.runs, everything))
    line("chart query (quality_by_council, SPARQL aggregate)",
         timed(args.runs, lambda: quality.chart_counts(store, today)), baseline=baseline)
    councils = [row["council"]["id"] for row in quality.councils_table(store, today)]
    line(f"one council's profile with who must act (warm, median of {len(councils)} councils)",
         [s for c in councils for s in timed(1, lambda c=c: quality.council_profile(store, c, today))])


if __name__ == "__main__":
    main()
