"""`caregraph import cqc-api PATH`: records from CQC's public API v1 (`/locations/{id}`,
`/providers/{id}`), as one JSON file or a folder of them (`location_*.json`,
`provider_*.json`, searched recursively). Each file's record kind is read from its content:
a location (`locationId`, `organisationType` "Location"), a provider (`providerId`,
`organisationType` "Provider"), or a list page (`locations` or `providers`), whose provider
names are used and whose locations are checked against the detail records.

The API gives the ICB as a GSS code (`onspdIcbCode`), so a location links to its ICB
without matching names.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from caregraph.importers import ids
from caregraph.importers.common import (CQC_ATTRIBUTION, OGL, ImportFailed, ImportReport, Progress, Staging, day,
                                        parse_date)
from caregraph.importers.linking import P_FROM, P_TO, Linker, LocationRecord, beds
from caregraph.store import Store

LICENCE, ATTRIBUTION = OGL, CQC_ATTRIBUTION


def source_files(path: Path) -> list[Path]:
    files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
    if not files:
        raise ImportFailed(path, None, "no .json files in this folder")
    return files


def progress_total(files: list[Path]) -> int:
    return sum(f.stat().st_size for f in files)


def file_as_of(path: Path) -> tuple[dt.date | None, str]:
    return None, ""  # API records describe the register on the day they were fetched


def _load(path: Path) -> object:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ImportFailed(path, None, f"byte {exc.start + 1} is not UTF-8 text: the file is corrupted") from None
    except json.JSONDecodeError as exc:
        raise ImportFailed(path, exc.lineno, f"not valid JSON ({exc.msg}, column {exc.colno}): the file is "
                                             "truncated or corrupted") from None


def _person(contact: object) -> str:
    contact = _fields(contact)
    return " ".join(str(contact.get(k) or "").strip() for k in ("personTitle", "personGivenName", "personFamilyName")
                    if contact.get(k)).strip()


def _fields(value: object) -> dict:
    """A JSON object's fields; none for anything else (a record may hold any JSON where an object belongs)."""
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _items(value: object) -> list:
    """A JSON list's items as objects' fields; nothing for anything else."""
    return [_fields(item) for item in value] if isinstance(value, list) else []


def read(store: Store, files: list[Path], staging: Staging, report: ImportReport, progress: Progress, *,
         with_names: bool) -> None:
    linker = Linker(store, staging, report, with_names=with_names)
    listed: dict[str, str] = {}
    detailed: set[str] = set()
    for path in files:
        data = _load(path)
        progress.advance(path.stat().st_size)
        records = data if isinstance(data, list) else [data]
        for n, record in enumerate(records):
            where = path.name if len(records) == 1 else f"{path.name} item {n + 1}"
            if not isinstance(record, dict):
                report.rows_read += 1
                report.skip(where, "not a CQC API record (not a JSON object)")
            elif isinstance(record.get("locations"), list) or isinstance(record.get("providers"), list):
                _listing(linker, record, listed)
            elif record.get("organisationType") == "Location" or "locationId" in record:
                report.rows_read += 1
                detailed.add(str(record.get("locationId")))
                if _location(linker, where, record):
                    report.rows_linked += 1
            elif record.get("organisationType") == "Provider" or "providerId" in record:
                report.rows_read += 1
                if _provider(linker, where, record):
                    report.rows_linked += 1
            else:
                report.rows_read += 1
                keys = ", ".join(sorted(map(str, record))[:5]) or "no fields"
                report.skip(where, f"not a CQC API location or provider record (no locationId or providerId; "
                                   f"it has {keys})")
    missing = sorted(set(listed) - detailed)
    if missing:
        report.note(f"{len(missing)} location(s) are in a list page but have no detail record, so are not "
                    f"imported: {', '.join(missing[:10])}" + (" ..." if len(missing) > 10 else ""))
    linker.finish()


def _listing(linker: Linker, page: dict, listed: dict[str, str]) -> None:
    for item in _items(page.get("providers")):
        provider_id = str(item.get("providerId", ""))
        if ids.PROVIDER_ID.match(provider_id) and item.get("providerName"):
            linker.provider(provider_id, str(item["providerName"]))
    for item in _items(page.get("locations")):
        listed[str(item.get("locationId", ""))] = str(item.get("locationName", ""))


def _location(linker: Linker, where: str, record: dict) -> bool:
    manager = None
    names = [_person(c) for activity in _items(record.get("regulatedActivities"))
             for c in _items(activity.get("contacts")) if "Registered Manager" in _list(c.get("personRoles"))]
    if names:
        manager = names[0]
    overall = _fields(_fields(record.get("currentRatings")).get("overall"))
    return linker.location(where, LocationRecord(
        location_id=str(record.get("locationId", "")), provider_id=str(record.get("providerId", "")),
        name=str(record.get("name") or ""), council_name=str(record.get("localAuthority") or ""),
        also_known_as=str(record.get("alsoKnownAs") or ""), postcode=str(record.get("postalCode") or ""),
        service_types=[str(s.get("description") or s.get("name") or "") for s in _items(record.get("gacServiceTypes"))],
        activities=[str(a.get("code") or a.get("name") or "") for a in _items(record.get("regulatedActivities"))],
        rating=str(overall.get("rating") or ""), beds=beds(str(record.get("numberOfBeds") or "")),
        registered_from=parse_date(str(record.get("registrationDate") or "")),
        registered_to=parse_date(str(record.get("deregistrationDate") or "")),
        icb_gss=str(record.get("onspdIcbCode") or ""), ods_code=str(record.get("odsCode") or ""),
        manager=manager, phone=str(record.get("mainPhoneNumber") or ""), website=str(record.get("website") or "")))


def _provider(linker: Linker, where: str, record: dict) -> bool:
    provider_id = str(record.get("providerId", ""))
    if not ids.PROVIDER_ID.match(provider_id):
        linker.report.skip(where, f"bad CQC provider id {provider_id!r}")
        return False
    provider = linker.provider(provider_id, str(record.get("name") or ""))
    linker.contact(where, provider, str(record.get("mainPhoneNumber") or ""), str(record.get("website") or ""))
    start, end = (parse_date(str(record.get(k) or "")) for k in ("registrationDate", "deregistrationDate"))
    if start and end and end < start:
        linker.report.note(f"{where}: deregistered before registered; dates left out")
    else:
        if start:
            linker.staging.add(provider, P_FROM, day(start))
        if end:
            linker.staging.add(provider, P_TO, day(end))
    for activity in _items(record.get("regulatedActivities")):
        person = activity.get("nominatedIndividual")
        if isinstance(person, dict) and _person(person):
            linker.post(ids.nominated_individual(provider.value), "nominated-individual", provider, _person(person))
            break
    return True

