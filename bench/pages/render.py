"""Server-side time to render the advocates' pages: the answer to each question typed in the
box, the same questions asked at registered locations (care homes, with their contact
details), the answer at the end of each way through the guided path, and an actor page with
its diagram. Measured in process through the application, so the network and the browser are
left out, after a warm-up on other pages (the graph's derived indexes are built once per
version of the graph). Two medians: each page the first time it is asked for (nothing about
that question or place kept from before), and the same page asked again.

    python bench/pages/render.py [--store data/caregraph.oxigraph] [--runs 9]

Aim: an answer page in under 20 ms median, server-side, at England scale.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

from fastapi.testclient import TestClient

from caregraph import guided_path
from caregraph.api.app import create_app
from caregraph.build import open_store
from caregraph.namespaces import short_id
from caregraph.places import location_names

WARM_UP = ["who pays for my care", "my home care visits are too short"]
QUESTIONS = ["my mum's care home is unsafe, who do I tell?", "the council refuses to assess my dad",
             "someone is taking money from my gran", "my dad was sent home from hospital with no care",
             "we are about to be evicted and my wife uses a wheelchair"]


class Timed:
    """The application, timing each request server-side: from the request reaching the
    application to the last byte of its response (the test client's own work left out)."""

    def __init__(self, app) -> None:
        self.app, self.last = app, 0.0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed_send(message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last = (time.perf_counter() - start) * 1000

        await self.app(scope, receive, timed_send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="an on-disk store (England scale); default: the curated graph")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    store, _ = open_store(args.store) if args.store else open_store()
    # Registered locations picked at random (seeded), five for each question, and others to warm up on.
    located = sorted({short_id(loc) for locs in location_names(store).by_key.values() for loc in locs})
    picked = random.Random(7).sample(located, min(len(located), 6 * len(QUESTIONS)))
    at_places, warm_places = picked[:5 * len(QUESTIONS)], picked[5 * len(QUESTIONS):]
    pages = {"typed question": [("/ask", {"q": q}) for q in QUESTIONS],
             "at a location": [("/ask", {"q": QUESTIONS[n % len(QUESTIONS)], "place": loc})
                               for n, loc in enumerate(at_places)],
             "guided answer": [("/guide/answer", {"problem": short_id(end.problem), "place": "Leeds"})
                               for _, end in guided_path.load(store).ends()],
             "guided step": [("/guide/danger", {}), ("/guide/what", {})],
             "actor page": [("/id/actor/council-social-services", {})]}
    warm_up = [("/ask", {"q": q, "place": p}) for q in WARM_UP for p in [""] + warm_places]
    timed = Timed(create_app(store))
    with TestClient(timed) as client:
        for path, params in warm_up:
            assert client.get(path, params=params, headers={"Accept": "text/html"}).status_code == 200
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores. ms: elapsed server-side; cpu: the "
              "process's CPU time (client and server), which a busy machine does not inflate as it does the elapsed")
        print(f"{'page':<16}{'pages':>6}{'first ms':>10}{'again ms':>10}{'max ms':>9}{'first cpu':>11}{'again cpu':>11}")
        for name, requests in pages.items():
            first, again, first_cpu, again_cpu = [], [], [], []
            for path, params in requests:
                for run in range(1 + args.runs):
                    cpu = time.process_time()
                    status = client.get(path, params=params, headers={"Accept": "text/html"}).status_code
                    (again if run else first).append(timed.last)
                    (again_cpu if run else first_cpu).append((time.process_time() - cpu) * 1000)
                    assert status == 200, (path, params, status)
            print(f"{name:<16}{len(requests):>6}{statistics.median(first):>10.1f}{statistics.median(again):>10.1f}"
                  f"{max(first + again):>9.1f}{statistics.median(first_cpu):>11.1f}"
                  f"{statistics.median(again_cpu):>11.1f}")


if __name__ == "__main__":
    main()
