"""The shapes to validate against: a folder of Turtle files (caregraph's own by default) or one file."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import rdflib

from caregraph.resources import shapes_dir
from caregraph.validation.rdf_input import UnreadableInput, read_rdf, triples_to_rdflib


@dataclass(frozen=True)
class ShapeSet:
    """Shapes parsed once, with the files they came from."""

    source: Path
    files: tuple[Path, ...]
    graph: rdflib.Graph

    @property
    def name(self) -> str:
        return str(self.source)


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
    source = Path(source) if source is not None else shapes_dir()
    files = shape_files(source)
    if not files:
        raise UnreadableInput(str(source), None, "no shapes (*.ttl files) in this folder")
    key = (source.resolve(), tuple((f, f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    graph = rdflib.Graph()
    for path in files:
        triples_to_rdflib(read_rdf(path), graph)
    loaded = ShapeSet(source, tuple(files), graph)
    with _lock:
        _cache[key] = loaded
    return loaded
