"""Running an import: pick the source's reader, stage what it reads, record provenance and
commit the import's named graph all at once; and the `caregraph import` command.

A test hook: with the environment variable CAREGRAPH_IMPORT_STOP_AT set to a stage, an import
stops itself (SIGSTOP) on reaching it, so that a test can kill it at exactly that point (and
look at the store the kill leaves) or let it go on. The stages, in order: `read` (the source
is read and staged, nothing written), `marked` (the write is about to start: a new graph is
recorded as unfinished, or a re-import's difference is next), `loaded` (a new graph is
bulk-loaded but not yet switched in), `switched` (the import is committed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import IO

from caregraph.build import BuildError, open_store
from caregraph.dates import parse_day
from caregraph.importers.common import ImportFailed, ImportReport, Progress, Staging, commit, graph_name, provenance
from caregraph.store import Store, StoreError, iri, open_endpoint, value

# source -> module; each module has source_files(path), file_as_of(path), progress_total(files),
# read(store, files, staging, report, progress, with_names=...), LICENCE and ATTRIBUTION.
READERS = {"cqc-directory": "cqc_directory", "cqc-export": "cqc_export", "cqc-api": "cqc_api", "ods": "ods"}
STOP_AT = "CAREGRAPH_IMPORT_STOP_AT"


def _stage(name: str) -> None:
    """The test hook (see the module's docstring)."""
    if os.environ.get(STOP_AT) == name:
        print(f"caregraph import: stopped at stage {name!r} ({STOP_AT})", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)


def import_source(store: Store, source: str, path: Path, *, as_of: dt.date | None = None,
                  with_names: bool = False, progress: IO[str] | None = None, force: bool = False) -> ImportReport:
    """Import `path` as `source` into its own named graph of `store`, replacing what an earlier
    import of the same file put there. Raises ImportFailed, leaving the store unchanged, when
    nothing in the file links, or when the earlier import describes a later date than this
    file does (unless `force`)."""
    if source not in READERS:
        raise ImportFailed(path, None, f"unknown source {source!r}; one of: {', '.join(READERS)}")
    reader = importlib.import_module(f"caregraph.importers.{READERS[source]}")
    path = Path(path)
    if not path.exists():
        raise ImportFailed(path, None, "no such file or folder")
    files = reader.source_files(path)
    found, where = reader.file_as_of(path)
    day, day_from = (as_of, "as given") if as_of else (found, where) if found else (dt.date.today(), "today: "
                                                                                      "the file carries no date")
    report = ImportReport(source, path, day, day_from, graph=graph_name(source, path))
    if not force:
        _refuse_older(store, report)
    staging = Staging(report.graph)
    bar = Progress(reader.progress_total(files), f"{source} {path.name}", progress)
    try:
        reader.read(store, files, staging, report, bar, with_names=with_names)
    except BaseException:
        bar.stop()
        raise
    bar.close()
    if report.rows_read == 0:
        raise ImportFailed(path, None, "no records found: nothing was imported")
    if report.rows_linked == 0:
        raise ImportFailed(path, None, f"not one of the {report.rows_read:,} record(s) read could be linked, so "
                                       f"this is not a {source} file caregraph can use ({_why(report)})")
    provenance(staging, report, files, reader.LICENCE, reader.ATTRIBUTION)
    report.triples = len(staging)
    _stage("read")
    with store.writing_records(report.graph):  # the knowledge's own indexes outlive an import
        report.added, report.removed = commit(store, staging, _stage)
    return report


def _refuse_older(store: Store, report: ImportReport) -> None:
    for row in store.select("import_dates", [{"graph": iri(report.graph)}]):
        earlier = value(row["date"])
        if isinstance(earlier, dt.date) and earlier > report.as_of:
            raise ImportFailed(report.path, None, f"the store holds an import of this source as of "
                                                  f"{earlier.isoformat()}, newer than this file "
                                                  f"({report.as_of.isoformat()}, {report.as_of_from}); give --force "
                                                  "to replace it with the older one")


def _why(report: ImportReport) -> str:
    """The commonest reasons records were skipped, with how often: what the file holds instead."""
    reasons = Counter(s.reason for s in report.skipped).most_common(3)
    if not reasons:
        return "no record matched a known provider, location, council or board"
    return "; ".join(f"{n:,} x {reason}" for reason, n in reasons)


def run_cli(args: argparse.Namespace, out) -> int:
    if args.source == "geography":
        from caregraph.importers import geography

        try:
            return geography.run_cli(args, out)
        except ImportFailed as exc:
            print(f"caregraph import: {exc}", file=sys.stderr)
            return 2
    try:
        as_of = parse_day(args.as_of) if args.as_of else None
    except ValueError as exc:
        print(f"caregraph import: {exc}", file=sys.stderr)
        return 2
    path = Path(args.store) if args.store else None
    try:
        # A SPARQL server (--backend): the import is read here and replaces its graph there in one update.
        store = open_endpoint(args.backend) if getattr(args, "backend", None) else open_store(path)[0]
    except StoreError as exc:
        print(f"caregraph import: {exc}", file=sys.stderr)
        return 2
    except (BuildError, OSError) as exc:
        print(f"caregraph import: cannot open the store at {path}: {exc}", file=sys.stderr)
        return 2
    try:
        report = import_source(store, args.source, Path(args.path), as_of=as_of, with_names=args.with_names,
                               force=args.force)
    except ImportFailed as exc:
        print(f"caregraph import: {exc}\nNothing was changed: the previous import of this file, if any, "
              "is intact.", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"caregraph import: the store refused the import: {exc}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line, file=out)
    if path is None and not getattr(args, "backend", None):
        print("Not kept: --memory was given, so this went into a throwaway in-memory store; leave it out to "
              "keep imports in the default store (or give --store PATH).", file=out)
    return 0
