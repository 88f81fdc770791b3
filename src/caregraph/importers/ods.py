"""`caregraph import ods FILE`: NHS Organisation Data Service extracts, headerless CSV with 27
columns (1 code, 2 name, 3 NHS England region, 4 ICB ODS code, 10 postcode, 11 open date,
12 close date, dates as YYYYMMDD):

- `etr.csv`, NHS trusts: each an NHS trust linked to its ICB through the ICB's ODS code;
- `eccg.csv`, clinical commissioning groups and sub-ICB locations: open rows are sub-ICB
  locations (a unit of their ICB since 1 July 2022), closed rows the CCGs that ended.

The kind of extract comes from the file name (`etr...`, `eccg...`), which is how ODS names
them. Rows outside England (no NHS England region) are skipped with that reason.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from caregraph.importers import ids
from caregraph.importers.common import (ODS_ATTRIBUTION, OGL, TYPE, ImportFailed, ImportReport, Progress, Staging,
                                        csv_records, day, node, text)
from caregraph.importers.linking import P_FROM, P_ICB, P_LABEL, P_ODS, P_PLAYS, P_POSTCODE, P_TO
from caregraph.namespaces import ACTOR, CG, ORG
from caregraph.store import Store

LICENCE, ATTRIBUTION = OGL, ODS_ATTRIBUTION
COLUMNS = 27
SUB_ICB_FROM = dt.date(2022, 7, 1)
CODE = re.compile(r"^[A-Z0-9]{3,6}$")
KEEP_UPPER = {"NHS", "ICB", "CCG", "UK", "II"}
KEEP_LOWER = {"and", "of", "the", "for", "in", "on", "at", "upon"}


def source_files(path: Path) -> list[Path]:
    if not path.is_file():
        raise ImportFailed(path, None, "give one ODS extract file (etr.csv or eccg.csv)")
    kind(path)
    return [path]


def kind(path: Path) -> str:
    stem = path.stem.lower()
    if stem.startswith("etr"):
        return "trusts"
    if stem.startswith("eccg"):
        return "sub-icb"
    raise ImportFailed(path, None, "cannot tell which ODS extract this is from its name: expected etr.csv "
                                   "(NHS trusts) or eccg.csv (CCGs and sub-ICB locations)")


def progress_total(files: list[Path]) -> int:
    return files[0].stat().st_size


def file_as_of(path: Path) -> tuple[dt.date | None, str]:
    return None, ""


def title(name: str) -> str:
    """ODS names are in capitals; caregraph labels read as written ("NHS Greater Manchester ICB - 00T")."""
    words = []
    for n, word in enumerate(name.split()):
        bare = word.strip("(),-")
        if bare in KEEP_UPPER or re.search(r"\d", bare):
            words.append(word)
        elif n and word.lower() in KEEP_LOWER:
            words.append(word.lower())
        else:
            words.append("-".join(part.capitalize() for part in word.lower().split("-")))
    return " ".join(words).replace("'S ", "'s ")


def _date(value: str) -> dt.date | None:
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8])) if len(value) == 8 else None
    except ValueError:
        return None


def read(store: Store, files: list[Path], staging: Staging, report: ImportReport, progress: Progress, *,
         with_names: bool) -> None:
    path = files[0]
    extract = kind(path)
    icbs = {row["ods"].value: row["icb"].value for row in store.select("import_icbs") if row["ods"] is not None}
    for record in csv_records(path, progress):
        if not any(f.strip() for f in record.fields):
            continue
        if len(record.fields) != COLUMNS:
            raise ImportFailed(path, record.line, f"expected {COLUMNS} fields, found {len(record.fields)}: the "
                                                  "file is truncated or corrupted here, or not an ODS extract")
        report.rows_read += 1
        skipped_before = len(report.skipped)
        code, name, region, icb_code = (f.strip() for f in record.fields[:4])
        opened, closed = _date(record.fields[10].strip()), _date(record.fields[11].strip())
        if not CODE.match(code):
            report.skip(record.line, f"bad ODS code {code!r}")
        elif not name:
            report.skip(record.line, f"{code} has no name")
        elif not region:
            report.skip(record.line, f"{code} {title(name)} is not an English NHS body (no NHS England region)")
        elif closed and opened and closed < opened:
            report.skip(record.line, f"{code} closed before it opened")
        elif extract == "trusts":
            _trust(staging, report, record.line, code, name, icb_code, icbs, opened, closed, record.fields[9])
            report.rows_linked += 1
        elif closed is None:
            if icb_code not in icbs:
                report.skip(record.line, f"sub-ICB location {code}: its ICB code {icb_code!r} is not one caregraph "
                                         "knows")
                continue
            _sub_icb(staging, code, name, icbs[icb_code])
            report.rows_linked += 1
        else:
            _ccg(staging, code, name, opened, closed)
            report.rows_linked += 1
        if not record.terminated and len(report.skipped) > skipped_before:
            raise ImportFailed(path, record.line, "the last row is cut off (no end of line) and cannot be read: "
                                                  "the file looks truncated")


def _trust(staging: Staging, report: ImportReport, line: int, code: str, name: str, icb_code: str,
           icbs: dict[str, str], opened: dt.date | None, closed: dt.date | None, postcode: str) -> None:
    add, trust = staging.add, node(ids.trust(code))
    add(trust, TYPE, node(CG + "NHSTrust"))
    add(trust, P_LABEL, text(title(name)))
    add(trust, P_ODS, text(code))
    add(trust, P_PLAYS, node(ACTOR + "nhs-trust"))
    if opened:
        add(trust, P_FROM, day(opened))
    if closed:
        add(trust, P_TO, day(closed))
    if ids.postcode(postcode):
        add(trust, P_POSTCODE, text(ids.postcode(postcode)))
    # A closed trust's ICB column names whoever covers its old area now, not a body it belonged to.
    if closed is None or closed >= SUB_ICB_FROM:
        if icb_code in icbs:
            add(trust, P_ICB, node(icbs[icb_code]))
        elif icb_code:
            report.note(f"line {line}: trust {code}'s ICB code {icb_code!r} is not one caregraph knows; not linked")


def _sub_icb(staging: Staging, code: str, name: str, icb: str) -> None:
    add, unit = staging.add, node(ids.SUB_ICB + code)
    add(unit, TYPE, node(ORG + "OrganizationalUnit"))
    add(unit, P_LABEL, text(title(name)))
    add(unit, P_ODS, text(code))
    add(unit, node(ORG + "unitOf"), node(icb))
    add(unit, P_ICB, node(icb))
    add(unit, P_FROM, day(SUB_ICB_FROM))


def _ccg(staging: Staging, code: str, name: str, opened: dt.date | None, closed: dt.date) -> None:
    # Typed with W3C ORG's class: it plays the CCG role for its dates, but is no actor of the curated graph.
    add, ccg = staging.add, node(ids.CCG + code)
    add(ccg, TYPE, node(ORG + "Organization"))
    add(ccg, P_LABEL, text(title(name)))
    add(ccg, P_ODS, text(code))
    add(ccg, P_PLAYS, node(ACTOR + "ccg"))
    if opened:
        add(ccg, P_FROM, day(opened))
    add(ccg, P_TO, day(closed))
