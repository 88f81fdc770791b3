"""`caregraph import cqc-export FILE`: CQC's location exports with `Location ...` and
`Provider ...` columns, as CSV or as the OpenDocument spreadsheet CQC publishes:

- the "care directory with filters" (`DD_Month_YYYY_HSCA_Active_Locations.ods`, sheet
  `HSCA_Active_Locations`, 122 columns with `Regulated activity - X` and `Service type - X`
  flag columns; older editions put the header on row 7, after a title block);
- the 45-column adult social care export (`Location ID`, `Location Local Authority`,
  `Service Types` as a comma-separated list, `Registered manager`, `Publication Date` in
  the US form `1/2/2025 12:00:00 AM`).

Headers are matched case-insensitively, exact name first, then by prefix.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from caregraph.importers import spreadsheet
from caregraph.importers.common import (CQC_ATTRIBUTION, OGL, ImportFailed, ImportReport, Progress, Record, Staging,
                                        csv_records, file_date, parse_date)
from caregraph.importers.linking import Linker, LocationRecord, beds, split_list
from caregraph.store import Store

LICENCE, ATTRIBUTION = OGL, CQC_ATTRIBUTION
SHEET = "HSCA_Active_Locations"
HEADER_LIMIT = 12
FIELDS = {
    "location_id": ("location id",),
    "name": ("location name",),
    "local_authority": ("location local authority",),
    "provider_id": ("provider id",),
    "provider_name": ("provider name",),
    "manager": ("registered manager",),
    "postcode": ("location postal code", "location post code"),
    "registered_from": ("location hsca start date",),
    "registered_to": ("location hsca end date",),
    "rating": ("location latest overall rating",),
    "service_types": ("service types",),
    "beds": ("care homes beds",),
    "also_known_as": ("location also known as",),
    "ods_code": ("location ods code",),
    "nominated_individual": ("provider nominated individual name",),
    "phone": ("location telephone number",),
    "website": ("location web address",),
    "provider_phone": ("provider telephone number",),
    "provider_website": ("provider web address",),
}
REQUIRED = ("location_id", "name", "local_authority", "provider_id")
ACTIVITY_FLAG, SERVICE_FLAG = "regulated activity - ", "service type - "


def source_files(path: Path) -> list[Path]:
    if not path.is_file():
        raise ImportFailed(path, None, "give the export file (.csv or .ods), not a folder")
    if path.suffix.lower() not in (".csv", ".ods"):
        raise ImportFailed(path, None, "read as CSV or OpenDocument (.ods): save an .xlsx edition in one of those")
    return [path]


def progress_total(files: list[Path]) -> int:
    path = files[0]
    return spreadsheet.content_size(path) if path.suffix.lower() == ".ods" else path.stat().st_size


def file_as_of(path: Path) -> tuple[dt.date | None, str]:
    found = file_date(path)
    return (found, "from the file name") if found else (None, "")


def columns(header: list[str]) -> tuple[dict[str, int], dict[int, str], dict[int, str]]:
    """Which column holds each field, and the regulated-activity and service-type flag columns."""
    folded = [" ".join(h.strip().lower().split()) for h in header]
    found: dict[str, int] = {}
    for field, names in FIELDS.items():
        for name in names:
            hits = [i for i, h in enumerate(folded) if h == name] or [i for i, h in enumerate(folded)
                                                                      if h.startswith(name)]
            if hits:
                found[field] = hits[0]
                break
    activities = {i: header[i].strip()[len(ACTIVITY_FLAG):] for i, h in enumerate(folded)
                  if h.startswith(ACTIVITY_FLAG)}
    services = {i: header[i].strip()[len(SERVICE_FLAG):] for i, h in enumerate(folded) if h.startswith(SERVICE_FLAG)}
    return found, activities, services


def _records(path: Path, progress: Progress):
    if path.suffix.lower() != ".ods":
        return csv_records(path, progress), False
    return spreadsheet.rows(path, SHEET, progress), True


def read(store: Store, files: list[Path], staging: Staging, report: ImportReport, progress: Progress, *,
         with_names: bool) -> None:
    path = files[0]
    linker = Linker(store, staging, report, with_names=with_names)
    records, padded = _records(path, progress)
    header: list[str] | None = None
    for record in records:
        if header is None:
            if any(" ".join(f.strip().lower().split()) == "location id" for f in record.fields):
                header = record.fields
                where, activity_flags, service_flags = columns(header)
                missing = [f for f in REQUIRED if f not in where]
                if missing:
                    raise ImportFailed(path, record.line, "the header has no column for " + ", ".join(missing))
            elif record.line >= HEADER_LIMIT:
                raise ImportFailed(path, record.line, f"no header row with 'Location ID' in the first "
                                                      f"{HEADER_LIMIT} rows")
            continue
        if not any(f.strip() for f in record.fields):
            continue
        fields = record.fields
        if padded and len(fields) < len(header):
            fields = fields + [""] * (len(header) - len(fields))  # ODS leaves trailing empty cells out
        if len(fields) != len(header):
            raise ImportFailed(path, record.line, f"expected {len(header)} fields, found {len(fields)}: the file "
                                                  "is truncated or corrupted here")
        report.rows_read += 1
        row = Record(record.line, fields, record.terminated)
        if _row(linker, row, where, activity_flags, service_flags):
            report.rows_linked += 1
        elif not record.terminated:
            raise ImportFailed(path, record.line, "the last row is cut off (no end of line) and cannot be read: "
                                                  "the file looks truncated")
    if header is None:
        raise ImportFailed(path, None, "no header row with 'Location ID' found")
    linker.finish()


def _row(linker: Linker, record: Record, where: dict[str, int], activity_flags: dict[int, str],
         service_flags: dict[int, str]) -> bool:
    def get(field: str) -> str:
        return record.fields[where[field]].strip() if field in where else ""

    def flagged(flags: dict[int, str]) -> list[str]:
        return [name for i, name in flags.items() if record.fields[i].strip().upper() == "Y"]

    service_types = split_list(get("service_types"), ",") + flagged(service_flags)
    manager = get("manager") if "manager" in where else None
    nominated = get("nominated_individual") or None
    return linker.location(record.line, LocationRecord(
        location_id=get("location_id"), provider_id=get("provider_id"), name=get("name"),
        council_name=get("local_authority"), provider_name=get("provider_name"),
        also_known_as=get("also_known_as"), postcode=get("postcode"), service_types=service_types,
        activities=flagged(activity_flags), rating=get("rating"), beds=beds(get("beds")),
        registered_from=parse_date(get("registered_from")),
        registered_to=parse_date(get("registered_to")),
        ods_code=get("ods_code"), manager=manager, nominated_individual=nominated,
        phone=get("phone"), website=get("website"), provider_phone=get("provider_phone"),
        provider_website=get("provider_website")))
