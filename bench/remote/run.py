"""The API over a remote SPARQL engine against the API over the embedded store, 1 and 2 replicas.

Uses the England-scale store of bench/http (the curated knowledge plus 153 councils, 42 ICBs,
30,000 providers and 50,000 locations; built once by bench/http/run.py's prepare), pushes it
into an Oxigraph server with `caregraph load --to` (timed), and starts:

- embedded: `caregraph --store STORE serve` (one process; the store on disk, read-only);
- embedded x2: the same with `--workers 2` (two processes on one port: the embedded store
  opened read-only by each; two separate servers cannot share one folder);
- remote: `caregraph --backend sparql+http://.../query serve`, one replica, and two replicas
  on two ports in front of the same Oxigraph server (`oxigraph serve --union-default-graph`).

The setups run one after another (two embedded servers cannot open one store folder).
wrk drives each with 10 connections in all on loopback: one wrk (2 threads) for one port,
one wrk per replica (1 thread, 5 connections each) for two; requests/s are summed and p99 is
the worse of the two. Scenarios:

- `responsible`: `/responsible?q=...`, the 56 competency questions in turn (answers are
  cached per store generation after the first round, as in production);
- `location`: `/locations/{id}/responsible?q=...` for a random one of the 50,000 locations
  every request, so nearly every answer is computed (from the engine) rather than cached.

    python bench/remote/run.py [--runs 3] [--duration 8]

Needs wrk (apt-get install wrk) and the `oxigraph` package (pip install oxigraph: the
server binary), both installed with caregraph's test extra and CI.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "bench" / "out"
ENGINE_DIR = OUT / "remote-engine"
QUESTION = "my mum's care home is unsafe, who do I tell?"


def _http_bench():
    """bench/http/run.py: its store, server and wrk helpers are reused as they are."""
    sys.path.insert(0, str(ROOT / "bench" / "http"))
    spec = importlib.util.spec_from_file_location("http_bench", ROOT / "bench" / "http" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


http = _http_bench()

LOCATION_LUA = http.URLENCODE + http.SEEDED_THREADS + f"""
request = function()
  local path = string.format("/locations/1-%d/responsible?q=%s", math.random(200000001, 200050000),
                             urlencode({json.dumps(QUESTION)}))
  return wrk.format("GET", path, {{["Accept"] = "application/json"}})
