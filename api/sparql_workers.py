"""SPARQL queries in worker processes that can be killed: pyoxigraph has no query timeout.

The serving process keeps a small pool of forked workers. A worker either shares the
serving process's in-memory store (copy-on-write after the fork) or opens an on-disk
view read-only: the store itself when the server only reads it, else a checkpoint taken
at start and after every write (RocksDB deletes files under a reader of a store being
written: workers opened beside a writing server found it "corrupt" in 3 to 4 of 40
restarts). Each query goes to an idle worker with a deadline; a worker that has not
finished by then is killed with SIGKILL and replaced at once, so a runaway query costs one
worker for at most the time limit and other requests go on being answered.

Frames on the pipes are a kind byte, a 4-byte big-endian length and a payload:
the serving process sends `Q` (a JSON job); a worker answers `R` once when ready, then
per job `H` (JSON head: format) before its first data, `D` (data) frames and `E` (end), or
`X` (JSON error: status and message).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from caregraph.api import negotiation, sandbox
from caregraph.api.sparql_output import (FORMATS, OFFERS, Budget, Sink, cut_marker, write_boolean,
                                         write_solutions, write_triples)
from caregraph.namespaces import PREFIXES

_HEADER = struct.Struct(">cI")


class QueryFailed(Exception):
    """A query the pool could not answer; carries the HTTP status and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Job:
    query: str
    accept: str | None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    base_iri: str | None = None  # what relative IRIs in the query resolve against


