"""Server-side time to render the advocates' pages: the answer to each question typed in the
box, the same questions asked at registered locations (care homes, with their contact
details), the answer at the end of each way through the guided path, and an actor page with
its diagram. Medians over several runs, warm (the graph's derived indexes built once), measured
in process through the application, so the network and the browser are left out.

    python bench/pages/render.py [--store data/caregraph.oxigraph] [--runs 9]
"""

from __future__ import annotations

import argparse
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

QUESTIONS = ["my mum's care home is unsafe, who do I tell?", "the council refuses to assess my dad",
             "someone is taking money from my gran", "my dad was sent home from hospital with no care",
             "we are about to be evicted and my wife uses a wheelchair"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="an on-disk store (England scale); default: the curated graph")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    store, _ = open_store(args.store) if args.store else open_store()
    # Registered locations picked at random (seeded), five for each question.
    located = sorted({short_id(loc) for locs in location_names(store).by_key.values() for loc in locs})
    at_places = random.Random(7).sample(located, min(len(located), 5 * len(QUESTIONS)))
    pages = {"typed question": [("/ask", {"q": q}) for q in QUESTIONS],
             "at a location": [("/ask", {"q": QUESTIONS[n % len(QUESTIONS)], "place": loc})
                               for n, loc in enumerate(at_places)],
             "guided answer": [("/guide/answer", {"problem": short_id(end.problem), "place": "Leeds"})
                               for _, end in guided_path.load(store).ends()],
             "guided step": [("/guide/danger", {}), ("/guide/what", {})],
             "actor page": [("/id/actor/council-social-services", {})]}
    with TestClient(create_app(store)) as client:
        print(f"{'page':<16}{'pages':>6}{'median ms':>11}{'max ms':>9}")
        for name, requests in pages.items():
            times = []
            for path, params in requests:
                assert client.get(path, params=params, headers={"Accept": "text/html"}).status_code == 200
                for _ in range(args.runs):
                    start = time.perf_counter()
                    client.get(path, params=params, headers={"Accept": "text/html"})
                    times.append((time.perf_counter() - start) * 1000)
            print(f"{name:<16}{len(requests):>6}{statistics.median(times):>11.1f}{max(times):>9.1f}")


if __name__ == "__main__":
    main()
