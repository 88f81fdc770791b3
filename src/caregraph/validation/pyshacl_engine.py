"""The reference engine: pySHACL over an in-memory rdflib copy of the graph.

Every faster path must give the same results as this one on the manifest tests. It is far
too slow for the England-scale graph (ENGINES.md), so caregraph runs it on small graphs,
on shapes the fast engine cannot compile, and when asked for by name.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence

import pyparsing
import pyshacl
import rdflib
from pyshacl.errors import ReportableRuntimeError
from pyshacl.shapes_graph import ShapesGraph

from caregraph.store import Store
from caregraph.validation.rdf_input import from_rdflib, to_rdflib
from caregraph.validation.report import SH, ValidationResult
from caregraph.validation.shapes import InvalidShapes

_SH = rdflib.Namespace(SH)


def data_graph(store: Store) -> rdflib.Graph:
    """The union of the store's graphs as one rdflib graph (pySHACL would otherwise validate
    each named graph of a dataset on its own)."""
    graph = rdflib.Graph()
    for row in store.query("SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o }"):
        graph.add((to_rdflib(row["s"]), to_rdflib(row["p"]), to_rdflib(row["o"])))
    return graph


def has_targeted_shapes(shapes: rdflib.Graph) -> bool:
    """Whether pySHACL finds any active shape with a target in `shapes` (read from a copy:
    pySHACL adds its own triples to the graph it reads). Raises InvalidShapes."""
    copy = rdflib.Graph()
    copy += shapes
    try:
        found = ShapesGraph(copy).shapes
    except ReportableRuntimeError as exc:
        raise InvalidShapes(f"the shapes are not well-formed SHACL: {exc.message}") from None
    return any(not s.deactivated and (any(True for t in s.target() for _ in t)
                                         or (s.node, _SH.target, None) in copy)
               for s in found)


def validate_graph(graph: rdflib.Graph, shapes: rdflib.Graph, focus: Sequence[str] | None = None,
                   release_store: bool = False) -> list[ValidationResult]:
    """pySHACL's results for an rdflib graph (the union data_graph makes of a store, or the
    data as given); raises InvalidShapes when pySHACL cannot use the shapes."""
    try:
        _, report, _ = pyshacl.validate(graph, shacl_graph=shapes, inference="none",
                                        advanced=True, focus_nodes=list(focus) if focus else None,
                                        allow_warnings=False)
    except ReportableRuntimeError as exc:
        raise InvalidShapes(f"the shapes cannot be used: {exc.message}") from None
    except NotImplementedError as exc:
        raise InvalidShapes(f"the shapes use what pySHACL does not implement: {exc}") from None
    except pyparsing.ParseException as exc:
        raise InvalidShapes(f"a query in the shapes is not valid SPARQL: {exc.msg} (line {exc.lineno}, "
                            f"column {exc.col})") from None
    except Exception as exc:  # noqa: BLE001 - rdflib's SPARQL engine raises bare Exceptions ("Unknown namespace prefix")
        if type(exc) is not Exception:
            raise
        raise InvalidShapes(f"a query in the shapes cannot be run: {exc}") from None
    finally:
        # rdflib's SPARQL parser (pyparsing, packrat mode) caches parse exceptions, and their
        # tracebacks, with the rest of pySHACL's reference cycles, keep every calling frame
        # alive, the store among them: an on-disk store would stay locked until the garbage
        # collector happened to run. A full collection holds every thread for a quarter of a
        # second or more, so it runs only when an on-disk store is in play.
        pyparsing.ParserElement.reset_cache()
        if release_store:
            gc.collect()
    if isinstance(report, Exception):  # pySHACL returns a ValidationFailure rather than raising it
        raise InvalidShapes(f"the shapes cannot be used: {getattr(report, 'message', report)}")
    # Only the report's own results: nested ones (sh:detail) explain a result, they are not results.
    return [_result(report, node) for top in report.subjects(rdflib.RDF.type, _SH.ValidationReport)
            for node in report.objects(top, _SH.result)]


def _text(term: rdflib.term.Node | None) -> str | None:
    if term is None:
        return None
    return f"_:{term}" if isinstance(term, rdflib.BNode) else str(term)


def _result(report: rdflib.Graph, node: rdflib.term.Node) -> ValidationResult:
    def one(predicate: rdflib.URIRef) -> rdflib.term.Node | None:
        return next(iter(report.objects(node, predicate)), None)

    value = one(_SH.value)
    focus = one(_SH.focusNode)
    literals = sorted(report.objects(node, _SH.resultMessage))
    messages = [str(m) for m in literals]
    return ValidationResult(
        focus_node=_text(focus),
        focus_literal=from_rdflib(focus) if isinstance(focus, rdflib.Literal) else None,
        message_literals=[from_rdflib(m) for m in literals],
        result_path=_text(one(_SH.resultPath)),
        value=from_rdflib(value) if value is not None else None,
        message=" ".join(sorted(messages)),
        severity=str(one(_SH.resultSeverity)),
        source_shape=_text(one(_SH.sourceShape)),
        source_constraint_component=str(one(_SH.sourceConstraintComponent)),
        source_constraint=_text(one(_SH.sourceConstraint)),
    )
