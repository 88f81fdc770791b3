"""England-scale import and place-specific answers.

1. Makes (once) a CQC-directory CSV for England with generate.py: 50,000 locations, 30,000
   providers, the real column layout.
2. Imports it into a new on-disk store, in a child process so its peak memory is its own;
   median of --runs runs. Then re-imports the same file into the last store (the path a
   weekly update takes: only the difference is written), and imports it into an in-memory
   store for comparison. Each import runs twice, interleaved: with this tree's code and with
   the code of --before (a git revision, by default the last one with the one-transaction
   import), so both meet the same load on the machine. Reported per import: the time, the
   CPU time of all its threads, the peak memory, and the store's peak size on disk during
   the import (sampled every 50 ms) and after it.
3. Times a place-specific answer (`places.ask`, the question "who do I tell about abuse at
   this care home" at a random location) and the place lookup alone, on the on-disk and
   in-memory embedded store, and the same lookup queries (place_location, place_provider)
   on an rdflib in-memory Dataset as the baseline. Medians over --queries random locations.

    python bench/import/run.py [--runs 3] [--queries 200] [--before REV | --before none]

Aims: the England-scale import under 10 s and under 1 GB (memory and disk); a place-specific
answer under 10 ms median.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
DATA = OUT / "england_CQC_directory.csv"
QUESTION = "who do I tell about abuse at this care home"
# The last revision whose import wrote a new graph in one transaction (28.4 s and 1.47 GB then).
BEFORE = "42d69ee"


def folder_size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass  # a file the store replaced while we looked
    return total


def child_import(store_path: str | None, data: str) -> None:
    """Run in the child process: open (and build) the store, import, print figures as JSON."""
    import resource

    from caregraph.build import open_store
    from caregraph.importers.run import import_source

    started = time.perf_counter()
    store, _ = open_store(Path(store_path) if store_path else None)
    opened = time.perf_counter()
    peak_disk = [0]
    done_event = threading.Event()

    def sample() -> None:
        while not done_event.wait(0.05):
            peak_disk[0] = max(peak_disk[0], folder_size(Path(store_path)))

    if store_path:
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    cpu = os.times()
    report = import_source(store, "cqc-directory", Path(data), progress=io.StringIO())
    done = time.perf_counter()
    cpu_after = os.times()
    done_event.set()
    disk = folder_size(Path(store_path)) if store_path else 0
    print(json.dumps({"open": opened - started, "import": done - opened,
                      "cpu": cpu_after.user + cpu_after.system - cpu.user - cpu.system,
                      "triples": report.triples, "added": report.added, "removed": report.removed,
                      "rows": report.rows_linked, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "disk_mb": disk / 1e6, "peak_disk_mb": max(peak_disk[0], disk) / 1e6}))


def measure_import(store_path: Path | None, code: Path | None) -> dict:
    """One import in a child process (with the caregraph package from `code`, or this tree's):
    its timings and its own peak memory. Into a store that already holds the file's import,
    it is the repeat a weekly update takes."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code / "src")
    args = [sys.executable, __file__, "--child", str(store_path) if store_path else "-", str(DATA)]
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"import failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def checkout(revision: str) -> Path:
    """The source of `revision` (src/ and the data it builds from), unpacked once under bench/out."""
    target = OUT / f"code-{revision}"
    if not (target / "src").is_dir():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src", "ontology", "shapes"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


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
    parser.add_argument("--before", default=BEFORE,
                        help=f"the git revision to compare with (default {BEFORE}); 'none' to skip it")
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
    print(f"data: {DATA.name}, {DATA.stat().st_size / 1e6:.1f} MB; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; medians of {args.runs} runs\n")

    # -- imports ---------------------------------------------------------------------
    codes: dict[str, Path | None] = {}
    if args.before != "none":
        codes[f"before ({args.before})"] = checkout(args.before)
    codes["after (this tree)"] = None
    work = OUT / "import-bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    first: dict[str, list[dict]] = {label: [] for label in codes}
    for n in range(args.runs):
        for k, (label, code) in enumerate(codes.items()):
            first[label].append(measure_import(work / f"store-{k}-{n}", code))
            print(f"  import run {n + 1}, {label}: {first[label][-1]['import']:.1f} s, "
                  f"{first[label][-1]['peak_mb']:.0f} MB", flush=True)
    again: dict[str, list[dict]] = {label: [] for label in codes}
    memory: dict[str, list[dict]] = {label: [] for label in codes}
    for _ in range(args.runs):
        for k, (label, code) in enumerate(codes.items()):
            again[label].append(measure_import(work / f"store-{k}-{args.runs - 1}", code))
            memory[label].append(measure_import(None, code))
    store_path = work / f"store-{len(codes) - 1}-{args.runs - 1}"
    rows = first["after (this tree)"][0]
    print(f"\nImport of {rows['rows']:,} locations ({rows['triples']:,} triples): median time and CPU time, "
          f"largest peak memory and disk")
    for label, runs in (("on-disk store, first import", first), ("on-disk store, same file again", again),
                        ("in-memory store, first import", memory)):
        print(f"  {label}")
        for code, samples in runs.items():
            disk = (f"{max(r['peak_disk_mb'] for r in samples):6.0f} MB disk peak, "
                    f"{statistics.median(r['disk_mb'] for r in samples):5.0f} MB after"
                    if samples[0]["disk_mb"] else "")
            diff = f" ({samples[0]['added']:,} added, {samples[0]['removed']:,} removed)" if runs is again else ""
            print(f"    {code:<22} {statistics.median(r['import'] for r in samples):6.1f} s "
                  f"{statistics.median(r['cpu'] for r in samples):6.1f} s CPU "
                  f"{max(r['peak_mb'] for r in samples):6.0f} MB memory  {disk}{diff}")
    print(f"  (building the curated graph when a new store is opened: "
          f"{statistics.median(r['open'] for r in first['after (this tree)']):.1f} s, not counted; "
          f"load average now {os.getloadavg()[0]:.1f})")

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
