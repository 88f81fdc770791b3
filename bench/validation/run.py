"""Validation benchmark: caregraph's fast engine (the shapes compiled to SPARQL on pyoxigraph)
against pySHACL on an in-memory rdflib graph, the reference, side by side.

The graphs come from generate.py at three sizes, about 10k, 100k and 1M triples, each with
the same injected violations. For each size it prints medians over several runs (each run
in a fresh process, so peak memory is the run's own): full validation time, peak memory,
the injected violations found and the false positives (results that are not an injected
violation), and the time to revalidate one changed location by focus node, for both
engines. pySHACL is repeated only where one run is quick enough (--baseline-repeat-under)
and is stopped at a time budget (--baseline-timeout); a stopped run is printed as such and
its ratio as a lower bound.

    python bench/validation/run.py                                  # everything (about 40 minutes: pySHACL)
    python bench/validation/run.py --sizes 10k,100k --baseline 10k  # quicker
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
# generate.py arguments per size. The curated knowledge alone is about 31,000 triples, so the
# 10k graph takes a self-contained slice of it; the others hold all of it. "1M" is the
# England-scale graph: 153 councils, 42 ICBs, 30,000 providers and 50,000 locations.
SIZES = {
    "10k": ["--councils", "20", "--icbs", "6", "--providers", "180", "--locations", "300"],
    "100k": ["--providers", "2300", "--locations", "3850"],
    "1M": ["--providers", "30000", "--locations", "50000"],
}
AIM_FULL_S, AIM_FOCUS_MS = 60.0, 200.0
STARTED = time.perf_counter()


def data_file(size: str) -> Path:
    """The size's graph, generated afresh so that it always matches the knowledge and generator."""
    path = OUT / f"{size}.nq"
    done = subprocess.run([sys.executable, str(HERE / "generate.py"), *SIZES[size], "--out", str(path)],
                          check=True, capture_output=True, text=True)
    print(done.stdout.strip(), flush=True)
    return path


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _against_injected(path: Path, results) -> dict:
    """Results compared with the injected violations, as (source shape, focus node) pairs."""
    injected = {(p["shape"], p["focus"]) for p in json.loads(path.with_suffix(".planted.json").read_text())}
    found = {(r.source_shape, r.focus_node) for r in results}
    return {"injected": len(injected), "results": len(results), "found": len(injected & found),
            "missed": sorted(injected - found), "false_positives": sorted(found - injected)}


def _store(path: Path):
    import pyoxigraph as ox

    from caregraph.store import OxigraphStore

    store = OxigraphStore()
    store.raw.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    return store


