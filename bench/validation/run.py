"""Validation benchmark: caregraph's fast engine (the shapes compiled to SPARQL on pyoxigraph)
against pySHACL on an in-memory rdflib graph, the reference, side by side.

For each size it prints medians over several runs (each in a fresh process, so peak memory
is the run's own): full validation time, peak memory, whether every planted violation was
found with no false positive, and the time to revalidate one changed location by focus
node. pySHACL runs only where asked (--baseline) and is stopped after --baseline-timeout.

    python bench/validation/run.py                       # all sizes, fast engine, baseline on the smallest
    python bench/validation/run.py --sizes small --baseline small --baseline-runs 3
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "out" / "validation"
CG = "https://w3id.org/caregraph/def#"
# Sizes: the curated knowledge (about 31,000 triples with its reference geography) plus this
# many synthetic providers and locations. The curated graph alone is over 10,000 triples, so
# the smallest size is the curated graph with a few hundred records.
SIZES = {"small": (200, 330), "medium": (2_500, 4_200), "england": (30_000, 50_000)}


def data_file(size: str) -> Path:
    path = OUT / f"{size}.nq"
    if not path.exists():
        providers, locations = SIZES[size]
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--providers", str(providers),
                        "--locations", str(locations), "--out", str(path)], check=True)
    return path


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _planted_found(path: Path, results) -> dict:
    planted = {(p["shape"], p["focus"]) for p in json.loads(path.with_suffix(".planted.json").read_text())}
    found = {(r.source_shape, r.focus_node) for r in results}
    return {"planted": len(planted), "missed": sorted(planted - found), "false_positives": sorted(found - planted)}


def _store(path: Path):
    import pyoxigraph as ox

    from caregraph.store import OxigraphStore

    store = OxigraphStore()
    store.raw.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    return store


def measure_fast(path: Path, focus_runs: int) -> dict:
    from caregraph.validation import validate

    started = time.perf_counter()
    store = _store(path)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    report = validate(store, engine="fast")
    seconds = time.perf_counter() - started
    out = {"triples": len(store), "load_s": loaded, "validate_s": seconds, **_planted_found(path, report.results)}
    # One changed location at a time: its rating changes, then it alone is revalidated.
    locations = [r["l"].value for r in store.query(
        f"SELECT ?l WHERE {{ ?l a <{CG}CareLocation> ; <{CG}overallRating> ?r }} LIMIT {focus_runs}")]
    timings = []
    for location in locations:
        store.update(f"""DELETE {{ GRAPH ?g {{ <{location}> <{CG}overallRating> ?r }} }}
                         INSERT {{ GRAPH ?g {{ <{location}> <{CG}overallRating> "Inadequate" }} }}
                         WHERE {{ GRAPH ?g {{ <{location}> <{CG}overallRating> ?r }} }}""")
        started = time.perf_counter()
        validate(store, focus=[location], engine="fast")
        timings.append(time.perf_counter() - started)
    out["focus_ms"] = 1000 * statistics.median(timings) if timings else None
    out["peak_mib"] = _peak_mib()
    return out


def measure_pyshacl(path: Path) -> dict:
    from caregraph.validation import pyshacl_engine
    from caregraph.validation.shapes import load_shapes

    store = _store(path)
    started = time.perf_counter()
    graph = pyshacl_engine.data_graph(store)
    converted = time.perf_counter() - started
    del store
    shapes = load_shapes()
    started = time.perf_counter()
    results = pyshacl_engine.validate_graph(graph, shapes)
    seconds = time.perf_counter() - started
    return {"triples": len(graph), "convert_s": converted, "validate_s": seconds,
            **_planted_found(path, results), "peak_mib": _peak_mib()}


def measure_pyshacl_focus(path: Path, runs: int) -> dict:
    from caregraph.validation import pyshacl_engine
    from caregraph.validation.shapes import load_shapes

    store = _store(path)
    locations = [r["l"].value for r in store.query(f"SELECT ?l WHERE {{ ?l a <{CG}CareLocation> }} LIMIT {runs}")]
    graph = pyshacl_engine.data_graph(store)
    del store
    shapes = load_shapes()
    timings = []
    for location in locations:
        started = time.perf_counter()
        pyshacl_engine.validate_graph(graph, shapes, focus=[location])
        timings.append(time.perf_counter() - started)
    return {"focus_ms": 1000 * statistics.median(timings), "peak_mib": _peak_mib()}


def _child(kind: str, path: Path, timeout: float | None, *extra: str) -> dict:
    """One measurement in a fresh process; {"stopped": seconds} if it ran past `timeout`."""
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, __file__, "--measure", kind, str(path), *extra],
                              capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"stopped": time.perf_counter() - started}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="small,medium,england")
    parser.add_argument("--runs", type=int, default=5, help="fast-engine runs per size (default 5)")
    parser.add_argument("--focus-runs", type=int, default=21, help="changed locations revalidated per run")
    parser.add_argument("--baseline", default="small", help="sizes to run pySHACL on (comma-separated, or none)")
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--baseline-timeout", type=float, default=1800.0, help="seconds before pySHACL is stopped")
    parser.add_argument("--baseline-focus", default="england", help="sizes to time pySHACL's focus validation on")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, path = args.measure[0], Path(args.measure[1])
        result = {"fast": lambda: measure_fast(path, args.focus_runs), "pyshacl": lambda: measure_pyshacl(path),
                  "pyshacl-focus": lambda: measure_pyshacl_focus(path, 3)}[kind]()
        print(json.dumps(result))
        return

    baseline = {s for s in args.baseline.split(",") if s and s != "none"}
    baseline_focus = {s for s in args.baseline_focus.split(",") if s and s != "none"}
    rows = []
    for size in args.sizes.split(","):
        path = data_file(size)
        fast = [_child("fast", path, None, "--focus-runs", str(args.focus_runs)) for _ in range(args.runs)]
        row = {"size": size, "triples": fast[0]["triples"], "planted": fast[0]["planted"],
               "fast_s": _median(fast, "validate_s"), "fast_load_s": _median(fast, "load_s"),
               "fast_mib": _median(fast, "peak_mib"), "fast_focus_ms": _median(fast, "focus_ms"),
               "fast_exact": all(not r["missed"] and not r["false_positives"] for r in fast)}
        if size in baseline:
            ref = []
            for _ in range(args.baseline_runs):
                ref.append(_child("pyshacl", path, args.baseline_timeout))
                if "stopped" in ref[-1]:
                    break
            done = [r for r in ref if "stopped" not in r]
            if done:
                row.update(ref_s=_median(done, "validate_s"), ref_runs=len(done), ref_mib=_median(done, "peak_mib"),
                           ref_convert_s=_median(done, "convert_s"),
                           ref_exact=all(not r["missed"] and not r["false_positives"] for r in done))
            else:
                row["ref_stopped_s"] = ref[-1]["stopped"]
        if size in baseline_focus:
            focus = _child("pyshacl-focus", path, args.baseline_timeout)
            if "stopped" in focus:
                row["ref_focus_stopped_s"] = focus["stopped"]
            else:
                row.update(ref_focus_ms=focus["focus_ms"], ref_focus_mib=focus["peak_mib"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    _print_table(rows, args)


def _print_table(rows: list[dict], args: argparse.Namespace) -> None:
    print(f"\nFull validation, medians of {args.runs} runs (fast engine) and of up to {args.baseline_runs} "
          "(pySHACL on an in-memory rdflib graph, the same shapes):")
    print("| size | triples | fast engine | peak memory | planted found, no false positive | pySHACL | "
          "pySHACL peak memory | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "ref_s" in r:
            ref = f"{r['ref_s']:.1f} s ({r['ref_runs']} run(s))"
            ref_mib, ratio = f"{r['ref_mib']:.0f} MiB", f"{r['ref_s'] / r['fast_s']:.0f}x"
        elif "ref_stopped_s" in r:
            ref, ref_mib, ratio = f"stopped after {r['ref_stopped_s']:.0f} s", "", f"> {r['ref_stopped_s'] / r['fast_s']:.0f}x"
        else:
            ref, ref_mib, ratio = "not run", "", ""
        print(f"| {r['size']} | {r['triples']:,} | {r['fast_s']:.2f} s | {r['fast_mib']:.0f} MiB | "
              f"{r['planted']} / {'yes' if r['fast_exact'] else 'NO'} | {ref} | {ref_mib} | {ratio} |")
    print(f"\nRevalidating one changed location by focus node, median of {args.focus_runs} locations a run:")
    print("| size | fast engine | pySHACL (focus_nodes) | ratio |")
    print("|---|---|---|---|")
    for r in rows:
        if "ref_focus_ms" in r:
            ref, ratio = f"{r['ref_focus_ms']:.0f} ms", f"{r['ref_focus_ms'] / r['fast_focus_ms']:.0f}x"
        elif "ref_focus_stopped_s" in r:
            ref, ratio = f"stopped after {r['ref_focus_stopped_s']:.0f} s", ""
        else:
            ref, ratio = "not run", ""
        print(f"| {r['size']} | {r['fast_focus_ms']:.1f} ms | {ref} | {ratio} |")


if __name__ == "__main__":
    main()
