"""Reading one sheet of an OpenDocument spreadsheet (.ods), the format CQC publishes its
"care directory with filters" in.

python-calamine (Rust) reads the sheet: on an England-size sheet (50,000 rows of 122
columns, bench/import/ods_reader.py) it took 3.8 s of CPU against 13.7 s for the streaming
ElementTree reader caregraph had before, at the cost of holding the sheet in memory while it
is read (690 MB at its peak against 46 MB). Rows come out as the cell texts the importers
read, numbered as the spreadsheet numbers them.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path

import python_calamine

from caregraph.importers.common import ImportFailed, Progress, Record


def content_size(path: Path) -> int:
    """The size of the sheet data (content.xml) unpacked, for the progress bar."""
    try:
        return zipfile.ZipFile(path).getinfo("content.xml").file_size
    except (zipfile.BadZipFile, KeyError):
        return path.stat().st_size


def _text(value: object) -> str:
    """What a cell says: a date as its ISO day, a whole number without ".0", TRUE or FALSE."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):     # a datetime too
        return value.isoformat()[:10]
    return str(value)


def rows(path: Path, sheet: str, progress: Progress | None = None) -> Iterator[Record]:
    """The rows of `sheet`, each as a Record whose `line` is the spreadsheet row number, its
    trailing empty cells left out. Raises ImportFailed when the file is not a readable
    spreadsheet or has no such sheet."""
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        if sheet not in workbook.sheet_names:
            raise ImportFailed(path, None, f"no sheet {sheet!r} in this spreadsheet "
                                           f"(sheets: {', '.join(workbook.sheet_names)})")
        data = workbook.get_sheet_by_name(sheet)
    except python_calamine.CalamineError as exc:
        raise ImportFailed(path, None, f"not an OpenDocument spreadsheet, or a damaged one ({exc}): save it "
                                       "again as .ods or .csv") from None
    size = content_size(path) if progress is not None else 0
    # Rows are numbered from the sheet's first; columns start at its first used one.
    count = data.end[0] + 1 if data.end else 0
    offset = [""] * data.start[1] if data.start else []
    for number, row in enumerate(data.iter_rows(), 1):
        fields = offset + [v if v.__class__ is str else _text(v) for v in row]
        while fields and not fields[-1]:
            fields.pop()
        if progress is not None:
            progress.advance(size * number // count - size * (number - 1) // count)
        yield Record(number, fields, True)