def _locations(store, count: int) -> list[str]:
    """`count` rated locations spread through the graph, the same ones for both engines."""
    rows = store.query(f"SELECT ?l WHERE {{ ?l a <{CG}CareLocation> ; <{CG}overallRating> ?r }} ORDER BY ?l")
    every = [r["l"].value for r in rows]
    step = max(1, len(every) // count)
    return every[::step][:count]


def measure_fast(path: Path, focus_runs: int) -> dict:
    from caregraph.validation import validate

    started = time.perf_counter()
    store = _store(path)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    report = validate(store, engine="fast")
    seconds = time.perf_counter() - started
    out = {"triples": len(store), "load_s": loaded, "validate_s": seconds, **_against_injected(path, report.results)}
    # One changed location at a time: its rating changes, then it alone is revalidated.
    timings = []
    for location in _locations(store, focus_runs):
        store.update(f"""DELETE {{ GRAPH ?g {{ <{location}> <{CG}overallRating> ?r }} }}
                         INSERT {{ GRAPH ?g {{ <{location}> <{CG}overallRating> "Inadequate" }} }}
                         WHERE {{ GRAPH ?g {{ <{location}> <{CG}overallRating> ?r }} }}""")
        started = time.perf_counter()
        validate(store, focus=[location], engine="fast")
        timings.append(time.perf_counter() - started)
    out["focus_ms"] = 1000 * statistics.median(timings)
    out["peak_mib"] = _peak_mib()
    return out


def _rdflib_graph(path: Path):
    """The rdflib graph pySHACL validates: the union of the file's graphs, made as caregraph makes it."""
    from caregraph.validation import pyshacl_engine

    store = _store(path)
    started = time.perf_counter()
    graph = pyshacl_engine.data_graph(store)
    return store, graph, time.perf_counter() - started


def measure_pyshacl(path: Path) -> dict:
    from caregraph.validation import pyshacl_engine
    from caregraph.validation.shapes import load_shapes

    store, graph, converted = _rdflib_graph(path)
    del store
    shapes = load_shapes()
    print(f"validating from {time.perf_counter() - STARTED:.3f}", file=sys.stderr, flush=True)  # for a stopped run
    started = time.perf_counter()
    results = pyshacl_engine.validate_graph(graph, shapes.graph)
    seconds = time.perf_counter() - started
    return {"triples": len(graph), "convert_s": converted, "validate_s": seconds,
            **_against_injected(path, results), "peak_mib": _peak_mib()}


def measure_pyshacl_focus(path: Path, focus_runs: int) -> dict:
    import rdflib

    from caregraph.validation import pyshacl_engine
    from caregraph.validation.shapes import load_shapes

    store, graph, _ = _rdflib_graph(path)
    locations = _locations(store, focus_runs)
    del store
    shapes = load_shapes()
    rating = rdflib.URIRef(CG + "overallRating")
    timings = []
    for location in locations:
        graph.set((rdflib.URIRef(location), rating, rdflib.Literal("Inadequate")))  # the same change
        started = time.perf_counter()
        pyshacl_engine.validate_graph(graph, shapes.graph, focus=[location])
        timings.append(time.perf_counter() - started)
    return {"focus_ms": 1000 * statistics.median(timings), "peak_mib": _peak_mib()}


def _child(kind: str, path: Path, timeout: float | None, focus_runs: int) -> dict:
    """One measurement in a fresh process. If it runs past `timeout` it is stopped:
    {"stopped": seconds, "validating_s": seconds spent validating (None if it never began)}."""
    try:
        done = subprocess.run([sys.executable, __file__, "--measure", kind, str(path), "--focus-runs", str(focus_runs)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        began = [float(line.split()[-1]) for line in err.splitlines() if line.startswith("validating from ")]
        return {"stopped": timeout, "validating_s": timeout - began[-1] if began else None}
    if done.returncode != 0:
        raise SystemExit(f"the {kind} measurement of {path} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _exactness(runs: list[dict]) -> dict:
    """Found / false positives over the runs (every run must agree for "exact")."""
    return {"found": min(r["found"] for r in runs), "false_positives": max(len(r["false_positives"]) for r in runs),
            "exact": all(not r["missed"] and not r["false_positives"] for r in runs),
            "missed_list": runs[0]["missed"], "false_positive_list": runs[0]["false_positives"][:10]}


def _baseline(path: Path, args: argparse.Namespace) -> dict:
    runs: list[dict] = []
    while len(runs) < args.baseline_runs:
        runs.append(_child("pyshacl", path, args.baseline_timeout, args.focus_runs))
        if "stopped" in runs[-1]:
            return {"stopped_s": runs[-1]["stopped"], "validating_s": runs[-1]["validating_s"]}
        if runs[-1]["validate_s"] > args.baseline_repeat_under:
            break  # one run that long is the measurement; repeating it would take the bench all day
    return {"s": _median(runs, "validate_s"), "runs": len(runs), "mib": _median(runs, "peak_mib"),
            "convert_s": _median(runs, "convert_s"), **_exactness(runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated, of " + ", ".join(SIZES))
    parser.add_argument("--runs", type=int, default=5, help="fast-engine runs per size (default 5)")
    parser.add_argument("--focus-runs", type=int, default=21,
                        help="changed locations revalidated per run (default 21)")
    parser.add_argument("--baseline", default=",".join(SIZES),
                        help="sizes to run pySHACL on (comma-separated, or none)")
    parser.add_argument("--baseline-runs", type=int, default=3, help="pySHACL runs per size at most (default 3)")
    parser.add_argument("--baseline-repeat-under", type=float, default=300.0,
                        help="repeat pySHACL only where one run takes less than this many seconds (default 300)")
    parser.add_argument("--baseline-timeout", type=float, default=600.0,
                        help="seconds after which a pySHACL run is stopped (default 600)")
    parser.add_argument("--baseline-focus-runs", type=int, default=5,
                        help="changed locations pySHACL revalidates (default 5)")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, path = args.measure[0], Path(args.measure[1])
        result = {"fast": lambda: measure_fast(path, args.focus_runs), "pyshacl": lambda: measure_pyshacl(path),
                  "pyshacl-focus": lambda: measure_pyshacl_focus(path, args.focus_runs)}[kind]()
        print(json.dumps(result))
        return

    sizes = [s for s in args.sizes.split(",") if s]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; use {', '.join(SIZES)}")
    baseline = {s for s in args.baseline.split(",") if s and s != "none"}
    rows = []
    for size in sizes:
        path = data_file(size)
        fast = [_child("fast", path, None, args.focus_runs) for _ in range(args.runs)]
        row = {"size": size, "triples": fast[0]["triples"], "injected": fast[0]["injected"],
               "results": fast[0]["results"], "fast_s": _median(fast, "validate_s"),
               "fast_load_s": _median(fast, "load_s"), "fast_mib": _median(fast, "peak_mib"),
               "fast_focus_ms": _median(fast, "focus_ms"), "fast": _exactness(fast)}
        if size in baseline:
            row["ref"] = _baseline(path, args)
            focus = _child("pyshacl-focus", path, args.baseline_timeout, args.baseline_focus_runs)
            row["ref_focus"] = {"stopped_s": focus["stopped"]} if "stopped" in focus else focus
        rows.append(row)
        print(json.dumps(row), flush=True)
    _print_tables(rows, args)


def _found(exact: dict, injected: int) -> str:
    text = f"{exact['found']} of {injected}, {exact['false_positives']} false positive(s)"
    return text if exact["exact"] else "NOT EXACT: " + text


def _print_tables(rows: list[dict], args: argparse.Namespace) -> None:
    print(f"\nFull validation. Fast engine: median of {args.runs} runs. pySHACL (in-memory rdflib graph, the same "
          f"shapes): median of up to {args.baseline_runs} runs, one where a run takes over "
          f"{args.baseline_repeat_under:.0f} s, stopped at {args.baseline_timeout:.0f} s.")
    print("| size | triples | fast engine | peak memory | injected violations found (fast) | "
          "pySHACL | peak memory | found (pySHACL) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref = r.get("ref")
        if ref is None:
            ref_s = ref_mib = ref_found = ratio = "not run"
        elif "stopped_s" in ref and ref["validating_s"]:
            ref_s = (f"stopped unfinished at the {ref['stopped_s']:.0f} s budget "
                     f"(> {ref['validating_s']:,.0f} s validating)")
            ref_mib, ref_found, ratio = "-", "-", f"> {ref['validating_s'] / r['fast_s']:,.0f}x (lower bound)"
        elif "stopped_s" in ref:
            ref_s = f"stopped at the {ref['stopped_s']:.0f} s budget before validating began"
            ref_mib = ref_found = ratio = "-"
        else:
            ref_s = f"{ref['s']:,.1f} s ({ref['runs']} run{'s' if ref['runs'] > 1 else ''})"
            ref_mib, ref_found = f"{ref['mib']:,.0f} MiB", _found(ref, r["injected"])
            ratio = f"{ref['s'] / r['fast_s']:,.0f}x"
        print(f"| {r['size']} | {r['triples']:,} | {r['fast_s']:.2f} s | {r['fast_mib']:,.0f} MiB | "
              f"{_found(r['fast'], r['injected'])} | {ref_s} | {ref_mib} | {ref_found} | {ratio} |")
    print(f"\nRevalidating one changed location by focus node (its rating changed): median over {args.focus_runs} "
          f"locations and the runs (fast engine), over {args.baseline_focus_runs} locations (pySHACL):")
    print("| size | fast engine | pySHACL (focus_nodes) | ratio |")
    print("|---|---|---|---|")
    for r in rows:
        ref = r.get("ref_focus")
        if ref is None:
            ref_ms, ratio = "not run", ""
        elif "stopped_s" in ref:
            ref_ms, ratio = f"stopped at the {ref['stopped_s']:.0f} s budget", ""
        else:
            ref_ms, ratio = f"{ref['focus_ms']:,.0f} ms", f"{ref['focus_ms'] / r['fast_focus_ms']:,.0f}x"
        print(f"| {r['size']} | {r['fast_focus_ms']:.1f} ms | {ref_ms} | {ratio} |")
    for r in rows:
        for engine, exact in (("fast engine", r["fast"]), ("pySHACL", r.get("ref", {}))):
            for label, key in (("missed", "missed_list"), ("false positives (first 10)", "false_positive_list")):
                if exact.get(key):
                    listed = "; ".join(f"{shape} on {focus}" for shape, focus in exact[key])
                    print(f"{r['size']}, {engine}, {label}: {listed}")
    for largest in (r for r in rows if r["size"] == "1M"):
        full_ok = largest["fast_s"] < AIM_FULL_S and largest["fast"]["exact"]
        focus_ok = largest["fast_focus_ms"] < AIM_FOCUS_MS
        print(f"\nAim, 1M triples: full validation under {AIM_FULL_S:.0f} s with every injected violation found and "
              f"no false positive: {largest['fast_s']:.1f} s, {_found(largest['fast'], largest['injected'])}: "
              f"{'met' if full_ok else 'MISSED'}.")
        print(f"Aim, 1M triples: one changed location revalidated under {AIM_FOCUS_MS:.0f} ms: "
              f"{largest['fast_focus_ms']:.1f} ms: {'met' if focus_ok else 'MISSED'}.")


if __name__ == "__main__":
    main()
