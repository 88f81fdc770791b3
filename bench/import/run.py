"""England-scale import and place-specific answers.

1. Makes (once) a CQC-directory CSV for England with generate.py: 50,000 locations, 30,000
   providers, the real column layout.
2. Imports it into a new on-disk store, in a child process so its peak memory is its own;
   median of --runs runs. Then re-imports the same file into the last store (the path a
   weekly update takes: only the difference is written), and imports it into an in-memory
   store for comparison.
3. Times a place-specific answer (`places.ask`, the question "who do I tell about abuse at
   this care home" at a random location) and the place lookup alone, on the on-disk and
   in-memory embedded store, and the same lookup queries (place_location, place_provider)
   on an rdflib in-memory Dataset as the baseline. Medians over --queries random locations.

    python bench/import/run.py [--runs 3] [--queries 200]

Aims: the England-scale import under 30 s and under 2 GB; a place-specific answer under 10 ms median.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "out"
DATA = OUT / "england_CQC_directory.csv"
QUESTION = "who do I tell about abuse at this care home"


def child_import(store_path: str | None, data: str) -> None:
    """Run in the child process: open (and build) the store, import, print timings as JSON."""
    from caregraph.build import open_store
    from caregraph.importers.run import import_source

    started = time.perf_counter()
    store, _ = open_store(Path(store_path) if store_path else None)
    opened = time.perf_counter()
    report = import_source(store, "cqc-directory", Path(data), progress=io.StringIO())
    done = time.perf_counter()
    import resource

    print(json.dumps({"open": opened - started, "import": done - opened, "triples": report.triples,
                      "added": report.added, "removed": report.removed, "rows": report.rows_linked,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def measure_import(store_path: Path | None) -> dict:
    """One import in a child process: its timings and its own peak resident memory. Into a store
    that already holds the file's import, it is the repeat a weekly update takes."""
    args = [sys.executable, __file__, "--child", str(store_path) if store_path else "-", str(DATA)]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"import failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_each(items: list[str], action) -> list[float]:
    samples = []
    for item in items:
        started = time.perf_counter()
        action(item)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--child", nargs=2, metavar=("STORE", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_import(None if args.child[0] == "-" else args.child[0], args.child[1])
        return

    import pyoxigraph as ox
    import rdflib

    from caregraph import places, queries
    from caregraph.build import open_store
    from caregraph.importers import ids
    from caregraph.store import OxigraphStore, iri

    if not DATA.exists():
        subprocess.run([sys.executable, str(Path(__file__).with_name("generate.py")), "--out", str(DATA)], check=True)
    print(f"data: {DATA.name}, {DATA.stat().st_size / 1e6:.1f} MB; 2 cores; medians of {args.runs} runs\n")

    # -- imports ---------------------------------------------------------------------
    work = OUT / "import-bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    first = []
    for n in range(args.runs):
        first.append(measure_import(work / f"store-{n}"))
        print(f"  import run {n + 1}: {first[-1]['import']:.1f} s, {first[-1]['peak_mb']:.0f} MB", flush=True)
    store_path = work / f"store-{args.runs - 1}"
    again = [measure_import(store_path) for _ in range(args.runs)]
    memory = [measure_import(None) for _ in range(args.runs)]
    rows = first[0]["rows"]
    print(f"Import of {rows:,} locations ({first[0]['triples']:,} triples)     time (median)   peak memory (max)")
    for label, runs, key in (("on-disk store, first import", first, "import"),
                             ("on-disk store, same file again (diff: "
                              f"{again[0]['added']} added, {again[0]['removed']} removed)", again, "import"),
                             ("in-memory store, first import", memory, "import")):
        seconds = statistics.median(r[key] for r in runs)
        print(f"  {label:<62} {seconds:6.1f} s   {max(r['peak_mb'] for r in runs):6.0f} MB")
    print(f"  (building the curated graph when a new store is opened: "
          f"{statistics.median(r['open'] for r in first):.1f} s, not counted)")

    # -- place-specific answers ---------------------------------------------------------
    disk, _ = open_store(store_path)
    locations = [row["location"].value for row in disk.query(
        "SELECT ?location WHERE { ?location a <https://w3id.org/caregraph/def#CareLocation> }")]
    rng = random.Random(7)
    sample = [loc.removeprefix(ids.LOCATION) for loc in rng.sample(locations, args.queries)]
    dump = io.BytesIO()
    disk.raw.dump(dump, ox.RdfFormat.N_QUADS)
    memory_store = OxigraphStore()
    memory_store.raw.load(dump.getvalue(), ox.RdfFormat.N_QUADS)
    day = dt.date.today()

    def lookup_queries(run) -> callable:
        def action(cqc_id: str) -> None:
            rows = run(queries.render(queries.text("place_location"), [{"location": iri(ids.location(cqc_id))}]))
            provider = next(iter(rows))["provider"]
            provider = iri(getattr(provider, "value", None) or str(provider))  # rdflib gives a URIRef
            list(run(queries.render(queries.text("place_provider"), [{"provider": provider}])))
        return action

    results = {}
    for name, store in (("pyoxigraph on disk", disk), ("pyoxigraph in memory", memory_store)):
        places.ask(store, QUESTION, day, location=sample[0])      # warm the caches (name and role indexes)
        results[name] = {
            "answer": median_ms(time_each(sample, lambda i: places.ask(store, QUESTION, day, location=i))),
            "lookup": median_ms(time_each(sample, lambda i: places.location_place(
                store, places.find_location(store, i), day))),
            "queries": median_ms(time_each(sample, lookup_queries(
                lambda text, s=store: list(s.query(text))))),
        }
    started = time.perf_counter()
    dataset = rdflib.Dataset(default_union=True)
    dataset.parse(data=dump.getvalue(), format="nquads")
    load_rdflib = time.perf_counter() - started
    results["rdflib Dataset in memory (baseline)"] = {
        "queries": median_ms(time_each(sample, lookup_queries(lambda text: list(dataset.query(text))))),
    }
    base = results["rdflib Dataset in memory (baseline)"]["queries"]
    print(f"\nPlace-specific answers at {len(locations):,} locations, median of {len(sample)} random locations")
    print(f"  {'engine':<40} {'lookup queries':>15} {'vs rdflib':>10} {'place lookup':>13} {'full answer':>12}")
    for name, figures in results.items():
        ratio = base / figures["queries"]
        lookup = f"{figures['lookup']:10.2f} ms" if "lookup" in figures else f"{'-':>13}"
        answer = f"{figures['answer']:9.2f} ms" if "answer" in figures else f"{'-':>12}"
        print(f"  {name:<40} {figures['queries']:12.2f} ms {ratio:9.1f}x {lookup} {answer}")
    print(f"  (rdflib took {load_rdflib:.0f} s to load the {len(dataset):,} triples)")
    print("\nlookup queries: place_location + place_provider, the same SPARQL text on each engine;")
    print("place lookup: location, provider, council, boards and ICB resolved (caregraph.places);")
    print("full answer: places.ask, the role-level duties (responsibility.ask) plus the bodies named.")


if __name__ == "__main__":
    main()
