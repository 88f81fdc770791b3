"""An import killed (SIGKILL) at any point leaves the store exactly as it was before, or, once
the import has switched its graph in, exactly as a finished import leaves it: never a part.
The import runs as a real `caregraph import` process; the test hook CAREGRAPH_IMPORT_STOP_AT
stops it at a named stage so the kill lands there (see caregraph.importers.run), and timed
kills after the bulk load has started land wherever they land."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from caregraph.build import open_store
from caregraph.cli import main
from caregraph.importers.run import STOP_AT
from caregraph.store import LOADING_GRAPH, UNFINISHED, OxigraphStore, StoreError, StoreUnavailable

REGISTERS = Path(__file__).resolve().parent / "fixtures" / "registers"
DIRECTORY_2026 = REGISTERS / "16_September_2026_CQC_directory.csv"
HEADER = ("Name,Also known as,Address,Postcode,Phone number,Service's website (if available),Service types,"
          "Date of latest check,Specialisms/services,Provider name,Local authority,Region,Location URL,"
          "CQC Location ID (for office use only),CQC Provider ID (for office use only)\n")
COUNCILS = ("Leeds", "Oldham", "Bath and North East Somerset", "Cumberland")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
# Aireside Care Home is in the previous import; a re-import of its file leaves it out.
QUESTION = ["ask", "who do I tell about abuse at this care home", "--location", "Aireside Care Home"]
LOCATIONS = 6000


def _directory(path: Path, locations: int, seed: int = 0) -> Path:
    """A care directory of `locations` linkable locations (`seed` varies the names)."""
    rows = [HEADER]
    for n in range(locations):
        location, provider = f"1-{300000000 + n}", f"1-{400000000 + n // 3}"
        rows.append(f"Home {n} v{seed},,{n} Road,LS1 4AP,,,Residential homes|Nursing homes,,Dementia,"
                    f"Provider {n // 3} v{seed},{COUNCILS[n % len(COUNCILS)]},North,"
                    f"https://www.cqc.org.uk/location/{location},{location},{provider}\n")
    path.write_text("".join(rows), encoding="utf-8")
    return path


def _state(path: Path) -> set[str]:
    """Every quad in the store at `path` (opened as any command opens it, tidying a killed load)."""
    store, _ = open_store(path)
    try:
        out = io.BytesIO()
        store.raw.dump(out, ox.RdfFormat.N_QUADS)
        return set(out.getvalue().decode().splitlines())
    finally:
        store.close()


def _without_import_time(quads: set[str]) -> set[str]:
    return {q for q in quads if "prov#generatedAtTime" not in q}


def _answer(path: Path) -> tuple[int, str]:
    out = io.StringIO()
    return main(["--store", str(path), *QUESTION], out), out.getvalue()


def _start(store: Path, data: Path, stop_at: str | None, as_of: str = "2026-09-23") -> subprocess.Popen:
    env = {**os.environ, STOP_AT: stop_at or ""}
    return subprocess.Popen([sys.executable, "-m", "caregraph.cli", "--store", str(store), "import",
                             "cqc-directory", str(data), "--as-of", as_of],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_stopped(process: subprocess.Popen, timeout: float = 300) -> None:
    """Until the process has stopped itself at the hook's stage."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the import ended before its stage: {process.stderr.read().decode()}"
        with open(f"/proc/{process.pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.02)
    raise AssertionError("the import never reached its stage")


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()


@pytest.fixture(scope="module")
def before(tmp_path_factory) -> dict:
    """A store on disk holding one import (the previous state), the files a second import
    reads, and the state each of those imports leaves when it finishes."""
    root = tmp_path_factory.mktemp("atomicity")
    base = root / "base"
    process = _start(base, DIRECTORY_2026, None, as_of="2026-09-16")
    assert process.wait() == 0, process.stderr.read().decode()
    process.stderr.close()
    files = {
        # a new graph: bulk-loaded
        "new graph": _directory(root / "England_CQC_directory.csv", LOCATIONS),
        # the same graph as the previous import: its difference written in one transaction
        "re-import": _directory(root / "23_September_2026_CQC_directory.csv", LOCATIONS // 3, seed=1),
    }
    finished, answers = {}, {}
    for kind, data in files.items():
        store = root / f"finished-{kind}"
        shutil.copytree(base, store)
        process = _start(store, data, None)
        assert process.wait() == 0, process.stderr.read().decode()
        process.stderr.close()
        finished[kind] = _without_import_time(_state(store))
        answers[kind] = _answer(store)
    answer = _answer(base)
    assert answer[0] == 0 and "Leeds City Council" in answer[1]
    return {"root": root, "base": base, "quads": _state(base), "answer": answer, "files": files,
            "finished": finished, "finished answer": answers}


def _killed_copy(before: dict, name: str) -> Path:
    store = before["root"] / name
    shutil.rmtree(store, ignore_errors=True)
    shutil.copytree(before["base"], store)
    return store


@pytest.mark.parametrize("kind, stage, outcome", [
    ("new graph", "read", "previous"),        # the source read, nothing written
    ("new graph", "marked", "previous"),      # the graph recorded as unfinished, the bulk load next
    ("new graph", "loaded", "previous"),      # every quad on disk, not yet switched in
    ("new graph", "switched", "finished"),    # committed
    ("re-import", "read", "previous"),
    ("re-import", "marked", "previous"),      # the difference's transaction next
    ("re-import", "switched", "finished"),
])
def test_an_import_killed_at_a_stage_leaves_the_previous_state_or_the_finished_one(before, kind, stage, outcome):
    store = _killed_copy(before, f"killed-{kind}-{stage}")
    process = _start(store, before["files"][kind], stage)
    _wait_stopped(process)
    _kill(process)
    quads = _state(store)
    if outcome == "previous":
        assert quads == before["quads"]
        assert _answer(store) == before["answer"]        # the store opens and answers as before
    else:
        assert _without_import_time(quads) == before["finished"][kind]
        assert _answer(store) == before["finished answer"][kind]
    assert not any(LOADING_GRAPH in q for q in quads)


def test_an_import_killed_at_any_moment_of_its_bulk_load_leaves_the_previous_state_or_the_finished_one(before):
    """Kills at spread moments after the bulk load starts: each store is one of the two states."""
    data = before["files"]["new graph"]
    store = _killed_copy(before, "timed-calibration")
    process = _start(store, data, "marked")
    _wait_stopped(process)
    started = time.monotonic()
    process.send_signal(signal.SIGCONT)
    assert process.wait() == 0
    process.stderr.close()
    writing = time.monotonic() - started      # the bulk load, the switch and the report
    outcomes = []
    for n, share in enumerate((0.05, 0.25, 0.5, 0.75)):
        store = _killed_copy(before, f"timed-{n}")
        process = _start(store, data, "marked")
        _wait_stopped(process)
        process.send_signal(signal.SIGCONT)
        time.sleep(writing * share)
        _kill(process)
        quads = _state(store)
        if quads == before["quads"]:
            outcomes.append("previous")
        else:
            assert _without_import_time(quads) == before["finished"]["new graph"], \
                f"a kill {writing * share:.2f} s into the load left a part of the import"
            outcomes.append("finished")
    assert outcomes[0] == "previous", outcomes      # a kill early in the load cannot have finished it


def _quads(graph: ox.NamedNode, count: int):
    for n in range(count):
        yield ox.Quad(ox.NamedNode(f"https://example.org/s{n}"), ox.NamedNode("https://example.org/p"),
                      ox.Literal(str(n)), graph)


def test_a_graph_left_unfinished_is_removed_when_the_store_is_next_opened_for_writing(tmp_path):
    """What a kill mid-load leaves (the record and more quads than one clean-up step takes) is
    refused by a read-only open and removed by the next writable one, whatever else is there."""
    graph, kept = ox.NamedNode("https://example.org/unfinished"), ox.NamedNode("https://example.org/kept")
    store = OxigraphStore(tmp_path / "store")
    store.raw.extend(_quads(kept, 10))
    store.raw.add(ox.Quad(graph, RDF_TYPE, UNFINISHED, ox.NamedNode(LOADING_GRAPH)))
    store.raw.bulk_extend(_quads(graph, 45_000))
    store.close()
    with pytest.raises(StoreUnavailable, match="interrupted"):
        OxigraphStore(tmp_path / "store", read_only=True)
    store = OxigraphStore(tmp_path / "store")
    assert len(store) == 10 and store.graphs() == [kept.value]
    store.close()


def test_quads_that_fail_while_being_written_leave_nothing_behind(tmp_path):
    store = OxigraphStore(tmp_path / "store")
    graph = ox.NamedNode("https://example.org/g")

    def failing():
        yield from _quads(graph, 30_000)
        raise ValueError("the source broke")

    with pytest.raises(ValueError, match="the source broke"):
        store.add_graph(graph.value, failing())
    assert len(store) == 0 and store.graphs() == []
    store.add_graph(graph.value, _quads(graph, 5))       # and the graph can be loaded again
    assert len(store) == 5
    with pytest.raises(StoreError, match="already holds data"):
        store.add_graph(graph.value, _quads(graph, 5))
    store.close()
