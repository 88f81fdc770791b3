"""The `caregraph` command: answer who is responsible, walk chains, check and export."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

from caregraph import __version__, accountability, escalation, responsibility
from caregraph.actors import AmbiguousActor, UnknownActor, directory
from caregraph.build import BuildError, open_store
from caregraph.data_folder import STORE_ENV, data_dir, default_store, store_path
from caregraph.dates import parse_day
from caregraph.store import (FORMATS, LOCK_FILE, Store, StoreError, StoreUnavailable, is_endpoint,
                             open_endpoint)

EXIT_OK, EXIT_NOTHING, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """An error to print plainly, with an exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _store(args: argparse.Namespace, *, read_only: bool = False) -> Store:
    if args.backend:
        return open_endpoint(args.backend)  # a StoreError says plainly why not
    path = Path(args.store) if args.store else None
    try:
        try:
            store, _ = open_store(path, read_only=read_only)
        except StoreUnavailable:
            if path is None or read_only or not (path / LOCK_FILE).exists():
                raise
            # A server that only reads the store has it open: these commands only read too.
            store, _ = open_store(path, read_only=True)
    except BuildError as exc:
        raise CliError(f"the knowledge does not build: {exc}") from None
    except StoreUnavailable as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot open the store at {path}: {exc}") from None
    return store


def _day(args: argparse.Namespace):
    try:
        return parse_day(args.as_of)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, width=92, initial_indent=indent, subsequent_indent=indent)


def _print_route(route: escalation.Route, out) -> None:
    print(f"Escalation route: {route.label}", file=out)
    for step in route.steps:
        side = " (at the same time)" if step.parallel else ""
        gone = "" if step.in_existence else " [did not exist on that date]"
        print(f"  {step.order}. {step.actor['label']}{side}{gone}", file=out)
        print(_wrap(step.action, "       "), file=out)
        for basis in step.legal_basis:
            print(f"       law: {basis['label']} <{basis['uri']}>", file=out)


def cmd_ask(args: argparse.Namespace, out) -> int:
    store = _store(args)
    if args.location or args.council:
        return _ask_at_place(store, args, out)
    response = responsibility.ask(store, args.question, _day(args), limit=args.limit)
    # Declined as outside caregraph: exit 1. A vague question offered choices is not that.
    code = EXIT_NOTHING if response.confidence == responsibility.OUTSIDE else EXIT_OK
    if args.json:
        json.dump(response.as_json(), out, indent=2, ensure_ascii=False)
        print(file=out)
        return code
    print(f"Q: {response.question}   (the law as of {response.as_of.isoformat()})\n", file=out)
    for note in response.notes:
        print(_wrap(note, "") + "\n", file=out)
    for n, answer in enumerate(response.answers, 1):
        _print_answer(n, answer, out)
    if response.escalation:
        _print_route(response.escalation, out)
    if response.suggestions:
        print("\nCloser to what you mean? Ask again with one of these:", file=out)
        for suggestion in response.suggestions:
            print(f"  - {suggestion.label} ({suggestion.kind})", file=out)
    _print_reading(response, out)
    return code


def _print_answer(n: int, answer: responsibility.Answer, out) -> None:
    duty = answer.duty
    print(f"{n}. {duty['label']}  [{duty['modality']}]", file=out)
    if duty["description"]:
        print(_wrap(duty["description"], "   "), file=out)
    for basis in answer.legal_basis:
        print(f"   law: {basis['label']} <{basis['uri']}>", file=out)
    if not answer.statutory:
        print("   not a legal duty: it rests on", file=out)
    for source in answer.non_statutory_basis:
        print(f"   source: {source['label']}" + (f" ({source['kind']})" if source["kind"] else "")
              + (f" <{source['page']}>" if source["page"] else ""), file=out)
    for related in answer.related_law:
        print(f"   related law (not its basis): {related['label']} <{related['uri']}>", file=out)
    for holder in answer.holders:
        print(f"   {holder['role']}: {holder['label']}", file=out)
    if answer.oversight:
        print("   overseen by: " + ", ".join(o["label"] for o in answer.oversight), file=out)
    if duty["confidence"] == "unconfirmed" and duty["caveat"]:
        print(_wrap(f"unconfirmed: {duty['caveat']}", "   "), file=out)
    print(file=out)


