"""One store interface, two backends: the embedded pyoxigraph store and any SPARQL 1.1 endpoint.

Callers use named queries (`select`, `ask`, `construct`) and whole-graph replacement;
both backends answer them with the same SPARQL text, reading the default graph as the
union of all named graphs (configure a remote endpoint that way, e.g. Fuseki's
`unionDefaultGraph` or `oxigraph serve --union-default-graph`).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import io
import os
import re
import shutil
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TypeVar

import httpx
import pyoxigraph as ox

from caregraph import queries
from caregraph.namespaces import GRAPH, XSD

T = TypeVar("T")
Term = ox.NamedNode | ox.BlankNode | ox.Literal
Solution = dict[str, "Term | None"]

FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


# Where imports keep their records, one named graph each (`importers.ids.IMPORT_GRAPH`).
IMPORT_GRAPHS = GRAPH + "import/"


class StoreError(Exception):
    """A store could not answer or change, with the reason."""


class StoreUnavailable(StoreError, OSError):
    """An on-disk store that cannot be opened as asked: missing, not a folder, or in use by another process."""


def value(term: Term | None) -> object:
    """A Python value for an RDF term: str for IRIs and text, date, int, float or bool."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        dtype = term.datatype.value
        try:
            if dtype == XSD + "date":
                return dt.date.fromisoformat(term.value)
            if dtype in (XSD + "integer", XSD + "int", XSD + "long"):
                return int(term.value)
            if dtype in (XSD + "decimal", XSD + "double", XSD + "float"):
                return float(term.value)
            if dtype == XSD + "boolean":
                return term.value in ("true", "1")
        except ValueError:
            return term.value
        return term.value
    return term.value


def iri(text: str) -> ox.NamedNode:
    """A validated IRI term; raises ValueError on text that is not an IRI."""
    return ox.NamedNode(text)


def date_literal(day: dt.date) -> ox.Literal:
    return ox.Literal(day.isoformat(), datatype=ox.NamedNode(XSD + "date"))


