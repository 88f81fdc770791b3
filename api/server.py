"""`caregraph serve`: the HTTP API with uvicorn over the embedded store, or over a SPARQL
server shared by several replicas (--backend sparql+http://...).

Without --store the graph is built in memory at start; with --store PATH it is built on
disk the first time and reopened after. One worker process (the default) serves with the
store opened read-write only when an update token is configured. With --workers N > 1
each process opens the on-disk store read-only (or builds its own in memory), so
SPARQL updates need --workers 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from caregraph.api.app import create_app
from caregraph.api.limits import LimitedHTTPProtocol
from caregraph.api.settings import Settings
from caregraph.build import BuildError, open_store
from caregraph.store import StoreError, StoreUnavailable, is_endpoint, open_endpoint

EXIT_OK, EXIT_USAGE = 0, 2
HTTP_PROTOCOL = "caregraph.api.server:NoDelayHTTPProtocol"


class NoDelayHTTPProtocol(LimitedHTTPProtocol):
    """uvicorn's HTTP/1.1 protocol, with limits.py's limits, Nagle's algorithm off on every
    connection, and a response's head and body sent together.

    With --workers N uvicorn binds the listening socket itself with protocol number 0, and
    asyncio then leaves TCP_NODELAY unset on the connections it accepts: a response written
    as head and then body waited for the client's delayed ACK, some 40 ms a request.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(CoalescingTransport(transport))


class CoalescingTransport:
    """A transport whose small writes wait for the end of the event loop's turn and leave in
    one send: uvicorn writes a response's head and its body separately, which was two system
    calls, and two wake-ups of the client, for every small answer (a third of the serving
    process's time on SPARQL lookups). Anything large, and closing, sends what is waiting first."""

    SMALL = 65536

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._waiting: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        if self._size + len(data) > self.SMALL:
            self.flush()
            self._transport.write(data)
            return
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self.flush)
        self._waiting.append(data)
        self._size += len(data)

    def flush(self) -> None:
        if self._waiting:
            data = b"".join(self._waiting)
            self._waiting.clear()
            self._size = 0
            if not self._transport.is_closing():
                self._transport.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def get_write_buffer_size(self) -> int:
        return self._size + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str):  # everything else is the transport's own
        return getattr(self._transport, name)


def _open(path: Path | None, read_only: bool):
    if path is None:
        store, _ = open_store()
        return store
    if read_only:
        # Build or refresh on disk first (needs write access), then reopen read-only.
        built, _ = open_store(path)
        built.close()  # its write lock must go before readers can share the store
    store, _ = open_store(path, read_only=read_only)
    return store


def app_from_env() -> FastAPI:
    """The application for each of several uvicorn worker processes (--workers N)."""
    path = os.environ.get("CAREGRAPH_STORE")
    store_path = Path(path) if path and not is_endpoint(path) else None
    if path and is_endpoint(path):
        store = open_endpoint(path)
    elif store_path is not None:
        store, _ = open_store(store_path, read_only=True)
    else:
        store, _ = open_store()
    return create_app(store, Settings.from_env())


def _serve_remote(args: argparse.Namespace, url: str, settings: Settings, out) -> int:
    """Serve over a SPARQL server shared with other replicas: nothing is built or kept here."""
    if settings.update_token:
        print("caregraph serve: with --backend, SPARQL updates go to the SPARQL server itself, not through "
              "caregraph: unset CAREGRAPH_UPDATE_TOKEN", file=out)
        return EXIT_USAGE
    try:
        store = open_endpoint(url)
    except StoreError as exc:
        print(f"caregraph serve: {exc}", file=out)
        return EXIT_USAGE
    print(f"caregraph: serving the graph in {store.query_url} on http://{args.host}:{args.port}"
          + (f" with {args.workers} workers" if args.workers > 1 else ""), file=out)
    print(f"caregraph: for the pages, open http://{args.host}:{args.port}/ in a browser", file=out, flush=True)
    if args.workers > 1:
        os.environ["CAREGRAPH_STORE"] = url
        uvicorn.run("caregraph.api.server:app_from_env", factory=True, host=args.host, port=args.port,
                    workers=args.workers, http=HTTP_PROTOCOL, log_level="warning")
    else:
        uvicorn.run(create_app(store, settings), host=args.host, port=args.port, http=HTTP_PROTOCOL,
                    log_level="warning")
    return EXIT_OK


def run_cli(args: argparse.Namespace, out) -> int:
    path = Path(args.store) if args.store else None
    settings = Settings.from_env()
    backend = getattr(args, "backend", None)
    if backend:
        return _serve_remote(args, backend, settings, out)
    if args.workers < 1:
        print("caregraph serve: --workers must be 1 or more", file=out)
        return EXIT_USAGE
    if args.workers > 1 and settings.update_token:
        print("caregraph serve: SPARQL updates (CAREGRAPH_UPDATE_TOKEN) need --workers 1, so that every "
              "process sees each change", file=out)
        return EXIT_USAGE
    try:
        if args.workers > 1:
            if path is not None:
                _open(path, read_only=True)  # built once here, then opened read-only by every worker
                os.environ["CAREGRAPH_STORE"] = str(path)
            else:
                os.environ.pop("CAREGRAPH_STORE", None)
            print(f"caregraph: serving on http://{args.host}:{args.port} with {args.workers} workers", file=out)
            print(f"caregraph: for the pages, open http://{args.host}:{args.port}/ in a browser", file=out, flush=True)
            uvicorn.run("caregraph.api.server:app_from_env", factory=True, host=args.host, port=args.port,
                        workers=args.workers, http=HTTP_PROTOCOL, log_level="warning")
            return EXIT_OK
        store = _open(path, read_only=path is not None and not settings.update_token)
    except BuildError as exc:
        print(f"caregraph serve: the knowledge does not build: {exc}", file=out)
        return EXIT_USAGE
    except StoreUnavailable as exc:
        print(f"caregraph serve: {exc}", file=out)
        return EXIT_USAGE
    except OSError as exc:
        print(f"caregraph serve: cannot open the store at {path}: {exc}", file=out)
        return EXIT_USAGE
    app = create_app(store, settings)
    print(f"caregraph: serving {len(store)} quads on http://{args.host}:{args.port}", file=out)
    print(f"caregraph: for the pages, open http://{args.host}:{args.port}/ in a browser", file=out, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, http=HTTP_PROTOCOL, log_level="warning")
    return EXIT_OK