def _print_reading(response: responsibility.Response, out) -> None:
    """How the question was read: what decided the answer."""
    read = response.reading
    if read is None:
        return
    parts = []
    if read.corrections:
        parts.append("read " + ", ".join(f"{k!r} as {v!r}" for k, v in read.corrections.items()))
    if read.problems:
        parts.append("recognised " + ", ".join(f"{m.concept.label} (from {m.words!r})" for m in read.problems))
    if read.outside:
        parts.append("outside caregraph: " + ", ".join(f"{m.concept.label} (from {m.words!r})" for m in read.outside))
    if read.foreign:
        parts.append("did not use " + ", ".join(repr(w) for w in read.foreign))
    print(f"\nHow caregraph read the question ({response.confidence}): "
          + ("; ".join(parts) if parts else "by its words alone") + ".", file=out)


def _ask_at_place(store, args: argparse.Namespace, out) -> int:
    from caregraph import places

    try:
        response = places.ask(store, args.question, _day(args), location=args.location, council=args.council,
                              limit=args.limit)
    except places.PlaceError as exc:
        raise CliError(str(exc), EXIT_NOTHING) from None
    if args.json:
        json.dump(response.as_json(), out, indent=2, ensure_ascii=False)
        print(file=out)
    else:
        print(response.as_text(), file=out)
    return EXIT_OK if response.answers else EXIT_NOTHING


def _actor(store, text: str):
    try:
        return directory(store).resolve(text)
    except (UnknownActor, AmbiguousActor) as exc:
        raise CliError(str(exc)) from None


def cmd_path(args: argparse.Namespace, out) -> int:
    store = _store(args)
    actor = _actor(store, args.actor)
    also = directory(store).also_named(args.actor, actor)
    day = _day(args)
    chains = accountability.chains(store, actor, day, limit=args.limit)
    if args.json:
        json.dump({"actor": actor.as_json(), "also_named": [a.as_json() for a in also], "as_of": day.isoformat(),
                   "chains": [c.as_json() for c in chains]}, out, indent=2, ensure_ascii=False)
        print(file=out)
        return EXIT_OK if chains else EXIT_NOTHING
    if also:
        print(textwrap.fill(f"{args.actor!r} is read as {actor.label} ({actor.id}); it also names "
                            + ", ".join(f"{a.label} (`caregraph path {a.id}`)" for a in also) + ".",
                            width=92, break_on_hyphens=False) + "\n", file=out)
    if not chains:
        print(f"{actor.label} has no chain of accountability to Parliament on {day.isoformat()}"
              + ("" if accountability.graph_at(store, day).has_node(actor.iri) else " (it did not exist then)"),
              file=out)
        return EXIT_NOTHING
    print(f"Who {actor.label} answers to, up to Parliament (as of {day.isoformat()}):", file=out)
    for n, chain in enumerate(chains, 1):
        print(f"\n{n}. {chain.actors[0].label}", file=out)
        for link, actor_ in zip(chain.links, chain.actors[1:]):
            law = "; ".join(b["label"] for b in link.legal_basis) or (link.caveat or "")
            print(f"   -> {link.relation} {actor_.label}" + (f"   ({law})" if law else ""), file=out)
    return EXIT_OK


def cmd_escalate(args: argparse.Namespace, out) -> int:
    store = _store(args)
    routes = escalation.routes_for(store, args.problem, _day(args), limit=1)
    if args.json:
        json.dump({"problem": args.problem, "route": routes[0].as_json() if routes else None}, out,
                  indent=2, ensure_ascii=False)
        print(file=out)
        return EXIT_OK if routes else EXIT_NOTHING
    if not routes:
        print("No escalation route in caregraph fits this problem; try `caregraph ask` with other words.",
              file=out)
        return EXIT_NOTHING
    _print_route(routes[0], out)
    return EXIT_OK


