"""Importers that link public registers into the graph, one module per source:
`cqc_directory`, `cqc_export`, `cqc_api`, `ods` (each into its own named graph, with
provenance) and `geography` (which rebuilds ontology/geography/ from ONS and mySociety files).

`run_cli` is what `caregraph import SOURCE PATH` calls; the modules load only when used.
"""

from __future__ import annotations

import argparse


def run_cli(args: argparse.Namespace, out) -> int:
    from caregraph.importers.run import run_cli as run

    return run(args, out)