end
"""


class Engine:
    """Oxigraph server over ENGINE_DIR on a free loopback port."""

    def __init__(self) -> None:
        binary = Path(sys.executable).parent / "oxigraph"
        command = str(binary) if binary.is_file() else shutil.which("oxigraph")
        if command is None:
            raise SystemExit("the oxigraph server is missing: pip install oxigraph")
        self.port = http.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ENGINE_DIR.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([command, "serve", "--location", str(ENGINE_DIR), "--union-default-graph",
                                         "--bind", f"127.0.0.1:{self.port}"], start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                if httpx.get(self.url + "/query", params={"query": "ASK {}"}, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("oxigraph serve did not answer within a minute")

    def quads(self) -> int:
        query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
        answer = httpx.get(self.url + "/query", params={"query": query}, timeout=120,
                           headers={"Accept": "application/sparql-results+json"}).json()
        return int(answer["results"]["bindings"][0]["n"]["value"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


class Caregraph(http.Server):
    """`caregraph serve` as bench/http starts it, ready once /health says ok (indexes warm)."""

    def __init__(self, name: str, args: list[str]) -> None:
        super().__init__(name, args, {"CAREGRAPH_DATA_DIR": str(OUT / "data")})
        for _ in range(600):
            try:
                if httpx.get(self.url + "/health", timeout=10).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)


def wrk_replicas(urls: list[str], script: str, name: str, duration: int) -> dict[str, float]:
    """10 connections in all, spread over the replicas: summed rate, the worse p99 and p50."""
    if len(urls) == 1:
        return http.wrk(urls[0], script, name, duration)
    lua = OUT / f"{name}.lua"
    lua.write_text(script)
    per = 10 // len(urls)

    def one(url: str) -> dict[str, float]:
        result = subprocess.run(["wrk", "-t1", f"-c{per}", f"-d{duration}s", "--timeout", "10s", "--latency",
                                 "-s", str(lua), url], capture_output=True, text=True, timeout=duration + 60)
        return http.parse_wrk(result, url, name)

    with ThreadPoolExecutor(len(urls)) as pool:
        parts = list(pool.map(one, urls))
    return {"rps": sum(p["rps"] for p in parts), "p50": max(p["p50"] for p in parts),
            "p99": max(p["p99"] for p in parts), "errors": sum(p["errors"] for p in parts)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    path, _, quads = http.prepare()
    print(f"England-scale store: {quads:,} quads at {path.relative_to(ROOT)}", flush=True)
    cli = [sys.executable, "-m", "caregraph.cli"]
    questions = [q["question"] for q in json.loads((ROOT / "tests" / "fixtures" / "competency.json").read_text())]
    scripts = {"responsible": http.lua_cycle(["/responsible?q=" + urllib.parse.quote(q) for q in questions]),
               "location": LOCATION_LUA}
    started: list = []
    samples: dict[tuple[str, str], list[dict[str, float]]] = {}
    engine = Engine()
    try:
        if engine.quads() != quads:
            print("pushing the store into Oxigraph server with caregraph load --to ...", flush=True)
            began = time.perf_counter()
            load = subprocess.run([*cli, "--store", str(path), "load", "--to", engine.url + "/store"],
                                  capture_output=True, text=True)
            if load.returncode:
                raise SystemExit(f"caregraph load failed: {load.stderr}")
            print(load.stdout.strip())
            print(f"caregraph load --to: {quads:,} quads in {time.perf_counter() - began:.1f} s", flush=True)
        backend = f"sparql+{engine.url}/query"
        serve_local = [*cli, "--store", str(path), "serve", "--port", "{port}"]
        serve_remote = [*cli, "--backend", backend, "serve", "--port", "{port}"]
        http.wait_for_quiet(limit=2.0, patience=120)
        load_before = os.getloadavg()
        # One phase at a time: the embedded servers cannot share the store folder with each other.
        phases = [({"embedded": [0]}, [serve_local]),
                  ({"embedded, --workers 2": [0]}, [[*serve_local, "--workers", "2"]]),
                  ({"remote, 1 replica": [0], "remote, 2 replicas": [0, 1]}, [serve_remote, serve_remote])]
        for setups, commands in phases:
            started = []
            for command in commands:
                started.append(Caregraph(next(iter(setups)), command))
            urls = {label: [started[i].url for i in picks] for label, picks in setups.items()}
            plan = [(label, name) for name in scripts for label in setups]
            for label, name in plan:  # warm-up, not counted: until every process answers (each builds its indexes)
                for _ in range(5):
                    warm = wrk_replicas(urls[label], scripts[name], name, args.duration)
                    if warm["rps"] and not warm["errors"]:
                        break
            for _ in range(args.runs):
                for label, name in plan:
                    samples.setdefault((label, name), []).append(
                        wrk_replicas(urls[label], scripts[name], name, args.duration))
                    print(f"  {label:24} {name:12} {samples[(label, name)][-1]}", flush=True)
            for server in started:
                server.stop()
    finally:
        for server in started:
            server.stop()
        engine.stop()
    load_after = os.getloadavg()
    results = {key: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for key, rs in samples.items()}
    print(f"\nwrk, 10 connections in all, {args.duration} s, loopback, {os.cpu_count()} cores shared by the engine, "
          f"the API processes and wrk; medians of {args.runs} runs; load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after\n")
    print(f"{'API':24} {'scenario':12} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9} {'errors':>7}")
    for (label, name), r in results.items():
        print(f"{label:24} {name:12} {r['p50']:8.2f} {r['p99']:8.2f} {r['rps']:9.0f} {r['errors']:7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