def cmd_check(args: argparse.Namespace, out) -> int:
    from caregraph.reasoning import JavaMissing, check_consistency

    store = _store(args)
    print(f"Loaded {len(store)} quads in {len(store.graphs())} graphs.", file=out)
    problems = 0
    today = parse_day(None)
    cycles = accountability.cycles(store)
    for cycle in cycles:
        print("accountability cycle: " + " -> ".join(cycle), file=out)
    unanchored = accountability.unanchored(store, today)
    for iri in unanchored:
        print(f"no chain to Parliament today: {iri}", file=out)
    problems += len(cycles) + len(unanchored)
    try:
        report = check_consistency(store)
    except JavaMissing as exc:
        print(f"cannot prove consistency: {exc}", file=out)
        return EXIT_USAGE
    if not report.consistent:
        print(report.message, file=out)
        problems += 1
    for cls in report.unsatisfiable:
        print(f"unsatisfiable class: {cls}", file=out)
    problems += len(report.unsatisfiable)
    if problems:
        print(f"{problems} problem(s) found.", file=out)
        return EXIT_NOTHING
    print(f"HermiT: the ontology and knowledge ({report.axioms} triples) are consistent; "
          "no class is unsatisfiable. Every actor reaches Parliament; no cycles.", file=out)
    return EXIT_OK


def cmd_export(args: argparse.Namespace, out) -> int:
    store = _store(args)
    if args.output:
        try:
            with open(args.output, "wb") as fh:
                store.dump(fh, args.format)
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        store.dump(sys.stdout.buffer if out is sys.stdout else _BinaryOut(out), args.format)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, out) -> int:
    from caregraph.validation import run_cli

    return run_cli(args, out)


def cmd_import(args: argparse.Namespace, out) -> int:
    from caregraph.importers import run_cli

    if args.backend and args.source == "geography":
        raise CliError("import geography rebuilds the curated graph beside a store on disk: run it with --store, "
                       "then push the store to the SPARQL server again with `caregraph load --to URL`")
    return run_cli(args, out)


# -- policy teams: alignment and quality by place -------------------------------------------

def _optional_day(text: str | None):
    if text is None:
        return None
    try:
        return parse_day(text)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def cmd_alignment(args: argparse.Namespace, out) -> int:
    from caregraph import alignment

    store = _store(args)
    day, start, end = _day(args), _optional_day(args.from_), _optional_day(args.to)
    try:
        result = alignment.alignment(store, day, start, end)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.csv:
        from caregraph import exports

        for path in exports.alignment_tables(result, Path(args.csv)):
            print(f"wrote {path}", file=sys.stderr)
    if args.figures:
        from caregraph import figures

        for path in [*figures.heatmap(store, day, Path(args.figures)),
                     *figures.sector_network(store, day, Path(args.figures), result["network"])]:
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        json.dump(result, out, indent=2, ensure_ascii=False)
        print(file=out)
        return EXIT_OK
    _print_alignment(result, out)
    return EXIT_OK


