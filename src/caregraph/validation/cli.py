"""`caregraph validate [FILE ...] [--shapes DIR|FILE] [--format text|json|turtle] [--focus IRI ...]
[--engine auto|fast|pyshacl]`.

Exit 0 when the graph (plus the files) conforms, 1 when it does not, 2 when an input cannot
be read (the message names the file and line) or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from caregraph.build import BuildError, open_store
from caregraph.store import StoreError
from caregraph.validation.compiler import Unsupported
from caregraph.validation.rdf_input import UnreadableInput, read_rdf
from caregraph.validation.validator import validate

EXIT_CONFORMS, EXIT_VIOLATIONS, EXIT_UNREADABLE = 0, 1, 2


def _fail(message: str) -> int:
    print(f"caregraph validate: {message}", file=sys.stderr)
    return EXIT_UNREADABLE


def run_cli(args: argparse.Namespace, out: TextIO) -> int:
    files = [Path(f) for f in args.files]
    try:
        triples = [t for f in files for t in read_rdf(f)]  # every file parsed before any work
        store, _ = open_store(Path(args.store) if args.store else None)
        # Files are validated together with a copy of the store, as written; never added to it.
        report = validate(triples if files else store, base=store, shapes=args.shapes,
                          focus=args.focus or None, engine=args.engine)
    except UnreadableInput as exc:
        return _fail(f"cannot read {exc}")
    except BuildError as exc:
        return _fail(f"the knowledge does not build: {exc}")
    except (ValueError, Unsupported, StoreError, OSError) as exc:
        return _fail(str(exc))
    if args.format == "json":
        print(report.to_json(), file=out)
    elif args.format == "turtle":
        out.write(report.to_turtle())
    else:
        out.write(report.to_text())
    return EXIT_CONFORMS if report.conforms else EXIT_VIOLATIONS

