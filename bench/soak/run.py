"""Soak run: the API held at its measured capacity on loopback, with a write every few seconds.

Builds the curated graph into a fresh on-disk store, starts `caregraph serve` on it with an
update token (so the SPARQL workers read checkpoints and every write moves them to a new one),
measures the server's capacity with a short unpaced run, then holds that load for the soak
(unpaced connections send their next request as soon as the last is answered, so the server
runs at capacity throughout) while a client sends an `INSERT DATA` every few seconds and
/health is polled. Each write empties the answer and result caches and is followed by the
index warm-up, so the soak keeps crossing the cold path.

Reports errors (non-2xx answers and socket errors from the load, failed writes, /health
answers other than "ok": all must be 0) and the server's memory over time: the proportional
set size (PSS) of the serving process and its SPARQL workers, sampled every 2 s.

    python bench/soak/run.py [--duration 60] [--write-every 3] [--connections 10]

Load comes from wrk (Debian: `apt-get install wrk`) when installed, else from a bounded
Python generator (httpx, asyncio) with the same connections and mix of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out" / "soak"
TOKEN = "soak-run-token"
MARKER = "https://example.org/soak#"
QUESTIONS = ["my mum's care home is unsafe, who do I tell?", "the council refuses to assess my dad",
             "who handles a complaint about self-funded home care", "kicked out of hospital with no care",
             "who inspects care homes", "homeless and needs care"]
LOOKUP = "SELECT ?p ?o WHERE { <https://w3id.org/caregraph/id/actor/cqc> ?p ?o }"
PATHS = ([f"/responsible?q={urllib.parse.quote(q)}" for q in QUESTIONS]
         + ["/actors/cqc", "/actors/council-social-services", "/duties", "/health",
            f"/sparql?query={urllib.parse.quote(LOOKUP)}"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory(pid: int) -> int:
    """PSS in bytes of `pid` and its children (the SPARQL workers): shared pages counted once."""
    total = 0
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid] + [int(p) for p in (children.read_text().split() if children.exists() else [])]
    for p in pids:
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
        except OSError:
            continue  # a worker replaced meanwhile
        match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
        total += int(match.group(1)) * 1024 if match else 0
    return total


# -- load -----------------------------------------------------------------------------
def wrk_load(url: str, duration: int, connections: int) -> dict:
    script = OUT / "mix.lua"
    items = ",\n".join(json.dumps(p) for p in PATHS)
    script.write_text(f"""local paths = {{ {items} }}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {{["Accept"] = "application/json"}})
end
response = function(status, headers, body)
  if status >= 300 then io.write("failed " .. status .. " " .. string.sub(body, 1, 200):gsub("\n", " ") .. "\n") end