def _print_alignment(result: dict, out) -> None:
    matrix = result["matrix"]
    sectors = [s["id"] for s in matrix["sectors"]]
    counts = {(c["theme"], c["sector"]): c["count"] for c in matrix["cells"]}
    print(f"Alignment of housing, health and care duties as of {result['as_of']}\n", file=out)
    print(f"{'theme':<40}" + "".join(f"{s:>14}" for s in sectors), file=out)
    for theme in matrix["themes"]:
        name = ("  " if theme["broader"] else "") + theme["label"]
        print(f"{name[:40]:<40}" + "".join(f"{counts[theme['id'], s]:>14}" for s in sectors), file=out)
    print(f"\nBridges: {len(result['bridges'])} duties tie sectors together", file=out)
    for edge in result["network"]["edges"]:
        print(f"  {edge['source']} - {edge['target']}: {edge['bridges']}", file=out)
    for bridge in result["bridges"]:
        print(f"  {bridge['duty']['label']}  [{', '.join(bridge['ties'])}]  ({'; '.join(bridge['why'])})", file=out)
    print(f"\nGaps: {len(result['gaps'])}", file=out)
    for gap in result["gaps"]:
        print(_wrap(f"[{gap['kind']}] {gap['message']}", "  "), file=out)
    print(f"\nOverlaps: {len(result['overlaps'])}", file=out)
    for overlap in result["overlaps"]:
        print(_wrap(f"[{overlap['kind']}] {overlap['message']}", "  "), file=out)
    spof = result["single_points_of_failure"]
    print("\nSingle points of failure in the accountability network:", file=out)
    print(_wrap("articulation points: " + ", ".join(f"{a['label']} ({a['separates']} parts without it)"
                                                     for a in spof["articulation_points"]), "  "), file=out)
    print(_wrap("most central: " + ", ".join(f"{a['label']} ({a['betweenness']})" for a in spof["central"]), "  "),
          file=out)
    if "changes" in result:
        changes = result["changes"]
        print(f"\nWhat changed after {changes['from']} up to {changes['to']}: {len(changes['items'])}", file=out)
        for change in changes["items"]:
            law = "; ".join(law["label"] for law in change["law"]) or "no law recorded"
            print(_wrap(f"{change['date']} [{change['kind']}] {change['message']}  (law: {law})", "  "), file=out)


def cmd_quality(args: argparse.Namespace, out) -> int:
    from caregraph import quality

    store = _store(args)
    day = _day(args)
    try:
        if args.council:
            result = quality.council_profile(store, args.council, day)
            area = result["quality"]
        elif args.icb:
            result = area = quality.icb_quality(store, args.icb, day)
        else:
            result = area = quality.national(store, day)
            result["councils"] = quality.councils_table(store, day)
    except quality.QualityError as exc:
        raise CliError(str(exc), EXIT_NOTHING) from None
    if args.csv:
        from caregraph import exports

        for path in exports.quality_tables(Path(args.csv), result.get("councils"), area):
            print(f"wrote {path}", file=sys.stderr)
    if args.figures:
        from caregraph import figures

        for path in figures.quality_chart(store, day, Path(args.figures)):
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        json.dump(result, out, indent=2, ensure_ascii=False)
        print(file=out)
        return EXIT_OK
    _print_quality(area, out)
    for entry in result.get("who_acts", []):
        if entry is result["who_acts"][0]:
            print("\nWho must act here when a service fails:", file=out)
        bodies = ", ".join(b["label"] for b in entry["bodies"])
        print(_wrap(f"[{', '.join(entry['themes'])}] {entry['duty']['label']}: {bodies}", "  "), file=out)
    for council in result.get("councils", []):
        if council is result["councils"][0]:
            print(f"\n{'council':<48}{'locations':>10}{'rated':>7}{'RI+Inad.':>10}{'share':>8}", file=out)
        print(f"{council['council']['label'][:47]:<48}{council['locations']:>10}{council['rated']:>7}"
              f"{council['inadequate_or_requires_improvement']:>10}"
              f"{_percent(council['share_inadequate_or_requires_improvement']):>8}", file=out)
    return EXIT_OK


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f}%"


def _print_quality(area: dict, out) -> None:
    name = area["area"]["label"] + (f" ({area['area']['id']})" if area["area"].get("id") else "")
    print(f"Quality of registered services in {name}, as of {area['as_of']}", file=out)
    ratings = ", ".join(f"{k} {v}" for k, v in area["ratings"].items())
    print(f"  {area['locations']} locations: {ratings}", file=out)
    line = (f"  rated Inadequate or Requires improvement: {area['inadequate_or_requires_improvement']} of "
            f"{area['rated']} rated ({_percent(area['share_inadequate_or_requires_improvement'])})")
    if "england" in area:
        line += (f"; England {_percent(area['england']['share_inadequate_or_requires_improvement'])}"
                 + (f", {area['difference_points']:+.1f} points" if area["difference_points"] is not None else ""))
    print(line, file=out)
    print(f"  care home beds: {area['beds']}, of which in homes rated Inadequate or Requires improvement: "
          f"{area['beds_in_inadequate_or_requires_improvement']}", file=out)
    for note in area.get("notes", []):
        print(_wrap(f"note: {note}", "  "), file=out)
    print(f"\n  {'service type':<34}{'locations':>10}{'rated':>7}{'RI+Inad.':>10}{'share':>8}{'England':>9}"
          f"{'beds':>7}", file=out)
    for s in area["service_types"]:
        england = _percent(s.get("england_share")) if "england_share" in s else ""
        print(f"  {s['service_type']['label'][:33]:<34}{s['locations']:>10}{s['rated']:>7}"
              f"{s['inadequate_or_requires_improvement']:>10}"
              f"{_percent(s['share_inadequate_or_requires_improvement']):>8}{england:>9}{s['beds']:>7}", file=out)


