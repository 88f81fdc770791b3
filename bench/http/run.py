"""HTTP load benchmark: caregraph's server on an England-scale graph against rdflib-endpoint,
with Oxigraph's own server as the limit.

Builds (once) an on-disk store of the curated knowledge plus generated linked records
(generate.py: 153 councils, 42 ICBs, 30,000 providers, 50,000 locations), starts
`caregraph serve` on it, Oxigraph's server (`oxigraph serve-read-only --union-default-graph`,
the engine caregraph embeds, answering SPARQL with nothing in front of it) on the same store
on disk, and rdflib-endpoint (FastAPI + rdflib) on the same triples, and drives them with wrk
on loopback (2 threads, 10 connections, bounded in time). Prints p50 and p99 latency and
requests/s, medians of several runs, the ratios to rdflib-endpoint and caregraph's share of
the engine's rate, for `caregraph serve` as it starts by default (one serving process) and
with `--workers 2` (a serving process per core, as the engine's threads use both cores).

Scenarios: `/responsible` for one question and for the 56 competency questions in turn,
`/actors/{id}` for every actor in turn, and a SPARQL lookup of one location's triples, either
the same query every time (`sparql_fixed`) or a random location with the request's number in a
comment (`sparql_varied`), so that no query text repeats and neither server's cache helps
(caregraph keeps results, rdflib-endpoint keeps parsed queries). A second caregraph server
with its answer and result caches off shows what computing every answer costs.

Unpaced, wrk sends as fast as a server answers, so its latencies include queueing behind the
other nine connections. In the `@500` scenarios each connection pauses 18 ms after every
answer, about 500 requests/s in all (the load the aim names; the rate reached is printed),
which gives the latency a client sees at that load.

    python bench/http/run.py [--runs 2] [--duration 8] [--sparql-only]

`--sparql-only` runs just the SPARQL lookups (caregraph, Oxigraph server, rdflib-endpoint).

Tools, on Debian and into the Python environment caregraph is installed in (the `bench`
extra holds the other two; neither is a dependency of caregraph):

    apt-get install wrk
    pip install -e '.[bench]'    # oxigraph (the server) and rdflib-endpoint
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
PAUSE_MS = 18  # per connection after each answer: 10 connections make about 500 requests/s
QUESTION = "my mum's care home is unsafe, who do I tell?"

OURS, UNCACHED, PEER, ENGINE = "caregraph", "caregraph, caches off", "rdflib-endpoint", "Oxigraph server"
OURS2 = "caregraph --workers 2"  # one serving process per core, as the engine's threads use both
ENGINE_QUERY = "/query"  # where Oxigraph's server answers SPARQL queries
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


# Each wrk thread seeds its own random numbers, so threads do not ask for the same locations.
SEEDED_THREADS = """
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  math.randomseed(os.time() * 100 + tid)
end
"""


def lua_random_lookup(endpoint: str = "/sparql") -> str:
    """A random location each time, and the thread's and request's numbers in a comment, so
    that no query text repeats."""
    return URLENCODE + SEEDED_THREADS + f"""
local n = 0
request = function()
  n = n + 1
  local q = string.format({json.dumps(LOOKUP.format(LOCATION.format("%d")) + " # request %d.%d")},
                          math.random(200000001, 200050000), tid, n)
  return wrk.format("GET", "{endpoint}?query=" .. urlencode(q), {{["Accept"] = "application/sparql-results+json"}})
end
"""


def lua_fixed(path: str, accept: str, pause_ms: int = 0) -> str:
    """The same request every time; with `pause_ms`, each connection waits that long after an answer."""
    pause = f"delay = function() return {pause_ms} end\n" if pause_ms else ""
    return pause + f"""request = function()
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
    def __init__(self, name: str, args: list[str], env: dict[str, str] | None = None, wait: float = 300,
                 endpoint: str = "/sparql") -> None:
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
                httpx.get(self.url + endpoint, params={"query": "ASK {}"}, timeout=2)
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


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * _UNITS[unit]


def wrk(url: str, script: str, name: str, duration: int) -> dict[str, float]:
    lua = OUT / f"{name}.lua"
    lua.write_text(script)
    result = subprocess.run(["wrk", "-t2", "-c10", f"-d{duration}s", "--timeout", "10s", "--latency", "-s", str(lua), url],
                            capture_output=True, text=True, timeout=duration + 60)
    return parse_wrk(result, url, name)


