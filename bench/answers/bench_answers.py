"""Build time and time per answer for the competency questions.

Runs the same library code over two stores side by side: the embedded pyoxigraph store
(caregraph's default) and, as the baseline, an rdflib in-memory graph answering the same
named queries. Answers read the duty index, each duty's rows and each route's steps from the
store once per version of the curated knowledge, so these figures are printed: a warm answer
(the usual case; the same Python work on either store) and the first answer after a write.
After a write that may change the knowledge (a rebuild, a SPARQL update) every one of those
reads goes to the store again (the engine's share); after an import of records (a write to
an import graph) only what records can change is read again, side by side. Medians of
several runs, and the ratio to the baseline.

With --england, the same two figures on the England-scale store on disk that the HTTP bench
builds (bench/http: the curated graph plus 50,000 generated locations), over the question
bank, so the answers' cost is measured where the graph is big.

    python bench/answers/bench_answers.py [--runs 5] [--after-write 8] [--england]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import rdflib

from caregraph import responsibility
from caregraph.build import build, open_store
from caregraph.dates import parse_day
from caregraph.store import IMPORT_GRAPHS, OxigraphStore, Store
from caregraph.validation.rdf_input import from_rdflib

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = json.loads((ROOT / "tests" / "fixtures" / "competency.json").read_text())
BANK = [{"question": q["question"], "as_of": q["as_of"]}
        for q in json.loads((ROOT / "tests" / "fixtures" / "question-bank.json").read_text())["questions"]]


class _Rows:
    def __init__(self, result) -> None:
        self.variables = [ox.Variable(str(v)) for v in result.vars]
        self._rows = [{str(v): None if row[v] is None else from_rdflib(row[v]) for v in result.vars} for row in result]

    def __iter__(self):
        return iter(self._rows)


class RdflibStore(Store):
    """The baseline: caregraph's named queries answered by rdflib over the same quads."""

    def __init__(self, source: OxigraphStore) -> None:
        super().__init__()
        self.graph = rdflib.Dataset(default_union=True)
        data = source.raw.dump(format=ox.RdfFormat.N_QUADS)
        self.graph.parse(data=data.decode(), format="nquads")

    def query(self, sparql: str):
        return _Rows(self.graph.query(sparql))

    def update(self, sparql): raise NotImplementedError  # read-only baseline
    def replace_graph(self, graph, triples): raise NotImplementedError
    def graphs(self): return [str(g.identifier) for g in self.graph.graphs()]
    def triples(self, graph): raise NotImplementedError
    def dump(self, output, fmt): raise NotImplementedError
    def __len__(self): return len(self.graph)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_builds(runs: int) -> tuple[float, float, float]:
    memory = []
    for _ in range(runs):
        started = time.perf_counter()
        build(OxigraphStore())
        memory.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        store, _ = open_store(Path(tmp) / "store")
        first_disk = time.perf_counter() - started
        del store
        reopen = []
        for _ in range(runs):
            started = time.perf_counter()
            store, report = open_store(Path(tmp) / "store")
            assert report.reused
            reopen.append(time.perf_counter() - started)
            del store
    return median_ms(memory), first_disk * 1000, median_ms(reopen)


# A graph of imported records the bench writes to and drops when done.
BENCH_RECORDS = IMPORT_GRAPHS + "bench/first-answer"


# The search phrase the bench adds to and takes from one duty: a real change to the knowledge,
# which the duty index, the speller and the thesaurus's words are all built from again.
BENCH_PHRASE = "bench wombat sanctuary"


def knowledge_write(store: Store) -> None:
    """A real write to the curated knowledge, the commonest kind: a SPARQL update that adds a
    search phrase to a duty in the duty's own graph, or takes it away again."""
    if isinstance(store, RdflibStore):  # the read-only baseline: a new generation is all it can have
        store.generation += 1
        return
    duty, graph = next(iter(store.query(
        "SELECT ?duty ?g WHERE { GRAPH ?g { ?duty a <https://w3id.org/caregraph/def#Duty> } } "
        "ORDER BY ?duty ?g LIMIT 1")))
    quad = f'GRAPH {graph} {{ {duty} <https://w3id.org/caregraph/def#searchTerms> "{BENCH_PHRASE}" }}'
    store.update(f"{'DELETE' if bool(store.query(f'ASK {{ {quad} }}')) else 'INSERT'} DATA {{ {quad} }}")


