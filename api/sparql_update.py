"""SPARQL updates at /sparql: the protocol's dataset parameters and the time limit.

**Dataset.** An update's WHERE reads the store's own default graph, as SPARQL Update
defines it (the graph an INSERT without GRAPH writes to), and every named graph through
GRAPH; it does not read the union of the graphs as queries do. A client that wants the
WHERE to read chosen graphs as its default graph names them with `using-graph-uri` (and
the graphs GRAPH may see with `using-named-graph-uri`), or writes USING / WITH in the
update; doing both is refused (SPARQL 1.1 Protocol, section 2.2.3). The parameters are
applied by adding USING clauses to each DELETE/INSERT operation.

**Time limit.** pyoxigraph cannot stop an update once it has started, so an update that
reads the store (one with a WHERE) is first rehearsed in a forked process on a private
copy of the store (the in-memory store shared copy-on-write, or a checkpoint of the
on-disk store beside it). A rehearsal still running at the time limit is killed and the
update refused, the store untouched; one that finishes is applied for real.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from caregraph.api import sandbox
from caregraph.api.sparql_tokens import tokens

class UpdateRefused(Exception):
    """An update that is not run; carries the HTTP status and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class _Operation:
    words: list[tuple[str, int]]  # top-level keywords, upper-cased, with their offsets
    braces: list[tuple[int, int]]  # top-level { ... } blocks: start and end offsets


def _operations(update: str) -> list[_Operation]:
    operations = [_Operation([], [])]
    depth, opened = 0, 0
    for token in tokens(update):
        if token.text == "{":
            if depth == 0:
                opened = token.start
            depth += 1
        elif token.text == "}":
            depth -= 1
            if depth == 0:
                operations[-1].braces.append((opened, token.start + 1))
        elif depth == 0:
            if token.text == ";":
                operations.append(_Operation([], []))
            elif token.keyword is not None:
                operations[-1].words.append((token.keyword, token.start))
    return operations


def _modify_where(operation: _Operation) -> tuple[str, int] | None:
    """('modify' or 'delete-where', offset of WHERE) for a DELETE/INSERT with a WHERE, else None."""
    words = [w for w, _ in operation.words]
    for i, (word, offset) in enumerate(operation.words):
        if word == "WHERE":
            return ("delete-where" if i > 0 and words[i - 1] == "DELETE" else "modify"), offset
    return None


def reads_store(update: str) -> bool:
    """Whether any operation has a WHERE (the only part whose cost has no bound)."""
    return any(_modify_where(op) is not None for op in _operations(update))


def apply_dataset(update: str, using: list[str], using_named: list[str]) -> str:
    """The update with the protocol's `using-graph-uri` / `using-named-graph-uri` applied to
    each DELETE/INSERT operation; UpdateRefused(400) if the update names its own dataset."""
    for name, values in (("using-graph-uri", using), ("using-named-graph-uri", using_named)):
        for value in values:
            try:
                ox.NamedNode(value)
            except ValueError:
                raise UpdateRefused(400, f"{name}: not an IRI: {value!r}") from None
    if not using and not using_named:
        return update
    operations = _operations(update)
    if any(w in ("USING", "WITH") for op in operations for w, _ in op.words):
        raise UpdateRefused(400, "the update names its dataset (USING or WITH) and the request names one too "
                                 "(using-graph-uri or using-named-graph-uri): send only one of them")
    clauses = "".join(f"USING <{g}> " for g in using) + "".join(f"USING NAMED <{g}> " for g in using_named)
    inserts: list[tuple[int, str]] = []
    for op in operations:
        found = _modify_where(op)
        if found is None:
            continue
        kind, where = found
        if kind == "modify":
            inserts.append((where, clauses))
        else:  # DELETE WHERE { Q } takes no USING: it is DELETE { Q } WHERE { Q }
            block = next((b for b in op.braces if b[0] > where), None)
            if block is not None:  # without one, the update is malformed and the engine says so
                inserts.append((where, update[block[0]:block[1]] + " " + clauses))
    for offset, text in sorted(inserts, reverse=True):
        update = update[:offset] + text + update[offset:]
    return update


def rehearse(store: ox.Store, store_path: Path | None, update: str, base_iri: str | None, timeout: float,
             federation: bool) -> None:
    """Run `update` on a private copy of the store in a child process; UpdateRefused if it
    fails, runs past `timeout` seconds, or tries to reach the network (unless `federation`).
    Blocking: call it from a thread."""
    checkpoint = None
    if store_path is not None:
        checkpoint = Path(tempfile.mkdtemp(prefix=".caregraph-rehearsal-", dir=store_path.parent)) / "store"
        store.backup(str(checkpoint))
    reader, writer = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:  # the child: never returns into the server's code
            code = 1
            try:
                os.close(reader)
                if not federation:
                    sandbox.no_network(kill=True)
                copy = ox.Store(str(checkpoint)) if checkpoint is not None else store
                try:
                    copy.update(update, base_iri=base_iri)
                    code = 0
                except SyntaxError as exc:
                    os.write(writer, f"invalid SPARQL update: {exc}"[:4000].encode())
                except (OSError, ValueError) as exc:
                    os.write(writer, f"the update could not run: {exc}"[:4000].encode())
            finally:
                os._exit(code)
        os.close(writer)
        writer = -1
        status = _wait(pid, timeout)
        message = os.read(reader, 4096).decode("utf-8", "replace")
    finally:
        os.close(reader)
        if writer != -1:
            os.close(writer)
        if checkpoint is not None:
            shutil.rmtree(checkpoint.parent, ignore_errors=True)
    if status is None:
        raise UpdateRefused(503, f"the update ran past this server's time limit of {timeout:g} s and was "
                                 "stopped; the store is unchanged")
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS:
        raise UpdateRefused(400, "the update tried to reach another server, which this endpoint never does; "
                                 "the store is unchanged")
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1 and message:
        raise UpdateRefused(400, message)
    if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
        raise UpdateRefused(500, "the update failed while it was being checked (out of memory?); "
                                 "the store is unchanged")


def _wait(pid: int, timeout: float) -> int | None:
    """The child's exit status, or None after killing it at the deadline."""
    deadline = time.monotonic() + timeout
    pause = 0.002
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
