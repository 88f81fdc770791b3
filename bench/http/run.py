"""HTTP load benchmark: caregraph's server on an England-scale graph against rdflib-endpoint.

Builds (once) an on-disk store of the curated knowledge plus generated linked records
(generate.py: 153 councils, 42 ICBs, 30,000 providers, 50,000 locations), starts
`caregraph serve` on it and rdflib-endpoint (FastAPI + rdflib) on the same triples, and
drives both with wrk on loopback (2 threads, 10 connections, bounded in time). Prints p50 and
p99 latency and requests/s, medians of several runs, and the ratios to rdflib-endpoint.

    python bench/http/run.py [--runs 3] [--duration 8]

Needs wrk (apt-get install wrk) and rdflib-endpoint (pip install rdflib-endpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import httpx
import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(HERE))

from generate import write  # noqa: E402

from caregraph.build import open_store  # noqa: E402
from caregraph.namespaces import ACTOR, GRAPH  # noqa: E402
from caregraph.actors import directory  # noqa: E402

RECORDS_GRAPH = GRAPH + "import/bench-england"
LOCATION = "https://w3id.org/caregraph/id/location/1-{}"
LOOKUP = "SELECT ?p ?o WHERE {{ <{}> ?p ?o }}"
FIXED_LOCATION = 200012345
QUESTION = "my mum's care home is unsafe, who do I tell?"

RDFLIB_ENDPOINT = """
import sys, rdflib, uvicorn
from rdflib_endpoint import SparqlEndpoint
graph = rdflib.Graph()
graph.parse(sys.argv[1], format="nt")
print("loaded", len(graph), flush=True)
uvicorn.run(SparqlEndpoint(graph=graph, path="/sparql"), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning")
"""

URLENCODE = """
local function urlencode(s)
  return (s:gsub("([^%w%-%.%_%~])", function(c) return string.format("%%%02X", string.byte(c)) end))
end
"""


def lua_cycle(paths: list[str]) -> str:
    items = ",\n".join(json.dumps(p) for p in paths)
    return f"""local paths = {{ {items} }}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {{["Accept"] = "application/json"}})
end
"""


def lua_random_lookup() -> str:
    return URLENCODE + f"""
math.randomseed(os.time())
request = function()
  local q = string.format({json.dumps(LOOKUP.format(LOCATION.format("%d")))}, math.random(200000001, 200050000))
  return wrk.format("GET", "/sparql?query=" .. urlencode(q), {{["Accept"] = "application/sparql-results+json"}})
end
"""


def lua_fixed(path: str, accept: str) -> str:
    return f"""request = function()
  return wrk.format("GET", {json.dumps(path)}, {{["Accept"] = {json.dumps(accept)}}})
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare() -> tuple[Path, Path, int]:
    """The on-disk store with curated knowledge and records, and the same triples as N-Triples."""
    OUT.mkdir(parents=True, exist_ok=True)
    records = OUT / "england-records.nt"
    if not records.exists():
        print("generating records ...", flush=True)
        write(records)
    path = OUT / "england.oxigraph"
    store, report = open_store(path)
    if RECORDS_GRAPH not in store.graphs():
        print("loading records into the store ...", flush=True)
        store.load_graph(RECORDS_GRAPH, str(records), ox.RdfFormat.N_TRIPLES)
        store.flush()
    union = OUT / "england-union.nt"
    if not union.exists() or union.stat().st_mtime < records.stat().st_mtime:
        with union.open("wb") as out:
            store.dump(out, "nt")
    quads = len(store)
    del store
    return path, union, quads


class Server:
    def __init__(self, name: str, args: list[str], env: dict[str, str] | None = None, wait: float = 300) -> None:
        self.name = name
        self.port = free_port()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CAREGRAPH_")}
        environment.update(env or {})
        self.process = subprocess.Popen([a.replace("{port}", str(self.port)) for a in args], env=environment,
                                        start_new_session=True, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.process.returncode}")
            try:
                httpx.get(self.url + "/sparql", params={"query": "ASK {}"}, timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{name} did not start within {wait} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * _UNITS[unit]


def wrk(url: str, script: str, name: str, duration: int) -> dict[str, float]:
    lua = OUT / f"{name}.lua"
    lua.write_text(script)
    result = subprocess.run(["wrk", "-t2", "-c10", f"-d{duration}s", "--timeout", "10s", "--latency", "-s", str(lua), url],
                            capture_output=True, text=True, timeout=duration + 60)
    text = result.stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", text, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
            "p50": _ms(latency["50"]) if "50" in latency else float("nan"),
            "p99": _ms(latency["99"]) if "99" in latency else float("nan"),
            "errors": float(errors.group(1)) if errors else 0.0}