end
""")
    run = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency",
                          "-s", str(script), url], capture_output=True, text=True, timeout=duration + 60)
    text = run.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    if run.returncode or rate is None or total is None:
        raise RuntimeError(f"wrk gave no figures:\n{text}{run.stderr}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", text, re.M))
    return {"tool": "wrk", "requests": int(total.group(1)), "rps": float(rate.group(1)),
            "errors": int(non_2xx.group(1)) if non_2xx else 0,
            "socket_errors": sum(int(n) for n in sockets.groups()) if sockets else 0,
            "p50": latency.get("50"), "p99": latency.get("99"),
            "failures": sorted(set(re.findall(r"^failed (.*)$", text, re.M)))[:20]}


def python_load(url: str, duration: int, connections: int) -> dict:
    """The same mix from `connections` asyncio clients, each sending its next request when
    the last is answered, for `duration` seconds."""
    latencies: list[float] = []
    counts = {"errors": 0, "socket_errors": 0}
    failures: set[str] = set()

    async def client(n: int, stop: float) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=10) as session:
            i = n
            while time.monotonic() < stop:
                started = time.monotonic()
                try:
                    response = await session.get(PATHS[i % len(PATHS)], headers={"Accept": "application/json"})
                    if response.status_code >= 300:
                        counts["errors"] += 1
                        failures.add(f"{response.status_code} {response.text[:200]}")
                except httpx.TransportError:
                    counts["socket_errors"] += 1
                latencies.append(time.monotonic() - started)
                i += 1

    async def everyone() -> None:
        stop = time.monotonic() + duration
        await asyncio.gather(*(client(n, stop) for n in range(connections)))

    asyncio.run(everyone())
    latencies.sort()
    return {"tool": "python", "requests": len(latencies), "rps": len(latencies) / duration, **counts,
            "p50": f"{1000 * latencies[len(latencies) // 2]:.2f}ms",
            "p99": f"{1000 * latencies[int(len(latencies) * 0.99)]:.2f}ms", "failures": sorted(failures)[:20]}


# -- the run --------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--write-every", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()
    load = wrk_load if shutil.which("wrk") else python_load

    OUT.mkdir(parents=True, exist_ok=True)
    store = OUT / "store"
    shutil.rmtree(store, ignore_errors=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREGRAPH_")}
    env["CAREGRAPH_UPDATE_TOKEN"] = TOKEN
    server = subprocess.Popen([sys.executable, "-m", "caregraph.cli", "--store", str(store), "serve", "--host",
                               "127.0.0.1", "--port", str(port)], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)

        capacity = load(url, 10, args.connections)
        print(f"capacity ({capacity['tool']}, {args.connections} connections, 10 s): {capacity['rps']:.0f} req/s",
              flush=True)

        stop = threading.Event()
        writes: list[tuple[float, int, float]] = []  # (at, status, seconds)
        health: list[tuple[float, int, str | None]] = []
        samples: list[tuple[float, int]] = []
        started = time.monotonic()

        def writer() -> None:
            n = 0
            with httpx.Client(base_url=url, timeout=30) as session:
                while not stop.wait(args.write_every):
                    n += 1
                    update = (f'INSERT DATA {{ GRAPH <{MARKER}g> {{ <{MARKER}s{n}> <{MARKER}p> "write {n}" }} }}')
                    sent = time.monotonic()
                    try:
                        status = session.post("/sparql", data={"update": update},
                                              headers={"Authorization": f"Bearer {TOKEN}"}).status_code
                    except httpx.TransportError:
                        status = 0
                    writes.append((sent - started, status, time.monotonic() - sent))

        def sampler() -> None:
            with httpx.Client(base_url=url, timeout=30) as session:
                while not stop.is_set():
                    samples.append((time.monotonic() - started, memory(server.pid)))
                    try:
                        answer = session.get("/health")
                        health.append((time.monotonic() - started, answer.status_code, answer.json().get("problem")))
                    except httpx.TransportError as exc:
                        health.append((time.monotonic() - started, 0, str(exc)))
                    stop.wait(2.0)

        threads = [threading.Thread(target=writer), threading.Thread(target=sampler)]
        for thread in threads:
            thread.start()
        soak = load(url, args.duration, args.connections)
        stop.set()
        for thread in threads:
            thread.join()
        final = httpx.get(url + "/sparql", params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{MARKER}g> "
                                                             "{ ?s ?p ?o } }"},
                          headers={"Accept": "application/sparql-results+json"}).json()
        kept = int(final["results"]["bindings"][0]["n"]["value"])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    mib = [m / 2**20 for _, m in samples]
    tenth = max(1, len(mib) // 6)
    report = {
        "capacity_rps": capacity["rps"], "soak": soak, "duration_s": args.duration,
        "writes": len(writes), "writes_failed": sum(1 for _, s, _ in writes if s != 204),
        "writes_kept": kept, "write_s_median": statistics.median(s for _, _, s in writes) if writes else None,
        "health_checks": len(health), "health_not_ok": sum(1 for _, s, _ in health if s != 200),
        "health_problems": sorted({p for _, s, p in health if s != 200}),
        "memory_mib": {"first_10s": statistics.mean(mib[:tenth]), "last_10s": statistics.mean(mib[-tenth:]),
                       "min": min(mib), "max": max(mib)},
        "memory_samples": [(round(t, 1), round(m / 2**20, 1)) for t, m in samples],
    }
    (OUT / "soak.json").write_text(json.dumps(report, indent=2))
    errors = soak["errors"] + soak["socket_errors"] + report["writes_failed"] + report["health_not_ok"]
    memory_line = report["memory_mib"]
    print(f"soak ({soak['tool']}, {args.connections} connections, {args.duration} s, a write every "
          f"{args.write_every:g} s): {soak['requests']:,} requests, {soak['rps']:.0f} req/s "
          f"(p50 {soak['p50']}, p99 {soak['p99']})")
    print(f"errors: {errors} (non-2xx {soak['errors']}, socket {soak['socket_errors']}, writes failed "
          f"{report['writes_failed']} of {len(writes)}, /health not ok {report['health_not_ok']} of {len(health)}); "
          f"writes kept {kept}; median write {report['write_s_median'] or 0:.2f} s")
    print(f"memory (PSS, server + workers): first 10 s {memory_line['first_10s']:.0f} MiB, last 10 s "
          f"{memory_line['last_10s']:.0f} MiB, min {memory_line['min']:.0f}, max {memory_line['max']:.0f}")
    print(f"full report: {OUT / 'soak.json'}")


if __name__ == "__main__":
    main()
