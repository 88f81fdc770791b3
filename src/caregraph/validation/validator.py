"""validate(): check a graph, or extra data added to the built graph, against SHACL shapes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox
import rdflib

from caregraph.importers import ids
from caregraph.namespaces import PREFIXES
from caregraph.store import Store, value
from caregraph.validation import fast_engine, pyshacl_engine
from caregraph.validation.compiler import Check, Unsupported, compile_shapes
from caregraph.validation.rdf_input import rdflib_to_triples, read_rdf
from caregraph.validation.report import LegalBasis, ValidationReport, ValidationResult
from caregraph.validation.scratch import copy_graph, curated_store, subset, with_additions
from caregraph.validation.shapes import ShapeSet, load_shapes

ENGINES = ("auto", "fast", "pyshacl")
Data = Store | rdflib.Graph | Path | str | Sequence[Path | str] | Sequence[ox.Triple]

# The CURIEs a focus may be given as: caregraph's prefixes and the linked-record kinds.
FOCUS_PREFIXES = {**PREFIXES, "location": ids.LOCATION, "provider": ids.PROVIDER, "council": ids.COUNCIL,
                  "icb": ids.ICB, "sab": ids.SAB, "healthwatch": ids.HEALTHWATCH, "trust": ids.TRUST}

_compiled: dict[int, tuple[ShapeSet, list[Check] | Unsupported]] = {}
_lock = threading.Lock()


def compiled(shapes: ShapeSet) -> list[Check]:
    """The shapes compiled for the fast engine, once per loaded shape set; raises Unsupported."""
    with _lock:
        hit = _compiled.get(id(shapes))
    if hit is None or hit[0] is not shapes:
        try:
            outcome: list[Check] | Unsupported = compile_shapes(shapes.graph)
        except Unsupported as exc:
            outcome = exc
        hit = (shapes, outcome)
        with _lock:
            _compiled[id(shapes)] = hit
    if isinstance(hit[1], Unsupported):
        raise hit[1]
    return hit[1]


def expand_iri(text: str) -> str:
    """A full IRI from an IRI or a caregraph CURIE (actor:cqc, duty:ca-s42-enquiry,
    location:1-108565934); raises ValueError."""
    prefix, sep, local = text.partition(":")
    if sep and prefix in FOCUS_PREFIXES and not local.startswith("//"):
        text = FOCUS_PREFIXES[prefix] + local
    try:
        return ox.NamedNode(text).value
    except ValueError:
        raise ValueError(f"not an IRI: {text!r}") from None


def _store_for(data: Data, base: Store | None) -> Store:
    if isinstance(data, Store):
        return data
    if isinstance(data, rdflib.Graph):
        additions = [("data", rdflib_to_triples(data))]
    elif isinstance(data, (str, Path)):
        additions = [(Path(data).name, read_rdf(Path(data)))]
    elif data and all(isinstance(t, ox.Triple) for t in data):
        additions = [("data", list(data))]
    else:
        additions = [(Path(p).name, read_rdf(Path(p))) for p in data]
    return with_additions(base if base is not None else curated_store(), additions)


def validate(data: Data, *, shapes: Path | str | ShapeSet | None = None, focus: Sequence[str] | None = None,
             engine: str = "auto", base: Store | None = None) -> ValidationReport:
    """Validate `data` against `shapes` (default: caregraph's shapes/).

    `data` is a Store (validated as it is), or extra data to add to a scratch copy of
    `base` (default: the curated graph): an rdflib Graph, triples, or RDF files. `focus`
    limits validation to those nodes (IRIs or caregraph CURIEs). `engine` is "fast"
    (compiled queries on the store), "pyshacl" (the reference) or "auto" (fast when every
    shape compiles, else pySHACL). Raises UnreadableInput for unreadable files or shapes,
    ValueError for a bad focus IRI or engine, Unsupported when "fast" cannot run the shapes.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    started = time.perf_counter()
    shape_set = shapes if isinstance(shapes, ShapeSet) else load_shapes(shapes)
    focus_iris = [expand_iri(f) for f in focus] if focus else None
    store = _store_for(data, base)
    used = engine
    if engine in ("auto", "fast"):
        try:
            checks = compiled(shape_set)
            used = "fast"
        except Unsupported:
            if engine == "fast":
                raise
            used = "pyshacl"
    results = []
    for dataset in snapshots(store, focus_iris):
        if used == "fast":
            results += fast_engine.run(dataset, checks, focus_iris)
        else:
            results += pyshacl_engine.run(dataset, shape_set, focus_iris)
    results = _distinct(results)
    _add_context(store, results)
    missing = _not_found(store, focus_iris) if focus_iris else []
    # Counting a large store takes a while; a focus check, meant to be quick, skips it.
    triples = None if focus_iris else len(store)
    return ValidationReport(results, used, shape_set.name, triples, time.perf_counter() - started,
                            focus_iris, missing)


def snapshots(store: Store, focus: Sequence[str] | None = None) -> Iterator[Store]:
    """The datasets to validate: the store itself, or, when several of its imports bear on
    what is checked, one copy per import with every graph that is not an import. Each
    import is a register as of its own date, so a home that changed council or provider
    between two imports is right in each, where their union would give it two councils."""
    names = store.graphs()
    imports = [g for g in names if g.startswith(ids.IMPORT_GRAPH)]
    if focus and len(imports) > 1:
        about = {row["graph"].value for row in store.select(
            "validate_focus_graphs", [{"node": ox.NamedNode(f)} for f in focus])}
        imports = [g for g in imports if g in about]
    if len(imports) < 2:
        yield store
        return
    # The shared graphs are copied once (0.5 s for the curated graph on disk); each import
    # is added to them in turn and taken out again.
    dataset = subset(store, [g for g in names if not g.startswith(ids.IMPORT_GRAPH)])
    for graph in imports:
        copy_graph(store, graph, dataset)
        yield dataset
        dataset.raw.remove_graph(ox.NamedNode(graph))
        dataset.generation += 1


def _distinct(results: list[ValidationResult]) -> list[ValidationResult]:
    unique = {r.key(): r for r in results}
    return [unique[k] for k in sorted(unique, key=lambda k: tuple("" if x is None else x for x in k))]


def _add_context(store: Store, results: list[ValidationResult]) -> None:
    nodes = sorted({r.focus_node for r in results if not r.focus_node.startswith("_:")})
    if not nodes:
        return
    labels: dict[str, str] = {}
    bases: dict[str, dict[str, LegalBasis]] = {}
    for row in store.select("validate_focus_context", [{"node": ox.NamedNode(n)} for n in nodes]):
        node = row["node"].value
        if row["label"] is not None:
            label = value(row["label"])
            labels[node] = min(label, labels.get(node, label))  # one name, the same every run
        if row["basis"] is not None:
            uri = row["basis"].value
            bases.setdefault(node, {})[uri] = LegalBasis(uri, value(row["basisLabel"]))
    for r in results:
        r.focus_label = labels.get(r.focus_node)
        r.legal_basis = sorted(bases.get(r.focus_node, {}).values(), key=lambda b: b.uri)


def _not_found(store: Store, iris: list[str]) -> list[str]:
    found = {row["node"].value for row in store.select("validate_known_nodes",
                                                        [{"node": ox.NamedNode(i)} for i in iris])}
    return [i for i in iris if i not in found]