def wait_for_quiet(limit: float = 1.0, patience: int = 600) -> None:
    """Wait (at most `patience` s) until the 1-minute load average is under `limit`: the figures
    mean little while other work shares the two cores."""
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        time.sleep(10)


def measure(servers: dict[str, str], plan: list[tuple[str, str]], scripts: dict[str, str], runs: int,
            duration: int) -> dict[tuple[str, str], dict[str, float]]:
    """Medians over `runs` rounds; each round runs every (server, scenario) once, interleaved, so
    background load on the machine falls on both servers alike."""
    for label, name in plan:
        wrk(servers[label], scripts[name], name, 2)  # warm-up, not counted: fills indexes and caches
    samples: dict[tuple[str, str], list[dict[str, float]]] = {key: [] for key in plan}
    for _ in range(runs):
        for label, name in plan:
            samples[(label, name)].append(wrk(servers[label], scripts[name], name, duration))
            print(f"  {label:28} {name:20} {samples[(label, name)][-1]}", flush=True)
    return {key: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for key, rs in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    path, union, quads = prepare()
    print(f"England-scale store: {quads} quads at {path.relative_to(ROOT)}", flush=True)
    store, _ = open_store(path, read_only=True)
    actor_ids = sorted(a.id for a in directory(store) if a.iri.startswith(ACTOR))
    del store
    questions = [q["question"] for q in json.loads((ROOT / "tests" / "fixtures" / "competency.json").read_text())]
    serve = [sys.executable, "-m", "caregraph.cli", "--store", str(path), "serve", "--port", "{port}"]
    fixed_lookup = "/sparql?query=" + urllib.parse.quote(LOOKUP.format(LOCATION.format(FIXED_LOCATION)))
    scripts = {
        "responsible_fixed": lua_fixed("/responsible?q=" + urllib.parse.quote(QUESTION), "application/json"),
        "responsible_varied": lua_cycle(["/responsible?q=" + urllib.parse.quote(q) for q in questions]),
        "actor_varied": lua_cycle([f"/actors/{a}" for a in actor_ids]),
        "sparql_fixed": lua_fixed(fixed_lookup, "application/sparql-results+json"),
        "sparql_varied": lua_random_lookup(),
    }
    wait_for_quiet()
    load_before = os.getloadavg()
    script = OUT / "rdflib_endpoint_server.py"
    script.write_text(RDFLIB_ENDPOINT)
    print("starting rdflib-endpoint (rdflib parses the same triples; this takes a minute) ...", flush=True)
    peer = Server("rdflib-endpoint", [sys.executable, str(script), str(union), "{port}"], wait=900)
    ours = None
    try:
        ours = Server("caregraph", serve)
        servers = {"caregraph": ours.url, "rdflib-endpoint": peer.url}
        plan = [("caregraph", name) for name in scripts] + \
               [("rdflib-endpoint", name) for name in ("sparql_fixed", "sparql_varied")]
        results = measure(servers, plan, scripts, args.runs, args.duration)
    finally:
        peer.stop()
        if ours is not None:
            ours.stop()
    uncached = Server("caregraph, no answer cache", serve, {"CAREGRAPH_ANSWER_CACHE": "0"})
    try:
        results.update(measure({"caregraph, no answer cache": uncached.url},
                               [("caregraph, no answer cache", "responsible_varied"),
                                ("caregraph, no answer cache", "actor_varied")], scripts, args.runs, args.duration))
    finally:
        uncached.stop()
    load_after = os.getloadavg()

    print(f"\nwrk -t2 -c10 -d{args.duration}s on loopback, {os.cpu_count()} cores, medians of {args.runs} runs; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after\n")
    print(f"{'server':28} {'scenario':20} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9} {'non-2xx':>8}")
    for (label, name), r in results.items():
        print(f"{label:28} {name:20} {r['p50']:8.2f} {r['p99']:8.2f} {r['rps']:9.0f} {r['errors']:8.0f}")
    print()
    for name in ("sparql_fixed", "sparql_varied"):
        mine, theirs = results[("caregraph", name)], results[("rdflib-endpoint", name)]
        print(f"{name}: caregraph / rdflib-endpoint throughput = {mine['rps'] / theirs['rps']:.1f}x "
              f"(aim >= 5x); p50 {mine['p50']:.2f} ms vs {theirs['p50']:.2f} ms")
    hit = results[("caregraph", "responsible_fixed")]
    miss = results[("caregraph, no answer cache", "responsible_varied")]
    print(f"/responsible: p50 {hit['p50']:.2f} ms, {hit['rps']:.0f} req/s (answer cache); "
          f"{miss['p50']:.2f} ms, {miss['rps']:.0f} req/s (every question computed) (aim p50 < 5 ms, >= 500 req/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
