"""What every import shares: reading a source file row by row with line numbers, progress on
stderr, the report of rows read, linked and skipped (each skip with its line and reason),
provenance, and committing the new graph to the store all at once.

An import never writes to the store while it reads: triples are staged in memory, and only
when the whole source has been read are they written, so that the store shows all of them or
none, whenever the process stops (see `commit`). A broken or interrupted file therefore
leaves the previous import exactly as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from caregraph.importers import ids
from caregraph.namespaces import CG, DCTERMS, PROV, RDF, XSD
from caregraph.store import OxigraphStore, Store

OGL = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
CQC_ATTRIBUTION = ("Contains information from the Care Quality Commission, licensed under the Open Government "
                   "Licence v3.0.")
ODS_ATTRIBUTION = ("Contains NHS England (Organisation Data Service) data, licensed under the Open Government "
                   "Licence v3.0.")

MONTHS = {name: n for n, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], 1)}
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[ _-]([A-Za-z]+)[ _-](\d{4})")
_ISO_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_ISO_MONTH = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?![\d-])")


class ImportFailed(Exception):
    """The source cannot be imported as a whole; names the file and, where known, the line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path, self.line = str(path), line
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {message}")


@dataclass
class Skip:
    where: str
    reason: str


@dataclass
class ImportReport:
    """What an import read, linked and left out, and why."""

    source: str
    path: Path
    as_of: dt.date
    as_of_from: str
    graph: str = ""
    rows_read: int = 0
    rows_linked: int = 0
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _noted: set[str] = field(default_factory=set, repr=False)
    triples: int = 0
    added: int = 0
    removed: int = 0

    def skip(self, where: int | str, reason: str) -> None:
        self.skipped.append(Skip(f"line {where}" if isinstance(where, int) else where, reason))

    def note(self, text: str) -> None:
        # A set beside the list: a file with thousands of bad values noted them in quadratic time.
        if text not in self._noted:
            self._noted.add(text)
            self.notes.append(text)

    def as_json(self) -> dict:
        return {"source": self.source, "path": str(self.path), "graph": self.graph,
                "as_of": self.as_of.isoformat(), "as_of_from": self.as_of_from,
                "rows_read": self.rows_read, "rows_linked": self.rows_linked,
                "rows_skipped": len(self.skipped), "triples": self.triples, "added": self.added,
                "removed": self.removed, "skipped": [{"where": s.where, "reason": s.reason} for s in self.skipped],
                "notes": self.notes}

    def lines(self) -> list[str]:
        out = [f"Imported {self.source} from {self.path.name} (as of {self.as_of.isoformat()}, {self.as_of_from})",
               f"  graph: <{self.graph}>",
               f"  rows read {self.rows_read:,}, linked {self.rows_linked:,}, skipped {len(self.skipped):,}; "
               f"{self.triples:,} triples ({self.added:,} added, {self.removed:,} removed)"]
        out += [f"  skipped {s.where}: {s.reason}" for s in self.skipped]
        out += [f"  note: {n}" for n in self.notes]
        return out