def cmd_store_info(args: argparse.Namespace, out) -> int:
    from caregraph import store_contents

    store = _store(args)
    contents = store_contents.describe(store)
    if getattr(args, "json", False):
        json.dump({"store": args.backend or args.store, **contents}, out, indent=2, ensure_ascii=False)
        print(file=out)
        return EXIT_OK
    build = contents["build"]
    print(f"Store: {args.backend or args.store or 'in memory (--memory)'}: {contents['quads']:,} quads", file=out)
    print(f"Curated build: {build['graphs']} graphs, {build['triples']:,} triples, built {build['built']}", file=out)
    print(f"  geography from {build['geography']}", file=out)
    imports = contents["imports"]
    print(f"Imports: {len(imports)}" + ("" if imports else " (add one with `caregraph import SOURCE PATH`)"),
          file=out)
    for item in imports:
        print(f"  {item['id']}", file=out)
        print(f"    source {item['source']}, as of {item['as_of']}, imported {item['imported']}", file=out)
        print(f"    rows read {_count(item['rows_read'])}, linked {_count(item['rows_linked'])}, "
              f"skipped {_count(item['rows_skipped'])}; {item['triples']:,} triples", file=out)
        print(f"    sha256 {item['sha256']}", file=out)
    return EXIT_OK


def _count(number: int | None) -> str:
    return "-" if number is None else f"{number:,}"


def cmd_store_remove(args: argparse.Namespace, out) -> int:
    from caregraph import store_contents

    store = _store(args)
    try:
        removed = store_contents.remove(store, args.name)
    except store_contents.UnknownImport as exc:
        raise CliError(str(exc)) from None
    print(f"Removed {removed.id} (from {removed.source}, as of {removed.as_of}): {removed.triples:,} triples.",
          file=out)
    return EXIT_OK


def _resolve_store(args: argparse.Namespace) -> None:
    """Point args.backend at a SPARQL endpoint (--backend, or --store / $CAREGRAPH_STORE given as
    sparql+http://...), else args.store at the store every command opens: None for --memory,
    else a folder (--store, $CAREGRAPH_STORE or the default in the data folder) whose parents now exist."""
    given = args.store or (None if args.memory else os.environ.get(STORE_ENV))
    if args.backend or is_endpoint(given):
        args.backend = args.backend or given
        if not is_endpoint(args.backend):
            raise CliError(f"--backend takes a SPARQL endpoint as sparql+http://HOST:PORT/PATH, not {args.backend!r}")
        args.store = None
        return
    if given and "://" in given:
        raise CliError(f"{given!r} is not a folder for a store; a SPARQL endpoint is given as "
                       "sparql+http://HOST:PORT/PATH")
    try:
        path = store_path(args.store, memory=args.memory)
    except OSError as exc:
        raise CliError(f"cannot create the folder for the store at {given or default_store()}: "
                       f"{exc.strerror}") from None
    args.store = str(path) if path else None


