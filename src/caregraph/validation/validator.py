"""validate(): check a graph, or extra data added to the built graph, against SHACL shapes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib

from caregraph.importers import ids
from caregraph.namespaces import PREFIXES
from caregraph.store import OxigraphStore, Store, value
from caregraph.validation import fast_engine, pyshacl_engine
from caregraph.validation.compiler import Compiled, Unsupported, compile_shapes
from caregraph.validation.rdf_input import rdflib_to_triples, read_rdf, triples_to_rdflib
from caregraph.validation.report import SH, LegalBasis, ValidationReport, ValidationResult
from caregraph.validation.scratch import GIVEN_GRAPH, add_as_given, copy_graph, copy_of, curated_store, subset
from caregraph.validation.shapes import InvalidShapes, ShapeSet, load_shapes, refuse_forbidden

ENGINES = ("auto", "fast", "pyshacl")
Data = Store | rdflib.Graph | Path | str | Sequence[Path | str] | Sequence[ox.Triple]

# The CURIEs a focus may be given as: caregraph's prefixes and the linked-record kinds.
FOCUS_PREFIXES = {**PREFIXES, "location": ids.LOCATION, "provider": ids.PROVIDER, "council": ids.COUNCIL,
                  "icb": ids.ICB, "sab": ids.SAB, "healthwatch": ids.HEALTHWATCH, "trust": ids.TRUST}

@dataclass
class Plan:
    """How a shape set is run: the shapes the fast engine compiles, and the shapes graph
    pySHACL runs for the rest (the compiled shapes deactivated in it), or None when no
    shape with a target is left for it."""

    compiled: Compiled
    rest: rdflib.Graph | None

    def refusal(self) -> str:
        """Why the fast engine alone cannot run the shapes ("" when it can)."""
        if not self.compiled.unsupported and self.rest is None:
            return ""
        reasons = sorted(self.compiled.unsupported.values())
        if not reasons:
            return "some shapes are not compiled by the fast engine; use --engine auto or pyshacl"
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        return f"the fast engine does not run every shape: {reasons[0]}{more}; use --engine auto or pyshacl"


_plans: dict[int, tuple[ShapeSet, Plan | InvalidShapes]] = {}
_PLANS_KEPT = 16
_lock = threading.Lock()


def plan(shapes: ShapeSet) -> Plan:
    """The plan for a shape set, made once per loaded set; raises InvalidShapes."""
    with _lock:
        hit = _plans.get(id(shapes))
    if hit is None or hit[0] is not shapes:
        try:
            outcome: Plan | InvalidShapes = _make_plan(shapes)
        except InvalidShapes as exc:
            outcome = exc
        hit = (shapes, outcome)
        with _lock:
            _plans[id(shapes)] = hit
            while len(_plans) > _PLANS_KEPT:  # shape sets made on the fly must not pile up
                del _plans[next(iter(_plans))]
    if isinstance(hit[1], InvalidShapes):
        raise hit[1]
    return hit[1]


def _make_plan(shapes: ShapeSet) -> Plan:
    refuse_forbidden(shapes.graph)
    compiled = compile_shapes(shapes.graph)
    rest = rdflib.Graph()
    rest += shapes.graph
    for shape in compiled.shapes:
        rest.set((shape, rdflib.URIRef(SH + "deactivated"), rdflib.Literal(True)))
    return Plan(compiled, rest if pyshacl_engine.has_targeted_shapes(rest) else None)


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


def _given(data: Data) -> tuple[rdflib.Graph | None, list[ox.Triple]]:
    """Data to add, as triples for the store, and as the rdflib graph it was given as (if
    it was: pySHACL then reads it as parsed)."""
    if isinstance(data, rdflib.Graph):
        return data, rdflib_to_triples(data)
    if isinstance(data, (str, Path)):
        return None, read_rdf(Path(data))
    if data and all(isinstance(t, ox.Triple) for t in data):
        return None, list(data)
    return None, [t for p in data for t in read_rdf(Path(p))]


def _exact(store: OxigraphStore, triples: Sequence[ox.Triple]) -> bool:
    """True when the store holds every literal of `triples` as written: it stores some
    datatypes in canonical form ("01"^^xsd:int as "1"^^xsd:integer), which would change
    what sh:datatype, sh:pattern or sh:in say about them."""
    written = {t.object for t in triples if isinstance(t.object, ox.Literal)}
    held = {q.object for q in store.raw.quads_for_pattern(None, None, None, GIVEN_GRAPH)
            if isinstance(q.object, ox.Literal)}
    return written <= held


def validate(data: Data, *, shapes: Path | str | ShapeSet | None = None, focus: Sequence[str] | None = None,
             engine: str = "auto", base: Store | None = None) -> ValidationReport:
    """Validate `data` against `shapes` (default: caregraph's shapes/).

    `data` is a Store (validated as it is), or data to validate together with `base`
    (default: the curated graph; an empty OxigraphStore validates the data alone): an
    rdflib Graph, triples, or RDF files. Such data is validated as given: not skolemized,
    no inference drawn from it, literals as written. `focus` limits validation to those
    nodes (IRIs or caregraph CURIEs). `engine` is "fast" (compiled queries on the store;
    refuses shapes or data it cannot check exactly), "pyshacl" (the reference) or "auto"
    (the fast engine for the shapes it compiles, pySHACL for the rest). Raises
    UnreadableInput for unreadable files or shapes, ValueError for a bad focus IRI or
    engine, InvalidShapes for shapes no engine may run, Unsupported when "fast" cannot.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    started = time.perf_counter()
    shape_set = shapes if isinstance(shapes, ShapeSet) else load_shapes(shapes)
    how = plan(shape_set)
    focus_iris = [expand_iri(f) for f in focus] if focus else None
    if isinstance(data, Store):
        store = background = data
        given, exact = None, True
    else:
        background = base if base is not None else curated_store()
        given, triples = _given(data)
        store = copy_of(background)
        add_as_given(store, triples)
        exact = _exact(store, triples)
        if given is None and (engine == "pyshacl" or not exact or how.rest is not None):
            given = triples_to_rdflib(triples)
    if engine == "fast":
        if how.refusal():
            raise Unsupported(how.refusal())
        if not exact:
            raise Unsupported('the data has literals the store would rewrite (such as "01"^^xsd:int, held as '
                              '"1"^^xsd:integer); use --engine auto or pyshacl')
    checks = how.compiled.checks if engine != "pyshacl" and exact else []
    reference = shape_set.graph if engine == "pyshacl" or not exact else how.rest
    results = []
    if checks:
        results += _merged([fast_engine.run(dataset, checks, focus_iris)
                            for dataset in snapshots(store, focus_iris)])
    if reference is not None:
        runs = []
        for dataset in snapshots(background, focus_iris):
            graph = pyshacl_engine.data_graph(dataset)
            if given is not None:
                graph += given
            on_disk = isinstance(background, OxigraphStore) and background.path is not None
            runs.append(pyshacl_engine.validate_graph(graph, reference, focus_iris, release_store=on_disk))
        results += _merged(runs)
    ran = [name for name, did in (("fast", bool(checks) or engine == "fast"), ("pyshacl", reference is not None))
           if did]
    results.sort(key=lambda r: tuple("" if x is None else x for x in r.key()))
    _add_context(store, results)
    missing = _not_found(store, focus_iris) if focus_iris else []
    # Counting a large store takes a while; a focus check, meant to be quick, skips it.
    count = None if focus_iris else len(store)
    return ValidationReport(results, "+".join(ran) or engine, shape_set.name, count,
                            time.perf_counter() - started, focus_iris, missing,
                            _details(results, shape_set.graph, given))


def _details(results: list[ValidationResult], shapes: rdflib.Graph, given: rdflib.Graph | None) -> list[ox.Triple]:
    """The description of each blank node a result names: from the shapes for shapes and
    paths, from the data as given for focus nodes and values (as pySHACL's report has them)."""
    graph = rdflib.Graph()
    for r in results:
        for text in (r.source_shape, r.result_path, r.source_constraint):
            if text and text.startswith("_:"):
                graph += shapes.cbd(rdflib.BNode(text[2:]))
        if given is not None:
            for node in (r.focus_node if r.focus_literal is None else None, r.value):
                if isinstance(node, str) and node.startswith("_:"):
                    graph += given.cbd(rdflib.BNode(node[2:]))
                elif isinstance(node, ox.BlankNode):
                    graph += given.cbd(rdflib.BNode(node.value))
    return rdflib_to_triples(graph)


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


def _merged(runs: list[list[ValidationResult]]) -> list[ValidationResult]:
    """The results of one engine over several snapshots: a finding in the graphs every
    snapshot shares is found in each, but is one finding. (Within one run, two results
    alike are two findings: two sh:class constraints of one shape, say.)"""
    most: dict[tuple, list[ValidationResult]] = {}
    for run in runs:
        alike: dict[tuple, list[ValidationResult]] = {}
        for r in run:
            alike.setdefault(r.key(), []).append(r)
        for key, found in alike.items():
            if len(found) > len(most.get(key, [])):
                most[key] = found
    return [r for found in most.values() for r in found]


def _add_context(store: Store, results: list[ValidationResult]) -> None:
    nodes = sorted({r.focus_node for r in results if r.focus_literal is None and not r.focus_node.startswith("_:")})
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