class Progress:
    """Progress on stderr. On a terminal, a tqdm bar redrawn in place with the rate and the time
    left; otherwise (a log) one line at each quarter, so a log is not filled with redraws."""

    def __init__(self, total: int, label: str, stream: IO[str] | None = None) -> None:
        self.total, self.label = max(total, 1), label
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._started = time.monotonic()
        self._last_quarter = 0
        self._bar = None
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=label, file=self.stream, unit="B", unit_scale=True,
                             mininterval=0.1, dynamic_ncols=True)

    def advance(self, amount: int) -> None:
        self.done += amount
        if self._bar is not None:
            self._bar.update(amount)
            return
        quarter = min(4, self.done * 4 // self.total)
        if quarter > self._last_quarter:
            self._last_quarter = quarter
            self._line()

    def stop(self) -> None:
        """End the bar's line without claiming it finished (the import failed)."""
        if self._bar is not None:
            self._bar.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.update(self.total - self._bar.n)
            self._bar.close()
        elif self._last_quarter < 4:
            self.done, self._last_quarter = self.total, 4
            self._line()

    def _line(self) -> None:
        share = min(1.0, self.done / self.total)
        seconds = time.monotonic() - self._started
        rate = self.done / seconds if seconds > 0 else 0.0
        left = f", {(self.total - self.done) / rate:.0f} s left" if 0 < share < 1 and rate else ""
        self.stream.write(f"{self.label}: {share:.0%} of {self.total / 1e6:.1f} MB read "
                          f"({rate / 1e6:.1f} MB/s{left})\n")
        self.stream.flush()


# -- reading CSV ----------------------------------------------------------------

@dataclass
class Record:
    line: int
    fields: list[str]
    terminated: bool  # False for a last line with no end-of-line: a sign of truncation


def csv_records(path: Path, progress: Progress | None = None) -> Iterator[Record]:
    """The rows of a CSV file, each with the line it starts on.

    Bytes are decoded line by line, so a corrupted byte is reported with its line; a file
    that ends inside a quoted field fails as truncated. A leading byte-order mark is dropped.
    """
    state = {"line": 0, "terminated": True}

    def lines() -> Iterator[str]:
        with open(path, "rb") as fh:
            for raw in fh:
                state["line"] += 1
                if progress is not None:
                    progress.advance(len(raw))
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ImportFailed(path, state["line"], f"byte {exc.start + 1} of this line is not UTF-8 text: "
                                                           "the file is corrupted or in another encoding") from None
                if "\x00" in text:
                    raise ImportFailed(path, state["line"], "the line contains a NUL byte: the file is corrupted")
                if state["line"] == 1:
                    text = text.removeprefix("\ufeff")
                state["terminated"] = text.endswith("\n")
                yield text

    reader = csv.reader(lines(), strict=True)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFailed(path, start, f"the CSV cannot be read from here ({exc}); the file looks "
                                            "truncated or corrupted") from None
        yield Record(start, fields, state["terminated"])
        start = state["line"] + 1


def file_date(path: Path) -> dt.date | None:
    """The date a downloaded file's name carries (`16_September_2026_CQC_directory.csv`, `..._2016-02_...`)."""
    return text_date(path.name)


def text_date(text: str) -> dt.date | None:
    """The first date written in `text` as `16 September 2026`, `2026-09-16` or `2016-02` (its first day)."""
    for match in _DAY_MONTH_YEAR.finditer(text):
        month = MONTHS.get(match.group(2).lower())
        if month:
            try:
                return dt.date(int(match.group(3)), month, int(match.group(1)))
            except ValueError:
                continue
    for pattern, parts in ((_ISO_DAY, 3), (_ISO_MONTH, 2)):
        for match in pattern.finditer(text):
            try:
                return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)) if parts == 3 else 1)
            except ValueError:
                continue
    return None


_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:AM|PM)$", re.I)
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2}|[A-Za-z]{3})/(\d{4})(?:\s*-\s*\d{2}:\d{2})?$")
_SHORT_MONTHS = {name[:3]: n for name, n in MONTHS.items()}


def parse_date(text: str) -> dt.date | None:
    """A date as CQC files write them: ISO (`2025-01-02`, `2023-05-03T00:00:00Z`), the UK
    `16/11/2015 - 00:00` or `09/Jan/2018 - 00:00`, or the US `1/2/2025 12:00:00 AM` (known by
    its AM/PM clock); None for anything else."""
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    try:
        us = _US_DATE.match(text)
        if us:
            return dt.date(int(us.group(3)), int(us.group(1)), int(us.group(2)))
        uk = _UK_DATE.match(text)
        if uk:
            month = uk.group(2)
            number = int(month) if month.isdigit() else _SHORT_MONTHS.get(month.lower())
            return dt.date(int(uk.group(3)), number, int(uk.group(1))) if number else None
    except ValueError:
        return None
    return None


def sha256_of(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


# -- triples -----------------------------------------------------------------------

def node(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def text(value: str) -> ox.Literal:
    return ox.Literal(value)


def day(value: dt.date) -> ox.Literal:
    return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "date"))


def integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


TYPE = node(RDF + "type")


