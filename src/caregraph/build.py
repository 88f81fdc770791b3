"""Build the graph from ontology/: one named graph per Turtle file, with provenance and
the light inferences queries rely on materialised once, never per request."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from caregraph import queries
from caregraph.data_folder import geography_dir
from caregraph.namespaces import CG, DCTERMS, GENID, GRAPH, ID, INFERRED_GRAPH, PROV, PROVENANCE_GRAPH, RDF, XSD
from caregraph.resources import ontology_dir
from caregraph.store import OxigraphStore

VOID_TRIPLES = "http://rdfs.org/ns/void#triples"
# Rules run in this order until nothing new appears: each can feed the others.
_CLOSURE_RULES = ("infer_domain_range", "infer_subproperty", "infer_inverse", "infer_subclass")
_DOMAIN_RULES = ("infer_links", "infer_assignments", "infer_successions", "infer_escalation")


class BuildError(Exception):
    """A source file could not be read; names the file and the line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path, self.line = path, line
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


@dataclass
class BuildReport:
    files: int
    triples: int
    inferred: int
    seconds: float
    reused: bool


def source_files(root: Path) -> list[Path]:
    """The Turtle files the graph is built from, in a stable order."""
    return sorted(root.rglob("*.ttl"))


def sources(root: Path, geography: Path | None = None) -> dict[str, Path]:
    """The Turtle files to build from, by their path under `root`; the files in `geography`
    (a reference geography rebuilt by `caregraph import geography`) stand in for the shipped
    `geography/` files of the same name."""
    files = {path.relative_to(root).as_posix(): path for path in source_files(root)}
    if geography is not None and geography.is_dir():
        files.update({f"geography/{path.name}": path for path in sorted(geography.glob("*.ttl"))})
    return dict(sorted(files.items()))


def graph_name(root: Path, path: Path) -> str:
    return _graph(path.relative_to(root).as_posix())


def _graph(rel: str) -> str:
    return GRAPH + rel.removesuffix(".ttl")


def fingerprint(root: Path, geography: Path | None = None) -> str:
    digest = hashlib.sha256()
    for rel, path in sources(root, geography).items():
        digest.update(rel.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _shown(root: Path, path: Path) -> str:
    """A source file as errors and provenance name it: `ontology/...` for the shipped files."""
    return path.relative_to(root.parent).as_posix() if path.is_relative_to(root) else str(path)


def _parse(root: Path, rel: str, path: Path) -> list[ox.Triple]:
    try:
        triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=_graph(rel)))
    except SyntaxError as exc:
        raise BuildError(_shown(root, path), exc.lineno, str(exc)) from None
    return skolemize(triples, rel.removesuffix(".ttl"))


def skolemize(triples: list[ox.Triple], scope: str) -> list[ox.Triple]:
    """Give every blank node an IRI, so nodes keep their identity across graphs and writes.

    A node hanging off a caregraph resource is named after it
    (`.../duty/ca-s42-enquiry/assignment/1`); any other gets an RDF 1.1 skolem IRI
    (`/.well-known/genid/`), which the reasoner turns back into a blank node.
    """
    names: dict[ox.BlankNode, str] = {}
    counters: dict[tuple[str, str], int] = {}
    changed = True
    while changed:
        changed = False
        for t in triples:
            node, parent = t.object, t.subject
            if not isinstance(node, ox.BlankNode) or node in names:
                continue
            base = names.get(parent) if isinstance(parent, ox.BlankNode) else parent.value
            if base is None or not base.startswith(ID):
                continue
            key = (base, t.predicate.value)
            counters[key] = counters.get(key, 0) + 1
            names[node] = f"{base}/{_local(t.predicate.value)}/{counters[key]}"
            changed = True
    for t in triples:
        for term in (t.subject, t.object):
            if isinstance(term, ox.BlankNode) and term not in names:
                names[term] = f"{GENID}{scope}/{len(names) + 1}"

    def term(x):
        return ox.NamedNode(names[x]) if isinstance(x, ox.BlankNode) else x

    return [ox.Triple(term(t.subject), t.predicate, term(t.object)) for t in triples]


def _local(predicate: str) -> str:
    return predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def infer(staging: ox.Store) -> list[ox.Triple]:
    """Materialise inferences over the parsed sources; returns only the new triples."""
    inferred_graph = ox.NamedNode(INFERRED_GRAPH)

    def run(rule: str) -> int:
        added = 0
        new = [t for t in staging.query(queries.text(rule), use_default_graph_as_union=True)
               if not any(True for _ in staging.quads_for_pattern(t.subject, t.predicate, t.object))]
        for t in new:
            staging.add(ox.Quad(t.subject, t.predicate, t.object, inferred_graph))
            added += 1
        return added

    for rule in _DOMAIN_RULES:
        run(rule)
    while sum(run(rule) for rule in _CLOSURE_RULES):
        pass
    return [q.triple for q in staging.quads_for_pattern(None, None, None, inferred_graph)]