def cmd_load(args: argparse.Namespace, out) -> int:
    import time

    from caregraph import graph_store

    store = _store(args)
    started = time.perf_counter()
    counts = {"curated": [0, 0], "import": [0, 0]}

    def pushed(item: graph_store.Pushed) -> None:
        counts[item.kind][0] += 1
        counts[item.kind][1] += item.triples
        if item.kind == "import":
            print(f"  import {item.graph}: {item.triples:,} triples", file=out, flush=True)

    print(f"Pushing {args.backend or args.store or 'the curated build (--memory)'} to {args.to} ...", file=out,
          flush=True)
    try:
        graph_store.push(store, args.to, progress=pushed)
    except graph_store.PushFailed as exc:
        raise CliError(str(exc)) from None
    curated, imported = counts["curated"], counts["import"]
    print(f"Pushed {curated[0] + imported[0]} graphs in {time.perf_counter() - started:.1f} s: the curated build "
          f"({curated[0]} graphs, {curated[1]:,} triples) and {imported[0]} import(s) ({imported[1]:,} triples).",
          file=out)
    print(f"Use it with: caregraph --backend {graph_store.query_url_for(args.to)} serve  (the server must read "
          "the union of its named graphs as its default graph)", file=out)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, out) -> int:
    from caregraph.api.server import run_cli

    return run_cli(args, out)


class _BinaryOut:
    """Lets export write bytes to a text stream (used when output is captured)."""

    def __init__(self, text) -> None:
        self.text = text

    def write(self, data: bytes) -> int:
        self.text.write(data.decode("utf-8"))
        return len(data)


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of 1 or more: {text!r}")
    return number


ENVIRONMENT = """\
environment:
  CAREGRAPH_STORE         the store to use, as --store, or a SPARQL endpoint as --backend
                          (default: caregraph.oxigraph in the data folder)
  CAREGRAPH_BACKEND_UPDATE_URL  where a --backend endpoint takes SPARQL updates (default: its
                          query URL with the last part of the path replaced by update)
  CAREGRAPH_DATA_DIR      the data folder (default: the user's data folder, now {data_dir})

  for `caregraph serve`:
  CAREGRAPH_QUERY_TIMEOUT  seconds before a SPARQL query is stopped (default 5)
  CAREGRAPH_RESULT_LIMIT   bytes after which a SPARQL result is cut (default 50000000)
  CAREGRAPH_UPDATE_TOKEN   bearer token that allows SPARQL updates (default: none, read-only)
  CAREGRAPH_SPARQL_WORKERS processes that run SPARQL queries (default 2)
  CAREGRAPH_WORKER_MEMORY  bytes a SPARQL worker may add, 0 for no cap (default 4294967296)
  CAREGRAPH_UPLOAD_LIMIT   largest request body in bytes (default 10000000)
  CAREGRAPH_ANSWER_CACHE   JSON answers kept until the next write (default 2048)
  CAREGRAPH_SPARQL_CACHE   bytes of SPARQL results kept until the next write (default 67108864)
  CAREGRAPH_FEDERATION     endpoints SPARQL SERVICE and LOAD may reach (default: none)
"""

IMPORT_SOURCES = """\
sources:
  cqc-directory  CQC's weekly care directory CSV (DD_Month_YYYY_CQC_directory.csv)
  cqc-export     CQC's location export: the "care directory with filters" spreadsheet
                 (DD_Month_YYYY_HSCA_Active_Locations.ods) or the adult social care CSV
  cqc-api        CQC API v1 records: one JSON file, or a folder of location_*.json and
                 provider_*.json
  ods            an NHS ODS extract: etr.csv (NHS trusts) or eccg.csv (CCGs, sub-ICB locations)
  geography      a folder of ONS and mySociety files: rebuilds the councils and ICBs for this
                 store, kept beside it (never inside the installed package)
each import replaces its own named graph all at once: a killed import leaves the previous one;
see `caregraph store info`.
"""