class Staging:
    """The quads of one import (in its graph), held in memory until the source is fully read.

    A set of quads: adding one costs a quad and a hash, and the set is what the store loads
    (an in-memory store kept six indexes of them, a quarter of the import's time; a set of
    term tuples cost as much again to turn into quads at the end)."""

    def __init__(self, graph: str) -> None:
        self.graph = ox.NamedNode(graph)
        self._quads: set[ox.Quad] = set()

    def add(self, subject: ox.NamedNode, predicate: ox.NamedNode, obj: ox.NamedNode | ox.Literal) -> None:
        self._quads.add(ox.Quad(subject, predicate, obj, self.graph))

    def __contains__(self, quad: ox.Quad) -> bool:
        return quad in self._quads

    def quads(self) -> Iterator[ox.Quad]:
        return iter(self._quads)

    def drain(self) -> set[ox.Quad]:
        """The staged quads, handed over: this staging holds none after."""
        quads, self._quads = self._quads, set()
        return quads

    def triples(self) -> Iterator[ox.Triple]:
        for quad in self._quads:
            yield quad.triple

    def __len__(self) -> int:
        return len(self._quads)


def provenance(staging: Staging, report: ImportReport, sources: list[Path], licence: str, attribution: str) -> None:
    """Where the graph came from, under which licence, when, and what the import made of it."""
    graph = node(report.graph)
    staging.add(graph, TYPE, node(PROV + "Entity"))
    staging.add(graph, node(DCTERMS + "source"), text(report.path.name))
    staging.add(graph, node(CG + "sha256"), text(sha256_of(sources)))
    staging.add(graph, node(DCTERMS + "date"), day(report.as_of))
    staging.add(graph, node(DCTERMS + "license"), node(licence))
    staging.add(graph, node(DCTERMS + "rights"), text(attribution))
    staging.add(graph, node(CG + "rowsRead"), integer(report.rows_read))
    staging.add(graph, node(CG + "rowsLinked"), integer(report.rows_linked))
    staging.add(graph, node(CG + "rowsSkipped"), integer(len(report.skipped)))
    staging.add(graph, node(PROV + "generatedAtTime"),
                # Written as the store keeps it ("Z", not "+00:00"), so a re-import compares like with like.
                ox.Literal(dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           datatype=node(XSD + "dateTime")))


def commit(store: Store, staging: Staging, stage: Callable[[str], None] | None = None) -> tuple[int, int]:
    """Make the import's graph hold exactly the staged quads, all at once or not at all; returns
    (added, removed).

    On the embedded store a first import is bulk-loaded (`OxigraphStore.add_graph`: seconds,
    safe against a kill); a re-import writes only the difference, in one SPARQL update: the
    weekly file changes little, and a transaction costs by what it writes. (Copying a whole
    new graph over the old one in one transaction was measured at 76 s and 4 GB for 900,000
    quads on disk.) `stage` is called as the write reaches each step (see `import_source`).
    """
    graph = staging.graph.value
    if not isinstance(store, OxigraphStore):
        triples = list(staging.triples())
        store.replace_graph(graph, triples)
        return len(triples), 0
    raw = store.raw
    if next(iter(raw.quads_for_pattern(None, None, None, staging.graph)), None) is None:
        count = len(staging)
        store.add_graph(graph, staging.drain(), stage)   # drained: its memory goes once written out
        return count, 0
    removed = [q.triple for q in raw.quads_for_pattern(None, None, None, staging.graph) if q not in staging]
    added = [q.triple for q in staging.quads() if q not in raw]
    if added or removed:
        parts = []
        if removed:
            parts.append(_data("DELETE", graph, removed))
        if added:
            parts.append(_data("INSERT", graph, added))
        if stage:
            stage("marked")
        store.update(" ;\n".join(parts))
        if stage:
            stage("switched")
        store.flush()
    return len(added), len(removed)


def _data(verb: str, graph: str, triples: list[ox.Triple]) -> str:
    body = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
    return f"{verb} DATA {{ GRAPH <{graph}> {{\n{body}\n}} }}"


def graph_name(source: str, path: Path) -> str:
    """`.../graph/import/<source>/<file stem>`: the stem without the date a download's name carries
    (so next week's `23_September_2026_CQC_directory.csv` replaces this week's), reduced to
    characters safe in an IRI."""
    stem = path.name if path.is_dir() else path.stem
    for pattern in (_DAY_MONTH_YEAR, _ISO_DAY, _ISO_MONTH):
        stem = pattern.sub("", stem)
    stem = re.sub(r"[^A-Za-z0-9.-]+", "_", stem).strip("_.-")
    return f"{ids.IMPORT_GRAPH}{source}/{stem or 'data'}"