def _provenance(root: Path, graphs: dict[str, tuple[Path, int]], source_print: str) -> list[ox.Triple]:
    def n(value: str) -> ox.NamedNode:
        return ox.NamedNode(value)

    def lit(value: str, dtype: str = XSD + "string") -> ox.Literal:
        return ox.Literal(value, datatype=n(dtype))

    now = lit(dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), XSD + "dateTime")
    prov = n(PROVENANCE_GRAPH)
    out = [ox.Triple(prov, n(CG + "sourceFingerprint"), lit(source_print)),
           ox.Triple(prov, n(PROV + "generatedAtTime"), now)]
    for graph, (path, count) in graphs.items():
        g = n(graph)
        out += [
            ox.Triple(g, n(RDF + "type"), n(PROV + "Entity")),
            ox.Triple(g, n(DCTERMS + "source"), lit(_shown(root, path))),
            ox.Triple(g, n(CG + "sha256"), lit(hashlib.sha256(path.read_bytes()).hexdigest())),
            ox.Triple(g, n(PROV + "generatedAtTime"), now),
            ox.Triple(g, n(VOID_TRIPLES), lit(str(count), XSD + "integer")),
        ]
    inferred = n(INFERRED_GRAPH)
    out += [ox.Triple(inferred, n(RDF + "type"), n(PROV + "Entity")),
            ox.Triple(inferred, n(PROV + "generatedAtTime"), now)]
    return out


def build(store: OxigraphStore, root: Path | None = None, geography: Path | None = None) -> BuildReport:
    """(Re)build the curated graphs in `store` from `root` (with `geography`'s files in place of
    the shipped geography, when given), leaving imported graphs alone.

    Everything is parsed and inferred in a staging store first, so a broken file changes
    nothing; the new graphs then replace the old ones in one transaction.
    """
    started = time.perf_counter()
    root = (root or ontology_dir()).resolve()
    staging = ox.Store()
    parsed: dict[str, tuple[Path, list[ox.Triple]]] = {}
    for rel, path in sources(root, geography).items():
        triples = _parse(root, rel, path)
        graph = _graph(rel)
        parsed[graph] = (path, triples)
        staging.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph)) for t in triples)
    inferred = infer(staging)
    provenance = _provenance(root, {g: (p, len(t)) for g, (p, t) in parsed.items()}, fingerprint(root, geography))

    stale = {row["graph"].value for row in store.select("built_graphs")} - set(parsed)
    parts = [f"DROP SILENT GRAPH <{g}>" for g in sorted(stale)]
    for graph, triples in [*((g, t) for g, (_, t) in parsed.items()),
                           (INFERRED_GRAPH, inferred), (PROVENANCE_GRAPH, provenance)]:
        body = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
        parts.append(f"DROP SILENT GRAPH <{graph}> ;\nINSERT DATA {{ GRAPH <{graph}> {{\n{body}\n}} }}")
    store.update(" ;\n".join(parts))
    store.flush()
    return BuildReport(files=len(parsed), triples=sum(len(t) for _, t in parsed.values()),
                       inferred=len(inferred), seconds=time.perf_counter() - started, reused=False)


def open_store(path: Path | None = None, root: Path | None = None, *, rebuild: bool = False,
               read_only: bool = False) -> tuple[OxigraphStore, BuildReport]:
    """The store, built from the ontology; on disk, reused when the sources are unchanged, and
    built with the reference geography imported for it (beside it) in place of the shipped one."""
    started = time.perf_counter()
    root = (root or ontology_dir()).resolve()
    if read_only:
        if path is None:
            raise ValueError("a read-only store needs a path")
        store = _on_disk(path, read_only=True)
        return store, BuildReport(0, len(store), 0, time.perf_counter() - started, reused=True)
    store = _on_disk(path, read_only=False) if path is not None else OxigraphStore()
    geography = geography_dir(path) if path is not None else None
    if path is not None and not rebuild:
        rows = store.select("build_fingerprint")
        if rows and rows[0]["fingerprint"].value == fingerprint(root, geography):
            return store, BuildReport(0, len(store), 0, time.perf_counter() - started, reused=True)
    return store, build(store, root, geography)


# The embedded store locks its folder, so a process that opens the same store twice (two
# commands run in one process, as the tests do) shares the handle that is still open.
_open_stores: weakref.WeakValueDictionary[tuple[Path, bool], OxigraphStore] = weakref.WeakValueDictionary()


def _on_disk(path: Path, *, read_only: bool) -> OxigraphStore:
    folder = path.resolve()
    store = _open_stores.get((folder, False))
    if (store is None or store.closed) and read_only:
        store = _open_stores.get((folder, True))
    if store is None or store.closed:
        store = OxigraphStore(path, read_only=read_only)
        _open_stores[folder, read_only] = store
    return store