def parse_wrk(result: subprocess.CompletedProcess, url: str, name: str) -> dict[str, float]:
    """Requests per second, median and p99 ms, and errors (non-2xx answers and timeouts) from
    wrk's output with --latency."""
    text = result.stdout
    # wrk pads a one-letter unit ("1.02s ") with a space.
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", text, re.M))
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if result.returncode or rate is None or set(latency) != {"50", "99"}:
        raise RuntimeError(f"wrk on {url} ({name}) gave no figures:\n{text}{result.stderr}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", text)
    return {"rps": float(rate.group(1)), "p50": _ms(latency["50"]), "p99": _ms(latency["99"]),
            "errors": float(errors.group(1) if errors else 0) + float(timeouts.group(1) if timeouts else 0)}


def wait_for_quiet(limit: float = 1.0, patience: int = 600) -> None:
    """Wait (at most `patience` s) until the 1-minute load average is under `limit`: the figures
    mean little while other work shares the two cores."""
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        time.sleep(10)


def measure(servers: dict[str, str], plan: list[tuple[str, str]], scripts: dict, runs: int,
            duration: int) -> dict[tuple[str, str], dict[str, float]]:
    """Medians over `runs` rounds; each round runs every (server, scenario) once, interleaved, so
    background load on the machine falls on every server alike. A script keyed by (server,
    scenario) stands in for the scenario's own for that server."""
    def script(label: str, name: str) -> str:
        return scripts.get((label, name), scripts.get(name))

    for label, name in plan:
        # Warm-up, not counted: fills indexes, the operating system's file cache and answer caches.
        wrk(servers[label], script(label, name), name, max(2, duration // 2))
    samples: dict[tuple[str, str], list[dict[str, float]]] = {key: [] for key in plan}
    for _ in range(runs):
        for label, name in plan:
            samples[(label, name)].append(wrk(servers[label], script(label, name), name, duration))
            print(f"  {label:24} {name:20} {samples[(label, name)][-1]}", flush=True)
    return {key: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for key, rs in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--sparql-only", action="store_true",
                        help="only the SPARQL lookups, on caregraph, Oxigraph server and rdflib-endpoint")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    oxigraph = shutil.which("oxigraph") or shutil.which("oxigraph", path=str(Path(sys.executable).parent))
    if not oxigraph:
        print("Oxigraph's server is missing: pip install oxigraph (or pip install -e '.[bench]')", file=sys.stderr)
        return 2
    path, union, quads = prepare()
    print(f"England-scale store: {quads} quads at {path.relative_to(ROOT)}", flush=True)
    store, _ = open_store(path, read_only=True)
    actor_ids = sorted(a.id for a in directory(store) if a.iri.startswith(ACTOR))
    del store
    questions = [q["question"] for q in json.loads((ROOT / "tests" / "fixtures" / "competency.json").read_text())]
    def serve(store: Path, *more: str) -> list[str]:
        return [sys.executable, "-m", "caregraph.cli", "--store", str(store), "serve", "--port", "{port}", *more]

    def copy(name: str) -> Path:
        """A copy of the store for one more caregraph server: each takes the store's lock while it starts."""
        target = OUT / "copies" / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(path, target, ignore=shutil.ignore_patterns("LOCK", "*.lock"))
        return target

    fixed_lookup = "/sparql?query=" + urllib.parse.quote(LOOKUP.format(LOCATION.format(FIXED_LOCATION)))
    responsible = "/responsible?q=" + urllib.parse.quote(QUESTION)
    scripts = {
        "responsible_fixed": lua_fixed(responsible, "application/json"),
        "responsible_varied": lua_cycle(["/responsible?q=" + urllib.parse.quote(q) for q in questions]),
        "actor_varied": lua_cycle([f"/actors/{a}" for a in actor_ids]),
        "sparql_fixed": lua_fixed(fixed_lookup, "application/sparql-results+json"),
        "sparql_varied": lua_random_lookup(),
        "responsible@500": lua_fixed(responsible, "application/json", PAUSE_MS),
        "actor@500": lua_fixed("/actors/cqc", "application/json", PAUSE_MS),
        "sparql_fixed@500": lua_fixed(fixed_lookup, "application/sparql-results+json", PAUSE_MS),
        (ENGINE, "sparql_varied"): lua_random_lookup(ENGINE_QUERY),
        (ENGINE, "sparql_fixed"): lua_fixed(ENGINE_QUERY + fixed_lookup.removeprefix("/sparql"),
                                            "application/sparql-results+json"),
    }
    wait_for_quiet()
    load_before = os.getloadavg()
    script = OUT / "rdflib_endpoint_server.py"
    script.write_text(RDFLIB_ENDPOINT)
    print("starting rdflib-endpoint (rdflib parses the same triples; this takes a minute) ...", flush=True)
    started: list[Server] = []
    try:
        started.append(Server(PEER, [sys.executable, str(script), str(union), "{port}"], wait=900))
        started.append(Server(OURS, serve(path)))
        started.append(Server(OURS2, serve(copy("two-processes"), "--workers", "2")))
        if not args.sparql_only:
            started.append(Server(UNCACHED, serve(copy("uncached")),
                                  {"CAREGRAPH_ANSWER_CACHE": "0", "CAREGRAPH_SPARQL_CACHE": "0"}))
        # Last: caregraph writes to the store while it starts, and a read-only reader must not be open then.
        started.append(Server(ENGINE, [oxigraph, "serve-read-only", "--location", str(path), "--union-default-graph",
                                       "--bind", "127.0.0.1:{port}"], endpoint=ENGINE_QUERY))
        servers = {s.name: s.url for s in started}
        if args.sparql_only:
            plan = [(label, name) for name in ("sparql_varied", "sparql_fixed")
                    for label in (OURS, OURS2, ENGINE, PEER)]
        else:
            plan = [(OURS, name) for name in scripts if isinstance(name, str)] + \
                   [(UNCACHED, name) for name in ("responsible_varied", "actor_varied", "sparql_fixed",
                                                  "sparql_fixed@500")] + \
                   [(label, name) for label in (OURS2, ENGINE) for name in ("sparql_varied", "sparql_fixed")] + \
                   [(PEER, name) for name in ("sparql_fixed", "sparql_varied", "sparql_fixed@500")]
        results = measure(servers, plan, scripts, args.runs, args.duration)
    finally:
        for server in started:
            server.stop()
    load_after = os.getloadavg()

    print(f"\nwrk -t2 -c10 -d{args.duration}s (@500: {PAUSE_MS} ms pause per connection) on loopback, "
          f"{os.cpu_count()} cores, medians of {args.runs} runs; load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after\n")
    print(f"{'server':24} {'scenario':20} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9} {'errors':>7}")
    for (label, name), r in results.items():
        print(f"{label:24} {name:20} {r['p50']:8.2f} {r['p99']:8.2f} {r['rps']:9.0f} {r['errors']:7.0f}")
    print()
    for label, name in ((OURS, "sparql_fixed"), (UNCACHED, "sparql_fixed"), (OURS, "sparql_varied")):
        if (label, name) not in results:
            continue
        mine, theirs = results[(label, name)], results[(PEER, name)]
        print(f"{name} ({label}): throughput {mine['rps'] / theirs['rps']:.1f}x rdflib-endpoint's (aim >= 5x); "
              f"p50 {mine['p50']:.2f} ms vs {theirs['p50']:.2f} ms")
    for label, name in ((OURS, "sparql_varied"), (OURS2, "sparql_varied"), (OURS, "sparql_fixed"),
                        (OURS2, "sparql_fixed")):
        mine, engine = results[(label, name)], results[(ENGINE, name)]
        print(f"{name} ({label}): /sparql answers {mine['rps'] / engine['rps']:.0%} of Oxigraph server's rate "
              f"(aim >= 40% varied); {mine['rps']:.0f} vs {engine['rps']:.0f} req/s, "
              f"p50 {mine['p50']:.2f} vs {engine['p50']:.2f} ms, p99 {mine['p99']:.2f} vs {engine['p99']:.2f} ms")
    for label, name in ((OURS, "responsible@500"), (OURS, "responsible_fixed"), (OURS, "responsible_varied"),
                        (UNCACHED, "responsible_varied")):
        if (label, name) not in results:
            continue
        r = results[(label, name)]
        print(f"/responsible {name} ({label}): p50 {r['p50']:.2f} ms, {r['rps']:.0f} req/s "
              f"(aim p50 < 5 ms, >= 500 req/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