def _store_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--store and --memory, accepted before and after the command (SUPPRESS keeps a
    command's absent option from hiding the one given before it)."""
    unset = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument("--store", metavar="PATH", **({"default": None} | unset),
                        help="keep the graph on disk in this folder, creating it and its parent folders "
                             "(default: $CAREGRAPH_STORE, else caregraph.oxigraph in the user's data folder)")
    parser.add_argument("--memory", action="store_true", **({"default": False} | unset),
                        help="use a throwaway graph in memory: nothing is read from or kept on disk")
    parser.add_argument("--backend", metavar="URL", **({"default": None} | unset),
                        help="use the graph in a SPARQL 1.1 server instead: sparql+http://HOST:PORT/PATH naming its "
                             "query endpoint (Oxigraph server: /query; Fuseki: /DATASET/query), which must read the "
                             "union of its named graphs as the default graph; fill it with `caregraph load --to` "
                             "(default: $CAREGRAPH_STORE when it is such a URL, else none)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caregraph", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Who is responsible for what in English adult social care, housing and health.",
        epilog=ENVIRONMENT.format(data_dir=data_dir()))
    parser.add_argument("--version", action="version", version=f"caregraph {__version__}")
    _store_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable, help_: str, epilog: str | None = None,
                parent: argparse._SubParsersAction = sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help_, description=help_, epilog=epilog,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        _store_options(p, top=False)
        p.set_defaults(func=func)
        return p

    as_of = "the law as it stood on this date (YYYY-MM-DD; default today)"
    as_json = "print one JSON object"

    p = command("ask", cmd_ask, "who is responsible for X: ranked answers to a question in plain words")
    p.add_argument("question", help="the question, in plain words, e.g. \"my mum's care home is unsafe\"")
    p.add_argument("--as-of", help=as_of)
    p.add_argument("--json", action="store_true", help=as_json)
    p.add_argument("--limit", type=_positive, default=5, help="at most this many answers (default 5)")
    p.add_argument("--location", metavar="CQC_ID|NAME",
                   help="answer for this CQC-registered location (imported with `caregraph import`), naming "
                        "the bodies that hold each duty there")
    p.add_argument("--council", metavar="GSS|NAME", help="answer for this council's area (a GSS code or a name)")

    p = command("path", cmd_path, "the chains of accountability from an actor up to Parliament")
    p.add_argument("actor", help="an actor id (cqc), name or acronym; \"the council\" means a council with "
                                 "adult social services responsibilities")
    p.add_argument("--as-of", help=as_of)
    p.add_argument("--json", action="store_true", help=as_json)
    p.add_argument("--limit", type=_positive, default=5, help="at most this many chains (default 5)")

    p = command("escalate", cmd_escalate, "the best-matching escalation route for a problem, step by step")
    p.add_argument("problem", help="the problem, in plain words, e.g. \"council refused an assessment\"")
    p.add_argument("--as-of", help=as_of)
    p.add_argument("--json", action="store_true", help=as_json)

    command("check", cmd_check, "prove the ontology and knowledge consistent (HermiT) and every chain complete",
            epilog="Needs Java (`java` on PATH) for the HermiT reasoner (run by owlready2); "
                   "exits 2 without it.")

    p = command("validate", cmd_validate,
                "check the graph, plus any files given, against caregraph's SHACL shapes")
    p.add_argument("files", nargs="*", metavar="FILE", help="Turtle, N-Triples, N-Quads, TriG, JSON-LD or RDF/XML to add")
    p.add_argument("--shapes", help="a folder or file of shapes to use instead of caregraph's own")
    p.add_argument("--format", choices=["text", "json", "turtle"], default="text",
                   help="the report as text for people, JSON, or a SHACL validation report in Turtle "
                        "(default text)")
    p.add_argument("--focus", action="append", default=[], metavar="IRI",
                   help="validate only this node: an IRI, or a CURIE such as duty:ca-s42-enquiry or "
                        "location:1-108565934 (repeatable)")
    p.add_argument("--engine", choices=["auto", "fast", "pyshacl"], default="auto",
                   help="fast: compiled queries on the store; pyshacl: the reference engine; auto: fast where "
                        "it implements every feature of a shape, else pyshacl (default auto)")

    p = command("import", cmd_import, "link a public register into the graph (its own named graph)",
                epilog=IMPORT_SOURCES)
    p.add_argument("source", choices=["cqc-directory", "cqc-export", "cqc-api", "ods", "geography"],
                   help="which register PATH holds (see below)")
    p.add_argument("path", metavar="PATH", help="the downloaded file, or folder for cqc-api and geography")
    p.add_argument("--as-of", help="the date the file describes, YYYY-MM-DD (default: the date in the file or its "
                                   "name, else today)")
    p.add_argument("--with-names", action="store_true",
                   help="also store personal names of managers and nominated individuals (default: left out)")
    p.add_argument("--force", action="store_true",
                   help="replace an earlier import of this source even when it describes a later date")

    p = command("store", cmd_store_info, "what the store holds: the curated build and each import "
                                         "(`caregraph store` alone is `store info`)")
    store_sub = p.add_subparsers(dest="store_command", metavar="ACTION")
    p = command("info", cmd_store_info, "list the curated build and every import (source, date, counts, "
                                        "sha256, when imported)", parent=store_sub)
    p.add_argument("--json", action="store_true", help=as_json)
    p = command("remove", cmd_store_remove, "drop one import, its graph and its provenance, in one transaction",
                parent=store_sub)
    p.add_argument("name", metavar="IMPORT",
                   help="the import's id as `caregraph store info` lists it (e.g. cqc-export/HSCA_Active_Locations), "
                        "its graph IRI, or its source file name")

    p = command("alignment", cmd_alignment,
                "for policy teams: where housing, health and care duties meet, miss, overlap and change")
    p.add_argument("--as-of", help=as_of)
    p.add_argument("--from", dest="from_", metavar="DATE", help="with --to: what changed after this date")
    p.add_argument("--to", metavar="DATE", help="with --from: what changed up to this date")
    p.add_argument("--json", action="store_true", help=as_json)
    p.add_argument("--csv", metavar="DIR", help="also write the tables as CSV files into DIR")
    p.add_argument("--figures", metavar="DIR", help="also draw the heatmap (SVG, PNG) and sector network (SVG) in DIR")

    p = command("quality", cmd_quality,
                "quality of registered services by place, from the imported CQC registers, beside who must act")
    p.add_argument("--council", metavar="NAME|GSS", help="a council with adult social services responsibilities")
    p.add_argument("--icb", metavar="NAME|GSS|ODS", help="an integrated care board")
    p.add_argument("--as-of", help="the registers as they stood on this date (YYYY-MM-DD; default today)")
    p.add_argument("--json", action="store_true", help=as_json)
    p.add_argument("--csv", metavar="DIR", help="also write the tables as CSV files into DIR")
    p.add_argument("--figures", metavar="DIR", help="also draw the quality-by-council chart (SVG, PNG) in DIR")

    p = command("serve", cmd_serve, "serve the JSON API, SPARQL endpoint and pages over HTTP",
                epilog="Limits and the SPARQL update token come from CAREGRAPH_* variables: see `caregraph --help`.")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on; 0.0.0.0 for every interface (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="the TCP port to listen on (default 8000)")
    p.add_argument("--workers", type=int, default=1,
                   help="server processes, each opening the store read-only; SPARQL updates need 1 (default 1)")

    p = command("load", cmd_load, "push the graph to a SPARQL server: the curated build and every import, each "
                                  "named graph replaced through the SPARQL 1.1 Graph Store Protocol",
                epilog="Then serve from that server, as several replicas if need be: caregraph --backend "
                       "sparql+http://HOST:PORT/query serve --port PORT")
    p.add_argument("--to", required=True, metavar="URL",
                   help="the server's Graph Store Protocol endpoint: http://HOST:7878/store for Oxigraph server, "
                        "http://HOST:3030/DATASET/data for Fuseki")

    p = command("export", cmd_export, "write the whole graph")
    p.add_argument("--format", choices=sorted(FORMATS), default="turtle",
                   help="the RDF format; trig and nquads keep the named graphs (default turtle)")
    p.add_argument("--output", "-o", help="file to write (default standard output)")
    return parser


def main(argv: Sequence[str] | None = None, out=None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.store and args.memory:
        parser.error("give --store or --memory, not both")
    if args.backend and (args.store or args.memory):
        parser.error("give --backend or --store/--memory, not both")
    try:
        _resolve_store(args)
        return args.func(args, out)
    except CliError as exc:
        print(f"caregraph: {exc}", file=sys.stderr)
        return exc.code
    except StoreError as exc:
        print(f"caregraph: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader (e.g. `| head`) stopped early; that is not an error.
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
