"""The shapes to validate against: a folder of Turtle files (caregraph's own by default) or one file."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import rdflib

from caregraph.resources import shapes_dir
from caregraph.validation.rdf_input import UnreadableInput, read_rdf, triples_to_rdflib
from caregraph.validation.report import SH
from caregraph.validation.sparql_checks import forbidden

# Where a shapes graph holds SPARQL text.
_QUERY_PREDICATES = tuple(rdflib.URIRef(SH + p) for p in ("select", "ask", "construct", "update"))


class InvalidShapes(ValueError):
    """Shapes that neither engine may run: SHACL-SPARQL the specification forbids, a
    federated query, or a shapes graph pySHACL finds ill-formed."""


@dataclass(frozen=True)
class ShapeSet:
    """Shapes parsed once, with the files they came from and the name a report gives them:
    the path as the user gave it, or "caregraph" for caregraph's own (a report never tells
    a client where caregraph is installed)."""

    source: Path
    files: tuple[Path, ...]
    graph: rdflib.Graph
    name: str = "shapes"


def refuse_forbidden(graph: rdflib.Graph) -> None:
    """Raise InvalidShapes if any query in the shapes is one SHACL or caregraph forbids."""
    for predicate in _QUERY_PREDICATES:
        for node, text in graph.subject_objects(predicate):
            reason = forbidden(str(text))
            if reason:
                where = f"_:{node}" if isinstance(node, rdflib.BNode) else str(node)
                raise InvalidShapes(f"the query of {where} cannot be run: {reason}")


_cache: dict[tuple, ShapeSet] = {}
_lock = threading.Lock()


def shape_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if source.is_dir():
        return sorted(source.glob("*.ttl"))
    raise UnreadableInput(str(source), None, "no such shapes file or folder")


def load_shapes(source: Path | str | None = None) -> ShapeSet:
    """The shapes in `source` (a folder of *.ttl or one file; default caregraph's shapes/).

    Parsed with the store's parser, so a broken file is reported with its line; kept until a
    file changes, so a server validating many requests parses them once.
    """
    name = str(source) if source is not None else "caregraph"
    source = Path(source) if source is not None else shapes_dir()
    files = shape_files(source)
    if not files:
        raise UnreadableInput(str(source), None, "no shapes (*.ttl files) in this folder")
    key = (name, source.resolve(), tuple((f, f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    graph = rdflib.Graph()
    for path in files:
        triples_to_rdflib(read_rdf(path), graph)
    loaded = ShapeSet(source, tuple(files), graph, name)
    with _lock:
        _cache[key] = loaded
    return loaded
