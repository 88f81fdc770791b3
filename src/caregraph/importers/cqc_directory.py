"""`caregraph import cqc-directory FILE`: CQC's weekly care directory CSV
(`DD_Month_YYYY_CQC_directory.csv`, "Locations regulated by CQC"), and directory-style
exports with a split address.

Handles the title lines before the header (the header is the first row that starts with
"Name"), header drift between editions (headers are matched case-insensitively by prefix,
so 2020's `CQC Location (for office use only` and `Local Authority` are read as today's
`CQC Location ID (for office use only)` and `Local authority`), and the headerless February
2016 layout, whose column order is fixed. Rows with no location id but a provider URL are
provider records. Lists in a cell are separated by `|` (or by commas in some exports).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from caregraph.importers import ids
from caregraph.importers.common import (CQC_ATTRIBUTION, OGL, ImportFailed, ImportReport, Progress, Record, Staging,
                                        csv_records, file_date, text_date)
from caregraph.importers.linking import Linker, LocationRecord, split_list
from caregraph.store import Store

LICENCE, ATTRIBUTION = OGL, CQC_ATTRIBUTION
PREAMBLE_LIMIT = 20

# The February 2016 file has no header; its 15 columns are in this order.
HEADERLESS_2016 = ("Name", "Also known as", "Address", "Postcode", "Phone number", "Service's website (if available)",
                   "Service types", "Date of latest check", "Specialisms/services", "Provider name",
                   "Local authority", "Region", "Location URL", "CQC Location ID (for office use only)",
                   "CQC Provider ID (for office use only)")

# field -> header prefixes, lower case; an exact match is tried before a prefix.
FIELDS = {
    "name": ("name",),
    "also_known_as": ("also known as",),
    "postcode": ("postcode",),
    "service_types": ("service types",),
    "specialisms": ("specialisms",),
    "provider_name": ("provider name",),
    "local_authority": ("local authority",),
    "url": ("location url", "url"),
    "location_id": ("cqc location",),
    "provider_id": ("cqc provider",),
    "phone": ("phone number",),
    "website": ("service's website", "website"),
}
REQUIRED = ("name", "local_authority", "provider_id")


def source_files(path: Path) -> list[Path]:
    if not path.is_file():
        raise ImportFailed(path, None, "give the directory CSV file, not a folder")
    return [path]


def progress_total(files: list[Path]) -> int:
    return sum(f.stat().st_size for f in files)


def file_as_of(path: Path) -> tuple[dt.date | None, str]:
    """The date in the title lines ("This data was produced on 16 September 2026"), else in the file name."""
    try:
        for n, record in enumerate(csv_records(path)):
            if n >= PREAMBLE_LIMIT or _is_header(record.fields):
                break
            found = text_date(" ".join(record.fields))
            if found:
                return found, f"from the file's title line {record.line}"
    except ImportFailed:
        pass  # the read itself reports where the file is broken
    found = file_date(path)
    return (found, "from the file name") if found else (None, "")


def _is_header(fields: list[str]) -> bool:
    return bool(fields) and fields[0].strip().lower() == "name"


def columns(header: list[str]) -> dict[str, int]:
    """Which column holds each field, matching headers by exact name, then by prefix."""
    folded = [" ".join(h.strip().lower().split()) for h in header]
    found: dict[str, int] = {}
    for field, prefixes in FIELDS.items():
        for prefix in prefixes:
            exact = [i for i, h in enumerate(folded) if h == prefix]
            near = [i for i, h in enumerate(folded) if h.startswith(prefix)]
            if exact or near:
                found[field] = (exact or near)[0]
                break
    return found


def read(store: Store, files: list[Path], staging: Staging, report: ImportReport, progress: Progress, *,
         with_names: bool) -> None:
    path = files[0]
    linker = Linker(store, staging, report, with_names=with_names)
    header: list[str] | None = None
    where: dict[str, int] = {}
    for record in csv_records(path, progress):
        if header is None:
            if _is_header(record.fields):
                header, where = record.fields, columns(record.fields)
                missing = [f for f in REQUIRED if f not in where]
                if "location_id" not in where and "url" not in where:
                    missing.append("location_id")
                if missing:
                    raise ImportFailed(path, record.line, "the header has no column for " + ", ".join(missing)
                                       + f" (columns: {', '.join(header)})")
                continue
            if record.line == 1 and len(record.fields) == len(HEADERLESS_2016) \
                    and ids.LOCATION_ID.match(record.fields[13].strip()):
                header, where = list(HEADERLESS_2016), columns(list(HEADERLESS_2016))
                report.note("no header row: read in the headerless February 2016 column order")
            elif record.line > PREAMBLE_LIMIT:
                raise ImportFailed(path, record.line, f"no header row starting with 'Name' in the first "
                                                      f"{PREAMBLE_LIMIT} lines, and line 1 does not have the "
                                                      "15 columns of the headerless 2016 layout")
            else:
                continue  # a title line before the header
        if not any(f.strip() for f in record.fields):
            continue
        if len(record.fields) != len(header):
            raise ImportFailed(path, record.line, f"expected {len(header)} fields, found {len(record.fields)}: "
                                                  "the file is truncated or corrupted here")
        report.rows_read += 1
        if _row(linker, report, record, where):
            report.rows_linked += 1
        elif not record.terminated:
            raise ImportFailed(path, record.line, "the last row is cut off (no end of line) and cannot be read: "
                                                  "the file looks truncated")
    linker.finish()


def _row(linker: Linker, report: ImportReport, record: Record, where: dict[str, int]) -> bool:
    def get(field: str) -> str:
        return record.fields[where[field]].strip() if field in where else ""

    location_id, url = get("location_id"), get("url")
    if not location_id and "/location/" in url:
        location_id = url.rstrip("/").rsplit("/", 1)[-1]
    if not location_id and "/provider/" in url:
        provider_id = get("provider_id")
        if provider_id and provider_id == url.rstrip("/").rsplit("/", 1)[-1]:
            provider = linker.provider(provider_id, get("name") or get("provider_name"))
            linker.contact(f"line {record.line}", provider, get("phone"), get("website"))
            return True
        report.skip(record.line, f"a provider row whose id {provider_id!r} does not match its URL {url!r}")
        return False
    separator = "|" if "|" in get("service_types") + get("specialisms") else ","
    specialisms = split_list(get("specialisms"), separator)
    return linker.location(record.line, LocationRecord(
        location_id=location_id, provider_id=get("provider_id"), name=get("name"),
        council_name=get("local_authority"), provider_name=get("provider_name"),
        also_known_as=get("also_known_as"), postcode=get("postcode"),
        service_types=split_list(get("service_types"), separator), phone=get("phone"), website=get("website"),
        # Before about 2017 the specialisms column also listed the regulated activities.
        activities=[s for s in specialisms if linker.is_activity(s)]))