def knowledge_write_where(store: Store) -> None:
    """The same change made by an update with a WHERE naming the graph it writes, as an edit is
    usually written: on disk, that graph of the knowledge copy is copied again from the store."""
    duty, graph = next(iter(store.query(
        "SELECT ?duty ?g WHERE { GRAPH ?g { ?duty a <https://w3id.org/caregraph/def#Duty> } } "
        "ORDER BY ?duty ?g LIMIT 1")))
    phrase = f'{duty} <https://w3id.org/caregraph/def#searchTerms> "{BENCH_PHRASE}"'
    verb = "DELETE" if bool(store.query(f"ASK {{ GRAPH {graph} {{ {phrase} }} }}")) else "INSERT"
    store.update(f"{verb} {{ GRAPH {graph} {{ {phrase} }} }} WHERE {{ GRAPH {graph} {{ {duty} a "
                 "<https://w3id.org/caregraph/def#Duty> } }")


def knowledge_write_any_graph(store: Store) -> None:
    """The same change by an update whose template writes to GRAPH ?g, which could be any graph:
    on disk, its WHERE is asked first for the graphs it will write, and only those graphs of
    the knowledge copy are copied again."""
    quad = f'GRAPH ?g {{ ?duty <https://w3id.org/caregraph/def#searchTerms> "{BENCH_PHRASE}" }}'
    if bool(store.query(f"ASK {{ {quad} }}")):
        store.update(f"DELETE WHERE {{ {quad} }}")
        return
    store.update(f"INSERT {{ {quad} }} WHERE {{ {{ SELECT ?duty ?g WHERE {{ GRAPH ?g {{ ?duty a "
                 "<https://w3id.org/caregraph/def#Duty> } } ORDER BY ?duty ?g LIMIT 1 } }")


def drop_phrase(store: Store) -> None:
    store.update("DELETE WHERE { GRAPH ?g { ?duty <https://w3id.org/caregraph/def#searchTerms> "
                 f'"{BENCH_PHRASE}" }} }}')


def records_write(store: Store) -> None:
    """A real import-sized write: one record replaced in an import graph."""
    with store.writing_records(BENCH_RECORDS):
        store.replace_graph(BENCH_RECORDS, [ox.Triple(
            ox.NamedNode(BENCH_RECORDS), ox.NamedNode("http://purl.org/dc/terms/date"),
            ox.Literal(str(store.generation)))])


def drop_records(store: OxigraphStore) -> None:
    with store.writing_records(BENCH_RECORDS):
        store.drop_graph(BENCH_RECORDS)


def time_answers(store: Store, runs: int, cases: list[dict] = QUESTIONS,
                 write: Callable[[Store], None] | None = None) -> tuple[float, float]:
    """Median and p99 ms per answer; with `write` (knowledge_write or records_write), each
    answer is the first after that write."""
    per_answer = []
    for case in cases:  # warm the index and caches once
        responsibility.ask(store, case["question"], parse_day(case["as_of"]), limit=3)
    for _ in range(runs):
        for case in cases:
            if write is not None:
                write(store)
            started = time.perf_counter()
            responsibility.ask(store, case["question"], parse_day(case["as_of"]), limit=3)
            per_answer.append(time.perf_counter() - started)
    per_answer.sort()
    return median_ms(per_answer), per_answer[int(len(per_answer) * 0.99)] * 1000