class Store(ABC):
    """What caregraph needs from an RDF store."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, object]] = {}
        self._building: dict[str, threading.RLock] = {}
        self._building_lock = threading.Lock()
        self._scope = threading.local()
        # The generation of the last write that may have changed the curated knowledge.
        self._knowledge = 0
        self.generation = 0

    # Bumped on every write (`generation += 1`) so derived values know to refresh. A write
    # made inside `writing_records` leaves the curated knowledge as it was; any other write
    # may have changed it (a rebuild, a SPARQL update to any graph).
    @property
    def generation(self) -> int:
        return self._generation

    @generation.setter
    def generation(self, number: int) -> None:
        self._generation = number
        if not getattr(self._scope, "records", False):
            self._knowledge = number
            self._knowledge_written()

    def _knowledge_written(self) -> None:
        """Called on every write that may have changed the curated knowledge."""

    @property
    def reading_knowledge(self) -> bool:
        """Whether this thread's reads are for a value derived from the knowledge alone (see `cached`)."""
        return getattr(self._scope, "knowledge", False)

    @contextmanager
    def knowledge_reads(self, knowledge: bool = True) -> Iterator[None]:
        """Reads made in this block on this thread are for a value derived from the curated
        knowledge alone (with `knowledge`) or from the whole store (without): the embedded store
        on disk answers the first from its copy of the knowledge (see `OxigraphStore`)."""
        outer = self.reading_knowledge
        self._scope.knowledge = knowledge
        try:
            yield
        finally:
            self._scope.knowledge = outer

    @contextmanager
    def writing_records(self, graph: str) -> Iterator[None]:
        """Writes made in this block on this thread change only `graph`, a named graph of
        imported records (`.../graph/import/...`). Records link places and providers to the
        knowledge but never describe its duties, routes, themes or words, so values derived
        from the knowledge alone (`cached(..., knowledge=True)`) survive these writes."""
        if not graph.startswith(IMPORT_GRAPHS):
            raise ValueError(f"{graph} is not a graph of imported records (under {IMPORT_GRAPHS})")
        self._scope.records = True
        try:
            yield
        finally:
            self._scope.records = False

    def cached(self, key: str, factory: Callable[[], T], *, knowledge: bool = False) -> T:
        """A value derived from the store's content, rebuilt only after a write; with
        `knowledge`, a value derived from the curated knowledge alone, rebuilt only after a
        write that may have changed the knowledge (an import of records does not: on the
        England-scale store that kept about a second of reads off the first answer after one).

        Built once however many threads ask at the same time: the first builds, the others
        wait for it (ten requests after a write each rebuilt the same 4 s index before).
        """
        hit = self._cache.get(key)
        if hit is not None and hit[0] == (self._knowledge if knowledge else self._generation):
            return hit[1]  # type: ignore[return-value]
        with self._building_lock:
            lock = self._building.setdefault(key, threading.RLock())
        with lock:
            # A write during the build makes the result stale, not wrong.
            generation = self._knowledge if knowledge else self._generation
            hit = self._cache.get(key)
            if hit is None or hit[0] != generation:
                # A value of the knowledge alone may be read from a copy of it; a value of the
                # whole store never is, even when asked for while another value is being built.
                with self.knowledge_reads(knowledge):
                    hit = (generation, factory())
                self._cache[key] = hit
        return hit[1]  # type: ignore[return-value]

    # -- queries -------------------------------------------------------------
    @abstractmethod
    def query(self, sparql: str) -> object:
        """Run SPARQL text over the union of all graphs; returns the backend's raw result."""

    def select(self, name: str, rows: Sequence[queries.Row] | None = None) -> list[Solution]:
        """Run a named SELECT query with optional VALUES rows."""
        result = self.query(queries.render(queries.text(name), rows))
        variables = [v.value for v in result.variables]
        if isinstance(result, ox.QuerySolutions):
            # A solution yields its terms in the variables' order: less than half the time of
            # looking each up by name, over the 14,000 rows of the duty index.
            return [dict(zip(variables, sol)) for sol in result]
        return [{v: sol[v] for v in variables} for sol in result]

    def select_text(self, name: str, columns: Sequence[str]) -> list[tuple[str | None, ...]]:
        """A named SELECT's rows as the text of the terms bound to `columns` (an IRI's, a
        literal's lexical form; None when unbound): for reads of many rows that need only text.
        The 14,000 rows of the duty index take about half the time they take as terms."""
        result = self.query(queries.text(name))
        if not isinstance(result, ox.QuerySolutions):
            return [tuple(None if row[c] is None else row[c].value for c in columns) for row in result]
        variables = [v.value for v in result.variables]
        at = [variables.index(c) for c in columns]
        return [tuple(None if term is None else term.value for term in (sol[i] for i in at)) for sol in result]

    def select_grouped(self, name: str, variable: str, iris: Iterable[str]) -> dict[str, list[Solution]]:
        """A named SELECT run once for all the given IRIs (bound to `variable`), its rows
        grouped by that IRI in result order; an IRI with no rows gets an empty list."""
        grouped: dict[str, list[Solution]] = {i: [] for i in iris}
        for row in self.select(name, [{variable: iri(i)} for i in grouped]):
            grouped[row[variable].value].append(row)
        return grouped

    def ask(self, name: str, rows: Sequence[queries.Row] | None = None) -> bool:
        return bool(self.query(queries.render(queries.text(name), rows)))

    def construct(self, name: str, rows: Sequence[queries.Row] | None = None) -> list[ox.Triple]:
        return list(self.query(queries.render(queries.text(name), rows)))

    # -- writes --------------------------------------------------------------
    @abstractmethod
    def update(self, sparql: str) -> None:
        """Run a SPARQL update as one transaction."""

    @abstractmethod
    def replace_graph(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        """Replace a named graph's content in one step: readers see old or new, never half."""

    @abstractmethod
    def graphs(self) -> list[str]:
        """The names of the named graphs."""

    @abstractmethod
    def triples(self, graph: str) -> Iterator[ox.Triple]:
        """The triples of one named graph."""

    @abstractmethod
    def dump(self, output: IO[bytes], fmt: str) -> None:
        """Write the whole store; triple formats get the union of all graphs."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of quads."""


def _insert_data(graph: str, triples: Iterable[ox.Triple]) -> str:
    body = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
    return f"INSERT DATA {{ GRAPH <{graph}> {{\n{body}\n}} }}"


LOCK_FILE = "caregraph.lock"
VIEWS_DIR = "caregraph-views"
# While a graph is bulk-loaded, this graph says so (see OxigraphStore.add_graph).
LOADING_GRAPH = GRAPH + "loading"
UNFINISHED = ox.NamedNode(LOADING_GRAPH + "#Unfinished")
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _lock(path: Path, read_only: bool) -> IO[bytes] | None:
    """Hold `path`'s lock file: shared by readers, exclusive for a writer, so that no process
    reads an on-disk store while another writes it (RocksDB deletes files under a reader)."""
    if path.exists() and not path.is_dir():
        raise StoreUnavailable(f"cannot open the store at {path}: it is a file, not a folder")
    try:
        if not read_only:
            path.mkdir(parents=True, exist_ok=True)
        handle = open(path / LOCK_FILE, "a+b")
    except FileNotFoundError:
        raise StoreUnavailable(f"there is no store at {path}") from None
    except OSError as exc:
        if read_only:
            return None  # a read-only medium: nobody can write there either
        raise StoreUnavailable(f"cannot open the store at {path}: {exc.strerror}") from None
    try:
        fcntl.flock(handle, (fcntl.LOCK_SH if read_only else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StoreUnavailable(f"the store at {path} is in use by another caregraph process (a server or an "
                               f"import{' that writes' if read_only else ''}); stop it first, or use another "
                               "--store") from None
    return handle


class OxigraphStore(Store):
    """The embedded store: in memory, or on disk when given a path.

    On disk, values derived from the curated knowledge alone (`cached(..., knowledge=True)`)
    are read from a copy of it in memory: every graph but the imported records. Reading the
    knowledge from the England-scale store on disk took most of the first answer after a
    change to it; the same queries over the copy take about a third of the time. Writes keep
    the copy current as they are made: an import of records never touches it; an update that
    only writes what it states (INSERT DATA, DELETE DATA, DROP, CLEAR: a rebuild, a graph
    replaced) is applied to it too; a graph loaded or moved, or written by an update with a
    WHERE (`named_graphs_written`), is copied again from disk when next read; after any other
    write (a LOAD in an update, USING, GRAPH ?g among several operations) the whole copy is made
    again from disk when next read (about 0.4 s on the England-scale store).
    """

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        # The knowledge copy (on disk only) and the graphs in it to copy again before it is
        # read, None for all of them. Set before Store.__init__, whose first generation resets them.
        self._copy: ox.Store | None = None
        self._stale: set[str] | None = None
        self._copy_lock = threading.Lock()
        super().__init__()
        self.path = path
        self.read_only = read_only
        self._held: IO[bytes] | None = None
        self._views = 0
        if path is None:
            self._ox = ox.Store()
        else:
            self._held = _lock(path, read_only)
            try:
                self._ox = ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
                self._drop_unfinished_loads()
            except BaseException:
                self.close()
                raise
        self._write_lock = threading.Lock()

    def _drop_unfinished_loads(self) -> None:
        """Undo what a bulk load that never finished left (its process was killed): the graph's
        partial content goes, in steps that a second kill only interrupts, so the store is as it
        was before that load. Runs before anything reads the store."""
        marker = ox.NamedNode(LOADING_GRAPH)
        unfinished = [q.subject for q in self._ox.quads_for_pattern(None, _RDF_TYPE, UNFINISHED, marker)]
        if not unfinished:
            return
        if self.read_only:
            raise StoreUnavailable(f"an import into the store at {self.path} was interrupted and its partial "
                                   "graph is still there; open the store for writing once (any caregraph "
                                   "command while no server has it open) to remove it")
        for graph in unfinished:
            # Small transactions: one for the whole graph held all of it in memory at once.
            while next(iter(self._ox.quads_for_pattern(None, None, None, graph)), None) is not None:
                self._ox.update(f"DELETE {{ GRAPH {graph} {{ ?s ?p ?o }} }} WHERE {{ {{ SELECT ?s ?p ?o "
                                f"WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }} LIMIT 20000 }} }}")
        self._ox.update(" ;\n".join([f"DROP SILENT GRAPH {graph}" for graph in unfinished]
                                    + [f"DROP SILENT GRAPH {marker}"]))
        self._ox.flush()

    @property
    def closed(self) -> bool:
        return self._ox is None

    def close(self) -> None:
        """Let go of the store (and its lock) now rather than when garbage is collected."""
        self._cache.clear()
        self._copy = None
        self._ox = None  # type: ignore[assignment]
        if self._held is not None:
            self._held.close()
            self._held = None

    def reader_view(self) -> Path:
        """A folder that other processes can open read-only and find consistent however this
        store is written meanwhile: the store itself when opened read-only (nobody may write
        it then), else a fresh checkpoint (hard links to immutable files, made in
        milliseconds); older checkpoints are deleted, so call it only when no reader is left."""
        if self.path is None:
            raise StoreError("an in-memory store has no folder to read")
        if self.read_only:
            return self.path
        views = self.path / VIEWS_DIR
        if self._views == 0:
            shutil.rmtree(views, ignore_errors=True)  # left by a server that was killed
        self._views += 1
        target = views / str(self._views)
        views.mkdir(exist_ok=True)
        self._ox.backup(str(target))
        for old in views.iterdir():
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
        return target

    @property
    def raw(self) -> ox.Store:
        """The pyoxigraph store, for callers that stream results (the SPARQL endpoint). What is
        derived from the store does not see writes made through it: use this class's methods."""
        return self._ox

    def query(self, sparql: str) -> object:
        source = self._knowledge_copy() if self.path is not None and self.reading_knowledge else self._ox
        try:
            return source.query(sparql, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise StoreError(f"invalid SPARQL: {exc}") from exc

    # -- the knowledge copy (on disk) -----------------------------------------
    def _knowledge_written(self) -> None:
        # A write that kept the copy current says so (`_keep_copy`); any other write to the
        # knowledge (a bare `generation += 1` included) may have changed any of it.
        if getattr(self._scope, "kept", False):
            self._scope.kept = False
        else:
            with self._copy_lock:
                self._stale = None

    def _knowledge_copy(self) -> ox.Store:
        with self._copy_lock:
            if self._copy is None or self._stale is None:
                copy = ox.Store()
                graphs = [g for g in [ox.DefaultGraph(), *self._ox.named_graphs()] if not _records(g)]
                # Added last first: the store in memory then gives rows in the order the store on
                # disk does, so equally good matches come in the same order from either.
                copy.extend(reversed([q for g in graphs for q in self._ox.quads_for_pattern(None, None, None, g)]))
                self._copy, self._stale = copy, set()
            for name in sorted(self._stale):
                graph = ox.NamedNode(name) if name else ox.DefaultGraph()
                self._copy.remove_graph(graph)
                if not _records(graph):
                    self._copy.extend(reversed(list(self._ox.quads_for_pattern(None, None, None, graph))))
            self._stale = set()
            return self._copy

    def _keep_copy(self, sparql: str | None, base_iri: str | None = None, graphs: Iterable[str] = ()) -> None:
        """After a write to the store on disk, under the write lock: apply `sparql`, an update
        that only writes data, to the knowledge copy too, or mark `graphs` to copy again. A write
        that calls neither leaves the whole copy to be made again."""
        if getattr(self._scope, "records", False):
            return
        # Under the copy's lock: a copy being made from the store meanwhile may have missed this write.
        with self._copy_lock:
            if self._copy is None or self._stale is None:
                return
            if sparql is not None:
                try:
                    self._copy.update(sparql, base_iri=base_iri)
                except (SyntaxError, OSError, ValueError):
                    return  # e.g. a DROP (not SILENT) of a graph of records, which the copy never holds
                self._stale.update(g.value for g in self._copy.named_graphs() if _records(g))
            else:
                self._stale.update(graphs)
        self._scope.kept = True

    def update(self, sparql: str, base_iri: str | None = None) -> None:
        self._write(sparql, base_iri)

    def _write(self, sparql: str, base_iri: str | None = None, graphs: Iterable[str] | None = None) -> None:
        """Run an update; `graphs`, when given, are all the graphs it can change."""
        with self._write_lock:
            data_only = graphs is None and writes_data_only(sparql)
            if graphs is None and not data_only and self.path is not None:
                graphs = self._graphs_written(sparql, base_iri)
            try:
                self._ox.update(sparql, base_iri=base_iri)
            except SyntaxError as exc:
                raise StoreError(f"invalid SPARQL update: {exc}") from exc
            if self.path is not None and (data_only or graphs is not None):
                self._keep_copy(sparql if data_only else None, base_iri, graphs or ())
            self.generation += 1

    def _graphs_written(self, sparql: str, base_iri: str | None) -> set[str] | None:
        """Before an update with a WHERE, which cannot run on the knowledge copy (its WHERE may
        read records the copy lacks): the graphs it will write, so that only those are copied
        again (milliseconds, where the whole copy takes about 0.4 s at England scale). They are
        the graphs its templates name, and for a template writing to GRAPH ?g, the values its
        WHERE gives ?g, asked first. None when they cannot be known (LOAD, USING, several
        operations with GRAPH ?g...)."""
        read = named_graphs_written(sparql, base_iri)
        if read is None or not read[1]:
            return None if read is None else read[0]
        constants, variables = read
        select = _where_as_select(sparql, variables)
        if select is None:
            return None
        try:
            solutions = self._ox.query(select, base_iri=base_iri)
        except (SyntaxError, OSError, ValueError):
            return None
        for solution in solutions:
            for name in variables:
                node = solution[name]
                if isinstance(node, ox.NamedNode):
                    constants.add(node.value)
                elif node is not None:  # a template cannot write to a blank node or literal graph
                    return None
        return constants

    def replace_graph(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        self.update(f"DROP SILENT GRAPH <{graph}> ;\n" + _insert_data(graph, triples))

    def move_graph(self, source: str, target: str) -> None:
        """Replace `target` with `source` in one transaction (used for large staged imports)."""
        self._write(f"MOVE SILENT GRAPH <{source}> TO GRAPH <{target}>", graphs=[source, target])

    def load_graph(self, graph: str, data: IO[bytes] | bytes | str, fmt: ox.RdfFormat) -> None:
        """Parse RDF straight into a graph (no replacement); raises SyntaxError with the line."""
        with self._write_lock:
            kwargs = {"path": data} if isinstance(data, str) else {"input": data}
            self._ox.bulk_load(**kwargs, format=fmt, to_graph=ox.NamedNode(graph))
            if self.path is not None:
                self._keep_copy(None, graphs=[graph])
            self.generation += 1

    def add_graph(self, graph: str, quads: Iterable[ox.Quad],
                  stage: Callable[[str], None] | None = None) -> None:
        """Fill `graph`, which must hold nothing yet, with `quads` (all in that graph): readers
        of the store find all of them or none, even if this process is killed meanwhile.

        On disk the quads are bulk-loaded: written as sorted files, outside any transaction
        (seconds and a few hundred megabytes for an England-scale import, against half a
        minute and 1.5 GB for one transaction), in one part per core loaded side by side (one
        bulk load of 560,000 quads keeps to one core). Two small transactions bracket the
        load: the first records that `graph` is unfinished, the second, once every quad is in,
        removes that record. A store opened with the record still there drops the graph's
        partial content first. `stage`, if given, is called with "marked", "loaded" and
        "switched" as each step ends. In memory, one transaction writes the quads.
        """
        target = ox.NamedNode(graph)
        with self._write_lock:
            if next(iter(self._ox.quads_for_pattern(None, None, None, target)), None) is not None:
                raise StoreError(f"the graph <{graph}> already holds data: it cannot be bulk-loaded")
            if self.path is None:
                self._ox.extend(quads)
                self.generation += 1
                return
            parts = _nquads_parts(quads, min(4, os.cpu_count() or 1))
            del quads  # the parts hold the data now: a set handed over (Staging.drain) is freed
            self._ox.update(f"INSERT DATA {{ GRAPH <{LOADING_GRAPH}> {{ {target} a {UNFINISHED} }} }}")
            if stage:
                stage("marked")
            failures: list[BaseException] = []

            def load(part: bytes) -> None:
                try:
                    # Lenient: the quads were valid terms before they were written out.
                    self._ox.bulk_load(input=part, format=ox.RdfFormat.N_QUADS, lenient=True)
                except BaseException as exc:  # re-raised below, in the caller's thread
                    failures.append(exc)

            loaders = [threading.Thread(target=load, args=(part,)) for part in parts]
            for loader in loaders:
                loader.start()
            for loader in loaders:
                loader.join()
            if failures:
                self._drop_unfinished_loads()  # back as before
                raise failures[0]
            if stage:
                stage("loaded")
            self._ox.update(f"DROP SILENT GRAPH <{LOADING_GRAPH}>")
            self._keep_copy(None, graphs=[graph])
            self.generation += 1
            if stage:
                stage("switched")
            self._ox.flush()

    def drop_graph(self, graph: str) -> None:
        self.update(f"DROP SILENT GRAPH <{graph}>")

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self._ox.named_graphs() if isinstance(g, ox.NamedNode))

    def triples(self, graph: str) -> Iterator[ox.Triple]:
        for q in self._ox.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
            yield q.triple

    def dump(self, output: IO[bytes], fmt: str) -> None:
        rdf_format = FORMATS[fmt]
        if rdf_format.supports_datasets:
            self._ox.dump(output, rdf_format, prefixes=_dump_prefixes(rdf_format))
            return
        union = self._ox.query("SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
        ox.serialize((ox.Triple(r["s"], r["p"], r["o"]) for r in union), output, rdf_format,
                     prefixes=_dump_prefixes(rdf_format))

    def flush(self) -> None:
        if self.path is not None:
            self._ox.flush()

    def __len__(self) -> int:
        return len(self._ox)


def _records(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> bool:
    return isinstance(graph, ox.NamedNode) and graph.value.startswith(IMPORT_GRAPHS)


# What `writes_data_only` does not read: strings, IRIs, escaped characters and comments, in
# the order SPARQL reads them (a "#" in a string or an IRI starts no comment).
_UNREAD = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|' r"'''(?:[^'\\]|\\.|'(?!''))*'''|"
                     r'"(?:[^"\\\n]|\\.)*"|' r"'(?:[^'\\\n]|\\.)*'|"
                     r'<[^<>"{}|^`\\\x00-\x20]*>|\\.|#[^\n]*')
# Operations that read the store (WHERE), the network (LOAD) or one graph into another.
_READING = re.compile(r"\b(?:WHERE|LOAD|ADD|MOVE|COPY|USING|WITH)\b", re.IGNORECASE)


def writes_data_only(sparql: str) -> bool:
    """Whether a SPARQL update only writes what it states (INSERT DATA, DELETE DATA, DROP,
    CLEAR, CREATE): its effect on each graph then depends on nothing but that graph, so it
    has the same effect on a copy of some of the store's graphs. Conservative: the keyword of
    any other operation anywhere outside strings, IRIs and comments says no."""
    return _READING.search(_UNREAD.sub(" ", sparql)) is None


def named_graphs_written(sparql: str, base_iri: str | None = None) -> tuple[set[str], list[str]] | None:
    """What a SPARQL update's text says of the graphs it can change: the IRIs its templates and
    operations name ("" for the default graph), and the variables naming the graphs of its
    templates (GRAPH ?g) when it is one DELETE/INSERT ... WHERE with no USING or WITH. None when
    the text cannot say: LOAD, ADD, MOVE, COPY, CLEAR ALL, GRAPH ?g in one of several
    operations, or text the parser does not take."""
    # rdflib's parser is only needed here, for updates with a WHERE; imported on first use.
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate
    from rdflib.term import URIRef, Variable

    try:
        operations = translateUpdate(parseUpdate(sparql), base=base_iri).algebra
    except Exception:  # noqa: BLE001 - any text rdflib cannot read leaves the answer unknown
        return None
    graphs: set[str] = set()
    variables: list[str] = []
    for op in operations:
        if op.name in ("Modify", "DeleteWhere", "InsertData", "DeleteData"):
            # (rdflib's CompValue.get does not return None for a missing key: test with `in`.)
            templates = [op] if op.name != "Modify" else [op[k] for k in ("delete", "insert") if k in op]
            for template in templates:
                for graph in (template["quads"] if "quads" in template else {}):
                    if isinstance(graph, Variable) and len(operations) == 1 \
                            and op.name in ("Modify", "DeleteWhere") and not {"using", "withClause"} & set(op):
                        variables.append(str(graph))
                    elif isinstance(graph, URIRef):
                        graphs.add(str(graph))
                    else:
                        return None
                if "triples" in template and template["triples"]:
                    default = op["withClause"] if "withClause" in op else None
                    graphs.add(str(default) if default is not None else "")
        elif op.name in ("Clear", "Drop", "Create") and isinstance(op["graphiri"] if "graphiri" in op else None, URIRef):
            graphs.add(str(op["graphiri"]))
        elif op.name in ("Clear", "Drop") and "graphiri" in op and op["graphiri"] == "DEFAULT":
            graphs.add("")
        else:
            return None
    return graphs, sorted(set(variables))


# Where an update's first operation keyword and its WHERE stand, outside braces.
_CLAUSE = re.compile(r"\b(INSERT|DELETE|WHERE)\b|[{}]", re.IGNORECASE)


def _where_as_select(sparql: str, variables: list[str]) -> str | None:
    """`DELETE/INSERT {...} WHERE {...}` (or `DELETE WHERE {...}`) as `SELECT DISTINCT ?g
    WHERE {...}` under the same prologue, or None if its clauses cannot be found."""
    # Strings, IRIs and comments blanked to spaces of the same length: positions still hold.
    plain = _UNREAD.sub(lambda m: " " * len(m.group(0)), sparql)
    depth, start, where = 0, None, None
    for m in _CLAUSE.finditer(plain):
        text = m.group(0)
        if text == "{":
            depth += 1
        elif text == "}":
            depth -= 1
        elif depth == 0 and text.upper() in ("INSERT", "DELETE") and start is None:
            start = m.start()
        elif depth == 0 and text.upper() == "WHERE" and start is not None:
            where = m.start()
            break
    if start is None or where is None:
        return None
    chosen = " ".join("?" + name for name in variables)
    return f"{sparql[:start]} SELECT DISTINCT {chosen} {sparql[where:].rstrip().rstrip(';')}"


def _nquads_parts(quads: Iterable[ox.Quad], count: int) -> list[bytes]:
    """`quads` written as N-Quads in `count` parts of about the same size."""
    quads = list(quads)
    size = -(-len(quads) // count) or 1
    parts = []
    for start in range(0, len(quads), size):
        out = io.BytesIO()
        ox.serialize(quads[start:start + size], out, ox.RdfFormat.N_QUADS)
        parts.append(out.getvalue())
    return parts


def _dump_prefixes(rdf_format: ox.RdfFormat) -> dict[str, str] | None:
    from caregraph.namespaces import PREFIXES

    return PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None


ENDPOINT_SCHEMES = ("sparql+http://", "sparql+https://")


def is_endpoint(text: str | None) -> bool:
    """Whether a store given as text names a SPARQL endpoint (`sparql+http://...`) rather than a folder."""
    return bool(text) and text.lower().startswith(ENDPOINT_SCHEMES)


class SparqlEndpointStore(Store):
    """Any SPARQL 1.1 endpoint (Oxigraph server, Fuseki, GraphDB...) behind the same interface.

    Several processes may share one endpoint (API replicas, an import run elsewhere), so a
    change made by another process is noticed too: at most every `refresh` seconds the store
    asks the endpoint what its graphs' provenance says (the named query `store_version`), and
    a change starts a new generation, which empties the derived caches.
    """

    def __init__(self, query_url: str, update_url: str | None = None, *, token: str | None = None,
                 timeout: float = 30.0, refresh: float = 5.0) -> None:
        super().__init__()
        self.query_url = query_url
        self.update_url = update_url
        self.refresh = refresh
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self._version: tuple | None = None
        self._checked = float("-inf")
        self._version_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, update_url: str | None = None, **options) -> SparqlEndpointStore:
        """The store behind `sparql+http://HOST:PORT/PATH`: queries go to `http://HOST:PORT/PATH`,
        updates to `update_url`, by default the sibling `update` (`/query` -> `/update`,
        `/ds/sparql` -> `/ds/update`: Oxigraph server's and Fuseki's layout)."""
        if not is_endpoint(url):
            raise StoreError(f"not a SPARQL endpoint URL: {url!r}; give sparql+http://HOST:PORT/PATH")
        query_url = url[len("sparql+"):]
        parsed = httpx.URL(query_url)
        if not parsed.host:
            raise StoreError(f"no host in the SPARQL endpoint URL {url!r}; give sparql+http://HOST:PORT/PATH")
        if update_url is None:
            update_url = str(parsed.copy_with(path=parsed.path.rsplit("/", 1)[0] + "/update", query=None))
        return cls(query_url, update_url, **options)

    @property
    def generation(self) -> int:
        now = time.monotonic()
        if now - self._checked >= self.refresh and self._version_lock.acquire(blocking=False):
            try:
                self._checked = now
                version = tuple(sorted((k, str(v)) for row in self.select("store_version") for k, v in row.items()))
                if self._version is not None and version != self._version:
                    self._generation += 1
                self._version = version
            except StoreError:
                pass  # the engine is away: the request that needs it says so
            finally:
                self._version_lock.release()
        return self._generation

    @generation.setter
    def generation(self, value: int) -> None:
        self._generation = value

    def _post(self, url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> httpx.Response:
        try:
            return self._client.post(url, data=form, headers=headers)
        except httpx.TimeoutException:
            raise StoreError(f"the SPARQL endpoint at {url} did not answer within "
                             f"{self._client.timeout.read:g} s") from None
        except httpx.TransportError as exc:
            raise StoreError(f"cannot reach the SPARQL endpoint at {url}: {exc or type(exc).__name__}") from None

    def query(self, sparql: str) -> object:
        response = self._post(
            self.query_url, {"query": sparql},
            {"Accept": "application/sparql-results+json, application/n-triples;q=0.9"})
        if response.status_code != 200:
            raise StoreError(f"{self.query_url} answered {response.status_code}: {response.text[:500]}")
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        if kind == "application/n-triples":
            # ox.parse yields quads (in the default graph); CONSTRUCT callers expect triples.
            return [quad.triple for quad in ox.parse(response.content, ox.RdfFormat.N_TRIPLES)]
        return ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)

    def update(self, sparql: str) -> None:
        if not self.update_url:
            raise StoreError("this endpoint is read-only: no update URL configured")
        response = self._post(self.update_url, {"update": sparql})
        if response.status_code >= 300:
            raise StoreError(f"{self.update_url} answered {response.status_code}: {response.text[:500]}")
        self._generation += 1

    def replace_graph(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        self.update(f"DROP SILENT GRAPH <{graph}> ;\n" + _insert_data(graph, triples))

    def graphs(self) -> list[str]:
        result = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        return sorted(sol["g"].value for sol in result)

    def triples(self, graph: str) -> Iterator[ox.Triple]:
        result = self.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{iri(graph).value}> {{ ?s ?p ?o }} }}")
        for sol in result:
            yield ox.Triple(sol["s"], sol["p"], sol["o"])

    def dump(self, output: IO[bytes], fmt: str) -> None:
        rdf_format = FORMATS[fmt]
        if rdf_format.supports_datasets:
            rows = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
            ox.serialize((ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows), output, rdf_format)
            return
        rows = self.query("SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o }")
        ox.serialize((ox.Triple(r["s"], r["p"], r["o"]) for r in rows), output, rdf_format)

    def __len__(self) -> int:
        result = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(next(iter(result))["n"].value)


BACKEND_UPDATE_ENV = "CAREGRAPH_BACKEND_UPDATE_URL"


def open_endpoint(url: str) -> SparqlEndpointStore:
    """The store in the SPARQL endpoint `sparql+http://HOST:PORT/PATH`, once it has answered and
    shown that it holds caregraph's curated build, read as caregraph reads it (the default graph
    the union of the named graphs). Updates go to $CAREGRAPH_BACKEND_UPDATE_URL when set."""
    store = SparqlEndpointStore.from_url(url, os.environ.get(BACKEND_UPDATE_ENV) or None)
    if not store.select("build_fingerprint"):
        raise StoreError(f"the SPARQL endpoint at {store.query_url} holds no caregraph graph; push it there with "
                         "`caregraph load --to GRAPH-STORE-URL` first")
    if not store.ask("union_default_graph"):
        raise StoreError(f"the SPARQL endpoint at {store.query_url} does not read the union of its named graphs "
                         "as its default graph, which caregraph's queries need: start Oxigraph server with "
                         "--union-default-graph, or set tdb2:unionDefaultGraph true on the Fuseki dataset")
    return store

