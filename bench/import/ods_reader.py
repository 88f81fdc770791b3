"""Reading CQC's "care directory with filters" spreadsheet (.ods): this tree's reader beside an
earlier revision's, each in its own process (time, CPU time, peak memory), on an England-size sheet.

Makes (once) `bench/out/england_50000_HSCA_Active_Locations.ods`: 50,000 rows of the real
122 columns (the header list in ../shared/data/schemas when present, else the same shape made
up), with text, date and number cells, runs of empty cells, a README sheet and the million
repeated empty rows a spreadsheet program pads a sheet with. Each reader turns every row into
the list of cell texts the importer reads (caregraph.importers.spreadsheet.rows).

    python bench/import/ods_reader.py [--runs 3] [--rows 50000] [--before REV]

By default the earlier revision is the one whose reader was hand-written (ElementTree
iterparse over content.xml, one row at a time); this tree reads with python-calamine.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from run import BEFORE, checkout

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
HEADERS = ROOT.parent / "shared" / "data" / "schemas" / "hsca_active_locations_headers.txt"
SHEET = "HSCA_Active_Locations"
MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
            'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
            'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
COUNCILS = ["Leeds", "Oldham", "Birmingham", "Kent", "Cumberland", "Bath and North East Somerset", "Camden"]


def headers() -> list[str]:
    if HEADERS.exists():
        return [h for h in HEADERS.read_text(encoding="utf-8").splitlines() if h.strip()]
    fixed = ["Location ID", "Location HSCA start date", "Location Name", "Registered manager", "Care homes beds",
             "Location Latest Overall Rating", "Publication Date", "Location Local Authority",
             "Location Postal Code", "Provider ID", "Provider Name", "Provider Nominated Individual Name"]
    flags = [f"Regulated activity - Activity {n}" for n in range(15)] + \
            [f"Service type - Service {n}" for n in range(30)] + [f"Service user band - Band {n}" for n in range(14)]
    return fixed + flags + [f"Other column {n}" for n in range(122 - len(fixed) - len(flags))]


def _cell(header: str, n: int, rng: random.Random) -> str:
    """One cell of row `n` in the column `header`, as ODS XML."""
    text = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    h = header.lower()
    if h.startswith(("regulated activity - ", "service type - ", "service user band - ")):
        return text.format("Y") if rng.random() < 0.08 else ""
    if "date" in h:
        day = f"20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return (f'<table:table-cell office:value-type="date" office:date-value="{day}"><text:p>'
                f'{day[8:]}/{day[5:7]}/{day[:4]}</text:p></table:table-cell>')
    if "beds" in h:
        beds = rng.choice([0, 0, 12, 30, 64])
        return f'<table:table-cell office:value-type="float" office:value="{beds}"><text:p>{beds}</text:p></table:table-cell>'
    if h == "location id":
        return text.format(f"1-{1000000000 + n}")
    if h == "provider id":
        return text.format(f"1-{2000000000 + n // 2}")
    if "local authority" in h:
        return text.format(COUNCILS[n % len(COUNCILS)])
    if "rating" in h:
        return text.format(rng.choice(["Good", "Outstanding", "Requires improvement", ""])) if rng.random() < .9 else ""
    if rng.random() < 0.3:
        return ""
    return text.format(escape(f"{header[:12]} {rng.randint(1, 99999)} & co"))


def generate(path: Path, rows: int, seed: int = 3) -> Path:
    rng = random.Random(seed)
    columns = headers()
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", MANIFEST)
        with archive.open("content.xml", "w") as out:
            out.write(b'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
                      b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                      b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
                      b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
                      b'<office:spreadsheet><table:table table:name="README"><table:table-row><table:table-cell>'
                      b'<text:p>About this file</text:p></table:table-cell></table:table-row></table:table>'
                      + f'<table:table table:name="{SHEET}">'.encode())
            header = "".join(f'<table:table-cell office:value-type="string"><text:p>{escape(h)}</text:p>'
                             "</table:table-cell>" for h in columns)
            out.write(f"<table:table-row>{header}</table:table-row>".encode())
            for n in range(rows):
                cells, empty = [], 0
                for column in columns:
                    cell = _cell(column, n, rng)
                    if not cell:
                        empty += 1
                        continue
                    if empty:
                        cells.append(f'<table:table-cell table:number-columns-repeated="{empty}"/>')
                        empty = 0
                    cells.append(cell)
                out.write(f"<table:table-row>{''.join(cells)}</table:table-row>".encode())
            out.write(b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
                      b'table:number-columns-repeated="1024"/></table:table-row></table:table>'
                      b"</office:spreadsheet></office:body></office:document-content>")
    return path


def child(path: Path) -> None:
    """Run in the child process: read every row with the caregraph on the path; print figures."""
    from caregraph.importers import spreadsheet

    started, cpu = time.perf_counter(), os.times()
    rows = sum(1 for record in spreadsheet.rows(path, SHEET) if record.fields)
    after = os.times()
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started,
                      "cpu": after.user + after.system - cpu.user - cpu.system,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--before", default=BEFORE, help=f"the git revision to compare with (default {BEFORE})")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    path = OUT / f"england_{args.rows}_{SHEET}.ods"
    if not path.exists():
        generate(path, args.rows)
    size = zipfile.ZipFile(path).getinfo("content.xml").file_size
    print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB ({size / 1e6:.0f} MB of XML), {args.rows:,} rows; "
          f"medians of {args.runs} runs, interleaved; load average {os.getloadavg()[0]:.1f}")
    codes = {f"before ({args.before})": checkout(args.before), "after (this tree)": None}
    samples: dict[str, list[dict]] = {label: [] for label in codes}
    for _ in range(args.runs):
        for label, code in codes.items():
            env = {**os.environ, "PYTHONPATH": str(code / "src")} if code else None
            done = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True,
                                  text=True, check=True, env=env)
            samples[label].append(json.loads(done.stdout))
    for reader, runs in samples.items():
        print(f"  {reader:<22} {runs[0]['rows']:,} rows  {statistics.median(r['seconds'] for r in runs):6.1f} s "
              f"{statistics.median(r['cpu'] for r in runs):6.1f} s CPU {max(r['peak_mb'] for r in runs):6.0f} MB peak")


if __name__ == "__main__":
    main()
