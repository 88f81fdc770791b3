"""Pushing the graph to a SPARQL server (`caregraph load --to URL`): the curated build and every
import, graph by graph, through the SPARQL 1.1 Graph Store HTTP Protocol.

Each named graph goes in one PUT (`URL?graph=...`, N-Triples), which replaces that graph on
the server in one step: readers there see a graph's old or new content, never half. The
curated graphs go first and their provenance last, so a server reads as holding a caregraph
build only once all of it is there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import httpx
import pyoxigraph as ox

from caregraph.importers.ids import IMPORT_GRAPH
from caregraph.namespaces import PROVENANCE_GRAPH
from caregraph.store import Store

_BATCH = 20_000  # triples serialised at a time: a large import streams instead of sitting in memory twice


class PushFailed(Exception):
    """The server could not be reached or refused a graph; says which and where."""


@dataclass
class Pushed:
    graph: str
    triples: int
    kind: str  # "curated" or "import"


def graph_store_url(text: str) -> str:
    """The Graph Store Protocol endpoint as given (`sparql+http://` is accepted for `http://`)."""
    url = text[len("sparql+"):] if text.lower().startswith("sparql+") else text
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise PushFailed(f"not a URL: {text!r} ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise PushFailed(f"not an http(s) URL with a host: {text!r}; give the server's Graph Store Protocol "
                         "endpoint, e.g. http://127.0.0.1:7878/store (Oxigraph) or http://127.0.0.1:3030/ds/data "
                         "(Fuseki)")
    return url


def _order(graphs: Iterable[str]) -> list[tuple[str, str]]:
    curated = [g for g in graphs if not g.startswith(IMPORT_GRAPH)]
    imports = [g for g in graphs if g.startswith(IMPORT_GRAPH)]
    curated.sort(key=lambda g: (g == PROVENANCE_GRAPH, g))
    return [(g, "curated") for g in curated] + [(g, "import") for g in sorted(imports)]


def _ntriples(triples: Iterator[ox.Triple], counted: list[int]) -> Iterator[bytes]:
    batch: list[ox.Triple] = []
    for triple in triples:
        batch.append(triple)
        if len(batch) == _BATCH:
            counted[0] += len(batch)
            yield ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES)
            batch = []
    counted[0] += len(batch)
    if batch:
        yield ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES)


def push(store: Store, url: str, *, timeout: float = 600.0,
         progress: Callable[[Pushed], None] | None = None) -> list[Pushed]:
    """Replace, on the server whose Graph Store Protocol endpoint is `url`, each of the store's
    named graphs with its content here; returns what was pushed. Graphs the server holds that
    the store does not are left alone."""
    url = graph_store_url(url)
    pushed: list[Pushed] = []
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0)) as client:
        for graph, kind in _order(store.graphs()):
            counted = [0]
            try:
                response = client.put(url, params={"graph": graph}, content=_ntriples(store.triples(graph), counted),
                                      headers={"Content-Type": "application/n-triples"})
            except httpx.TimeoutException:
                raise PushFailed(f"{url} did not answer within {timeout:g} s while taking graph <{graph}>"
                                 + _so_far(pushed)) from None
            except httpx.TransportError as exc:
                raise PushFailed(f"cannot reach the graph store at {url}: {exc or type(exc).__name__}"
                                 + _so_far(pushed)) from None
            if not response.is_success:
                raise PushFailed(f"{url} refused graph <{graph}> with {response.status_code} "
                                 f"{response.reason_phrase}: {response.text.strip()[:300]}" + _so_far(pushed))
            done = Pushed(graph, counted[0], kind)
            pushed.append(done)
            if progress is not None:
                progress(done)
    return pushed


def _so_far(pushed: list[Pushed]) -> str:
    return f" ({len(pushed)} graph(s) were pushed before it)" if pushed else " (nothing was pushed)"


def query_url_for(url: str) -> str:
    """The backend URL of the query endpoint beside a Graph Store Protocol endpoint, for a hint:
    `.../store` (Oxigraph) or `.../data` (Fuseki) -> `sparql+.../query`."""
    parsed = httpx.URL(graph_store_url(url))
    return "sparql+" + str(parsed.copy_with(path=parsed.path.rsplit("/", 1)[0] + "/query", query=None))