def england(runs: int, after_write: int) -> None:
    """Warm and first-after-a-write answers on the England-scale store on disk."""
    sys.path.insert(0, str(ROOT / "bench" / "http"))
    from run import prepare  # the HTTP bench's store: curated graph plus 50,000 locations

    path, _, quads = prepare()
    store, _ = open_store(path)
    p50, p99 = time_answers(store, runs, BANK)
    print(f"England-scale store on disk ({quads:,} quads), {len(BANK)} bank questions x {runs} runs:")
    print(f"  warm answer: median {p50:.2f} ms, p99 {p99:.2f} ms")
    sample = BANK[::max(1, len(BANK) // after_write)][:after_write]
    print(f"  first answer after a write, {len(sample)} questions x {runs} runs:")
    after_writes(store, runs, sample)


def after_writes(store: OxigraphStore, runs: int, sample: list[dict]) -> None:
    """The first answer after each kind of write, side by side."""
    try:
        knowledge = time_answers(store, runs, sample, write=knowledge_write)
        where = time_answers(store, runs, sample, write=knowledge_write_where)
        anywhere = time_answers(store, runs, sample, write=knowledge_write_any_graph)
    finally:
        drop_phrase(store)
    try:
        records = time_answers(store, runs, sample, write=records_write)
    finally:
        drop_records(store)
    for name, (p50, p99) in (("after a write to the knowledge (INSERT/DELETE DATA)", knowledge),
                             ("after the same write by an update with a WHERE", where),
                             ("... whose template writes to GRAPH ?g", anywhere),
                             ("after an import of records", records)):
        print(f"    {name + ':':52s} median {p50:5.0f} ms, p99 {p99:5.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--after-write", type=int, default=8, metavar="N",
                        help="questions timed as the first answer after a write (rdflib takes seconds each)")
    parser.add_argument("--england", action="store_true",
                        help="time answers on the England-scale store on disk instead (built once by bench/http)")
    args = parser.parse_args()
    if args.england:
        england(args.runs, args.after_write)
        return

    build_ms, disk_ms, reopen_ms = time_builds(args.runs)
    store, _ = open_store()
    print(f"graph: {len(store)} quads in {len(store.graphs())} named graphs")
    print(f"build from ontology/, in memory: median {build_ms:.0f} ms over {args.runs} runs")
    print(f"build on disk, first start: {disk_ms:.0f} ms; reopen unchanged: median {reopen_ms:.1f} ms")

    started = time.perf_counter()
    baseline = RdflibStore(store)
    print(f"baseline rdflib load of the same quads: {(time.perf_counter() - started) * 1000:.0f} ms")

    ox_p50, ox_p99 = time_answers(store, args.runs)
    rd_p50, rd_p99 = time_answers(baseline, max(1, args.runs // 2))
    print(f"answers, {len(QUESTIONS)} competency questions x {args.runs} runs:")
    print(f"  pyoxigraph (caregraph): median {ox_p50:.2f} ms, p99 {ox_p99:.2f} ms per answer")
    print(f"  rdflib (baseline):      median {rd_p50:.2f} ms, p99 {rd_p99:.2f} ms per answer")
    print(f"  ratio: {rd_p50 / ox_p50:.1f}x (the same Python work on either store)")

    # Spread over the suite, so past-date and plain-word questions are both in the sample.
    sample = QUESTIONS[::max(1, len(QUESTIONS) // args.after_write)][:args.after_write]
    ox_p50, ox_p99 = time_answers(store, args.runs, sample, write=knowledge_write)
    rd_p50, rd_p99 = time_answers(baseline, 1, sample, write=knowledge_write)
    print(f"first answer after a write to the knowledge, {len(sample)} questions x {args.runs} runs (rdflib x 1):")
    print(f"  pyoxigraph (caregraph): median {ox_p50:.0f} ms, p99 {ox_p99:.0f} ms")
    print(f"  rdflib (baseline):      median {rd_p50:.0f} ms, p99 {rd_p99:.0f} ms")
    print(f"  ratio: caregraph {rd_p50 / ox_p50:.1f}x faster than the rdflib baseline (median)")
    print(f"first answer after each kind of write, caregraph, {len(sample)} questions x {args.runs} runs:")
    after_writes(store, args.runs, sample)


if __name__ == "__main__":
    main()