# -- the worker side ------------------------------------------------------------------
def _send(fd: int, kind: bytes, payload: bytes = b"", *more: tuple[bytes, bytes]) -> None:
    """Write one or more frames with a single write, so a small answer wakes the server once."""
    frames = [(kind, payload), *more]
    data = memoryview(b"".join(_HEADER.pack(k, len(p)) + p for k, p in frames))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exactly(fd: int, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _pick(kind: str, accept: str | None) -> str | None:
    offers = OFFERS[kind]
    chosen = negotiation.choose(accept, list(offers))
    return offers[chosen] if chosen else None


def dataset(default_graphs: list[str], named_graphs: list[str]) -> dict:
    """pyoxigraph's query arguments for the protocol's dataset parameters."""
    if not default_graphs and not named_graphs:
        # caregraph keeps every source in its own named graph; the default graph is their union.
        return {"use_default_graph_as_union": True}
    # The protocol's dataset parameters name the graphs exactly: unnamed parts are empty.
    return {"default_graph": [ox.NamedNode(g) for g in default_graphs] or ox.DefaultGraph(),
            "named_graphs": [ox.NamedNode(g) for g in named_graphs]}


def _run_job(store: ox.Store, job: dict, out: int) -> None:
    started = time.monotonic()
    deadline = started + job["budget"]
    try:
        result = store.query(job["query"], base_iri=job.get("base_iri"),
                             **dataset(job["default_graphs"], job["named_graphs"]))
    except SyntaxError as exc:
        _send(out, b"X", json.dumps({"status": 400, "message": f"malformed SPARQL query: {exc}"}).encode())
        return
    except (OSError, ValueError, TypeError) as exc:
        _send(out, b"X", json.dumps({"status": 400, "message": f"the query could not run: {exc}"}).encode())
        return
    kind = ("boolean" if isinstance(result, ox.QueryBoolean)
            else "graph" if isinstance(result, ox.QueryTriples) else "results")
    fmt = _pick(kind, job["accept"])
    if fmt is None:
        offered = ", ".join(dict.fromkeys(FORMATS[f].media_type.split(";")[0] for f in OFFERS[kind].values()))
        _send(out, b"X", json.dumps({"status": 406, "message": f"none of the types in Accept can carry "
                                     f"this result; this endpoint offers: {offered}"}).encode())
        return
    head = json.dumps({"format": fmt}).encode()
    started_output = False

    def emit(data: bytes) -> None:
        nonlocal started_output
        if started_output:
            _send(out, b"D", data)
        else:
            _send(out, b"H", head, (b"D", data))
            started_output = True

    sink = Sink(emit)
    budget = Budget(sink, job["limit"], deadline)
    try:
        if kind == "boolean":
            write_boolean(bool(result), fmt, sink)
        elif kind == "graph":
            write_triples(result, fmt, budget, PREFIXES)
        else:
            write_solutions(result, fmt, budget)
    except (OSError, ValueError, TypeError) as exc:
        if not started_output:
            _send(out, b"X", json.dumps({"status": 500, "message": f"the query failed: {exc}"}).encode())
            return
        rest = sink.held_back() + cut_marker(fmt, f"the query failed while its result was being written: {exc}")
        _send(out, b"D", rest, (b"E", b""))
        return
    rest = sink.held_back()
    if started_output:
        _send(out, b"D", rest, (b"E", b""))
    else:
        _send(out, b"H", head, (b"D", rest), (b"E", b""))


def _cap_memory(extra: int) -> None:
    """Let a worker grow by at most `extra` bytes: a query that needs more fails in the worker
    (which is then replaced) instead of taking the machine's memory."""
    if extra <= 0:
        return
    with open("/proc/self/statm") as statm:
        current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = current + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _worker_main(store: ox.Store | None, path: Path | None, jobs: int, out: int, memory: int) -> None:
    parent = os.getppid()
    try:
        if path is not None:
            store = ox.Store.read_only(str(path))
        _cap_memory(memory)
    except Exception as exc:  # noqa: BLE001 - whatever stops the start is reported, not lost with the process
        _send(out, b"R", json.dumps({"error": f"cannot open the store at {path}: "
                                              f"{type(exc).__name__}: {exc}"}).encode())
        return
    _send(out, b"R", b"{}")
    while True:
        header = _read_exactly(jobs, _HEADER.size)
        if header is None or os.getppid() != parent:
            return  # the serving process has gone
        _, length = _HEADER.unpack(header)
        payload = _read_exactly(jobs, length)
        if payload is None:
            return
        _run_job(store, json.loads(payload), out)


# -- the serving side -----------------------------------------------------------------
class Worker:
    def __init__(self, pid: int, jobs: int, reader: asyncio.StreamReader, transport: asyncio.BaseTransport,
                 fds: tuple[int, int]) -> None:
        self.pid, self.jobs, self.reader, self.transport, self.fds = pid, jobs, reader, transport, fds
        self.ready = False

    async def frame(self) -> tuple[bytes, bytes]:
        header = await self.reader.readexactly(_HEADER.size)
        kind, length = _HEADER.unpack(header)
        return kind, (await self.reader.readexactly(length) if length else b"")


@dataclass
class Execution:
    """A query under way: its format, the output collected so far and whether it is complete."""

    media_type: str
    format: str
    body: list[bytes]
    complete: bool
    _rest: AsyncIterator[bytes] | None = None

    def stream(self) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            for part in self.body:
                yield part
            if self._rest is not None:
                async for part in self._rest:
                    yield part
        return chunks()


async def answers_ask(execute: Callable[[Job], Awaitable[Execution]], wrong: str) -> str | None:
    """Why `execute` cannot answer a query now, or None when it answered a trivial ASK rightly:
    the health probe of the worker pool and of a remote engine alike."""
    try:
        execution = await execute(Job("ASK {}", "application/sparql-results+json"))
    except QueryFailed as exc:
        return exc.message
    if not execution.complete or b"true" not in b"".join(execution.body):
        return wrong
    return None


class SparqlPool:
    """Worker processes that run SPARQL queries with a time limit."""

    def __init__(self, store: ox.Store, *, size: int, timeout: float, result_limit: int,
                 view: Callable[[], Path] | None = None, worker_memory: int = 0,
                 after_write: Callable[[], None] | None = None, network: bool = False) -> None:
        """`view` gives the folder workers open read-only, asked at start and after each write
        (without it they share the in-memory store); `after_write` runs once a write is done."""
        self.store, self.size, self.timeout, self.result_limit = store, size, timeout, result_limit
        self.view, self.worker_memory, self.after_write = view, worker_memory, after_write
        self.network = network  # False: workers cannot open internet sockets (sandbox.py)
        self.view_path: Path | None = None  # what new workers open
        self._workers: set[Worker] = set()
        self._idle: asyncio.Queue[Worker] | None = None
        self._open = asyncio.Event()
        self._busy = 0
        self._quiet = asyncio.Condition()
        self.killed = 0  # workers stopped for running past the limit (reported by /health)

    async def start(self) -> None:
        self._idle = asyncio.Queue()
        if self.view is not None:
            self.view_path = await asyncio.get_running_loop().run_in_executor(None, self.view)
        for _ in range(self.size):
            self._idle.put_nowait(await self._spawn())
        self._open.set()

    async def stop(self) -> None:
        self._open.clear()
        for worker in list(self._workers):
            self._kill(worker)

    @property
    def accepting(self) -> bool:
        """False while an update is being applied (queries wait for it)."""
        return self._open.is_set()

    @property
    def workers(self) -> int:
        return len(self._workers)

    async def _spawn(self) -> Worker:
        jobs_read, jobs_write = os.pipe()
        out_read, out_write = os.pipe()
        siblings = [fd for w in self._workers for fd in w.fds]
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the serving process handles Ctrl-C
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                for fd in (*siblings, jobs_write, out_read):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                if not self.network:
                    sandbox.no_network()
                _worker_main(None if self.view_path else self.store, self.view_path, jobs_read, out_write,
                             self.worker_memory)
            except BaseException:  # noqa: BLE001 - a worker must never return into the server's code
                code = 1
            finally:
                os._exit(code)
        os.close(jobs_read)
        os.close(out_write)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**20, loop=loop)  # bounds what is buffered per worker
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop),
                                                    os.fdopen(out_read, "rb", buffering=0))
        worker = Worker(pid, jobs_write, reader, transport, (jobs_write, out_read))
        self._workers.add(worker)
        return worker

    def _kill(self, worker: Worker) -> None:
        if worker not in self._workers:
            return
        self._workers.discard(worker)
        try:
            os.kill(worker.pid, signal.SIGKILL)
            os.waitpid(worker.pid, 0)
        except ChildProcessError:
            pass
        except ProcessLookupError:
            pass
        worker.transport.close()
        try:
            os.close(worker.jobs)
        except OSError:
            pass

    async def _replace(self, worker: Worker) -> None:
        self._kill(worker)
        if self._open.is_set() and self._idle is not None:
            self._idle.put_nowait(await self._spawn())

    async def _acquire(self, deadline: float) -> Worker:
        if self._open.is_set() and not self._idle.empty():  # the common case: no waiting, no timer
            worker = self._idle.get_nowait()
            if worker.ready and worker in self._workers:
                return worker
            self._idle.put_nowait(worker)
        for _ in range(self.size + 1):
            worker = await self._idle_worker(deadline)
            if worker.ready:
                return worker
            try:
                async with asyncio.timeout_at(deadline):
                    kind, payload = await worker.frame()
            except TimeoutError:
                await self._replace(worker)
                raise QueryFailed(503, "a query worker did not start within the time limit; try again") from None
            except asyncio.IncompleteReadError:
                # Exited before it was ready (once seen just after an update): a fresh one may start.
                await self._replace(worker)
                continue
            problem = json.loads(payload or b"{}").get("error")
            if kind != b"R" or problem:
                await self._replace(worker)
                raise QueryFailed(500, problem or "a query worker failed to start")
            worker.ready = True
            return worker
        raise QueryFailed(503, f"{self.size + 1} query workers in a row exited while starting; try again")

    async def _idle_worker(self, deadline: float) -> Worker:
        """An idle worker of the open pool, waiting no later than the deadline."""
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    if not self._open.is_set():
                        await self._open.wait()
                    worker = self._idle.get_nowait() if not self._idle.empty() else await self._idle.get()
                    if self._open.is_set() and worker in self._workers:
                        break
                    if worker in self._workers:  # an update closed the pool meanwhile: hand it back
                        self._idle.put_nowait(worker)
        except TimeoutError:
            raise QueryFailed(503, f"every query worker stayed busy for the whole time limit "
                                   f"({self.timeout:g} s); try again shortly") from None
        return worker

    async def execute(self, job: Job) -> Execution:
        """Start a query; returns once the head and the first output (or all of it) are in."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        worker = await self._acquire(deadline)
        self._busy += 1
        owner = True  # until the worker is released, abandoned, or handed to the stream
        try:
            async with asyncio.timeout_at(deadline):
                _send(worker.jobs, b"Q", json.dumps({
                    "query": job.query, "accept": job.accept, "default_graphs": job.default_graphs,
                    "named_graphs": job.named_graphs, "base_iri": job.base_iri, "budget": self.timeout - 0.05,
                    "limit": self.result_limit}).encode())
                kind, payload = await worker.frame()
                if kind == b"X":
                    problem = json.loads(payload)
                    owner = False
                    self._release(worker)
                    raise QueryFailed(problem["status"], problem["message"])
                fmt = json.loads(payload)["format"]
                body: list[bytes] = []
                collected = 0
                # Small results (nearly all) come back whole and go out with a Content-Length.
                while collected < 65536:
                    kind, payload = await worker.frame()
                    if kind == b"E":
                        owner = False
                        self._release(worker)
                        return Execution(FORMATS[fmt].media_type, fmt, body, True)
                    body.append(payload)
                    collected += len(payload)
            owner = False
            return Execution(FORMATS[fmt].media_type, fmt, body, False, self._rest(worker, fmt, deadline))
        except TimeoutError:
            raise QueryFailed(503, f"the query ran past this server's time limit of {self.timeout:g} s "
                                   "and was stopped; simplify it or add a LIMIT") from None
        except (asyncio.IncompleteReadError, OSError):
            raise QueryFailed(500, "the query worker died while running the query (out of memory?)") from None
        finally:
            if owner:  # timed out, died, or the client went away while waiting
                await self._abandon(worker)

    async def _next(self, worker: Worker, deadline: float) -> tuple[bytes, bytes]:
        # A frame already buffered needs no timer; otherwise wait no later than the deadline.
        async with asyncio.timeout_at(deadline):
            return await worker.frame()

    async def _rest(self, worker: Worker, fmt: str, deadline: float) -> AsyncIterator[bytes]:
        done = False
        try:
            while True:
                try:
                    kind, payload = await self._next(worker, deadline)
                except TimeoutError:
                    yield cut_marker(fmt, f"the query ran past this server's time limit of {self.timeout:g} s "
                                          "and was stopped; the result was cut")
                    return
                except asyncio.IncompleteReadError:
                    yield cut_marker(fmt, "the query worker died while writing the result; the result was cut")
                    return
                if kind == b"E":
                    done = True
                    self._release(worker)
                    return
                yield payload
        finally:
            if not done:  # cut, or the client went away: the worker may still be writing
                await self._abandon(worker)

    def _release(self, worker: Worker) -> None:
        self._busy -= 1
        self._idle.put_nowait(worker)
        self._notify()

    async def _abandon(self, worker: Worker) -> None:
        self._busy -= 1
        self.killed += 1
        await self._replace(worker)
        self._notify()

    def _notify(self) -> None:
        if self._open.is_set():
            return  # nobody waits for the pool to go quiet unless an update has closed it

        async def wake() -> None:
            async with self._quiet:
                self._quiet.notify_all()
        asyncio.get_running_loop().create_task(wake())

    async def exclusive(self, action) -> object:
        """Run `action` (a blocking callable) with no worker alive, then start fresh workers.

        Used for SPARQL updates: queries wait, running ones finish (or hit the limit), the
        workers stop, the store changes, and new workers see the new data.
        """
        self._open.clear()
        try:
            async with self._quiet:
                await self._quiet.wait_for(lambda: self._busy == 0)
            for worker in list(self._workers):
                self._kill(worker)
            while not self._idle.empty():
                self._idle.get_nowait()
            return await asyncio.get_running_loop().run_in_executor(None, action)
        finally:
            try:
                if self.view is not None:  # no worker is left to read the old view
                    self.view_path = await asyncio.get_running_loop().run_in_executor(None, self.view)
            finally:
                for _ in range(self.size - len(self._workers)):
                    self._idle.put_nowait(await self._spawn())
                self._open.set()
                if self.after_write is not None:
                    self.after_write()

    async def probe(self) -> str | None:
        """Why a query cannot be answered now, or None when a trivial one was answered."""
        if not self.size or (self._open.is_set() and not self.workers):  # during a write none is, for a moment
            return "no query worker is running"
        return await answers_ask(self.execute, "a query worker gave a wrong answer")
