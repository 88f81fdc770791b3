"""What a store holds: the curated build and each import (from the provenance the builder and
the importers write), and removing one import with its provenance in one transaction."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from caregraph.importers.ids import IMPORT_GRAPH
from caregraph.store import OxigraphStore, Store, iri, value


class UnknownImport(Exception):
    """No import in the store answers to the name given; the message lists those that do."""


@dataclass
class Import:
    id: str                 # the graph name after `.../graph/import/`, e.g. `cqc-export/HSCA_Active_Locations`
    graph: str
    source: str             # the file or folder imported
    as_of: str | None       # the date the source describes
    sha256: str | None
    rows_read: int | None
    rows_linked: int | None
    rows_skipped: int | None
    triples: int
    imported: str | None    # when the import was committed (UTC)


@dataclass
class Build:
    built: str | None
    fingerprint: str | None
    graphs: int
    triples: int
    geography: str | None   # the file the councils came from: shipped, or imported with `import geography`


def imports(store: Store) -> list[Import]:
    """Every import in the store, in graph order."""
    found = []
    for row in store.select("store_imports"):
        graph = row["graph"].value
        found.append(Import(
            id=graph.removeprefix(IMPORT_GRAPH), graph=graph, source=str(value(row["source"])),
            as_of=_text(row["asOf"]), sha256=_text(row["sha256"]), rows_read=_int(row["rowsRead"]),
            rows_linked=_int(row["rowsLinked"]), rows_skipped=_int(row["rowsSkipped"]),
            triples=int(row["triples"].value), imported=_text(row["imported"])))
    return found


def build(store: Store) -> Build:
    """The curated build: when, from which sources (by fingerprint), how many graphs and triples."""
    rows = store.select("store_build")
    geography = next((str(value(r["source"])) for r in rows if r["graph"].value.endswith("/geography/councils")),
                     None)
    return Build(built=_text(rows[0]["built"]) if rows else None,
                 fingerprint=_text(rows[0]["fingerprint"]) if rows else None,
                 graphs=len(rows), triples=sum(int(r["triples"].value) for r in rows), geography=geography)


def describe(store: Store) -> dict:
    """The curated build and every import, as JSON."""
    return {"quads": len(store), "build": asdict(build(store)), "imports": [asdict(i) for i in imports(store)]}


def find(store: Store, name: str) -> Import:
    """The import named by its id (`cqc-export/HSCA_Active_Locations`), graph IRI or source file name."""
    known = imports(store)
    matches = [i for i in known if name in (i.id, i.graph)] or [i for i in known if i.source == name]
    if len(matches) == 1:
        return matches[0]
    listed = "; ".join(f"{i.id} (from {i.source})" for i in known) or "none: the store holds no imports"
    if matches:
        raise UnknownImport(f"{name!r} names {len(matches)} imports; give one id: {listed}")
    raise UnknownImport(f"no import {name!r} in this store. Imports: {listed}")


def remove(store: Store, name: str) -> Import:
    """Drop one import: its graph and every statement about it, in one transaction."""
    found = find(store, name)
    graph = iri(found.graph)
    store.update(f"DROP SILENT GRAPH {graph} ;\nDELETE WHERE {{ GRAPH ?g {{ {graph} ?p ?o }} }}")
    if isinstance(store, OxigraphStore):
        store.flush()
    return found


def _text(term) -> str | None:
    return None if term is None else term.value


def _int(term) -> int | None:
    return None if term is None else int(term.value)
