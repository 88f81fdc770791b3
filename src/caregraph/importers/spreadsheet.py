"""Reading one sheet of an OpenDocument spreadsheet (.ods), the format CQC publishes its
"care directory with filters" in, row by row without loading the whole file."""

from __future__ import annotations

import zipfile
import zlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from caregraph.importers.common import ImportFailed, Progress, Record

TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
DATE_VALUE = f"{{{OFFICE}}}date-value"
T_TABLE, T_ROW, T_CELL, T_COVERED = (f"{{{TABLE}}}table", f"{{{TABLE}}}table-row", f"{{{TABLE}}}table-cell",
                                     f"{{{TABLE}}}covered-table-cell")
T_NAME, T_ROWS_REPEATED, T_COLS_REPEATED = (f"{{{TABLE}}}name", f"{{{TABLE}}}number-rows-repeated",
                                            f"{{{TABLE}}}number-columns-repeated")
P, SPACE, TAB, BREAK = f"{{{TEXT}}}p", f"{{{TEXT}}}s", f"{{{TEXT}}}tab", f"{{{TEXT}}}line-break"
# A repeated empty cell or row is how ODS pads a sheet to its full size; never expand those.
MAX_REPEAT = 1024


def sheet_names(path: Path) -> list[str]:
    names = []
    for _, element in ET.iterparse(_content(path), events=("start",)):
        if element.tag == T_TABLE:
            names.append(element.get(T_NAME, ""))
    return names


def content_size(path: Path) -> int:
    """The size of the sheet data (content.xml) unpacked, for the progress bar."""
    try:
        return zipfile.ZipFile(path).getinfo("content.xml").file_size
    except (zipfile.BadZipFile, KeyError):
        return path.stat().st_size


class _Counting:
    """A stream that moves the progress bar as it is read."""

    def __init__(self, stream, progress: Progress | None) -> None:
        self.stream, self.progress = stream, progress

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if self.progress is not None:
            self.progress.advance(len(data))
        return data


def _content(path: Path, progress: Progress | None = None) -> _Counting:
    try:
        archive = zipfile.ZipFile(path)
        return _Counting(archive.open("content.xml"), progress)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ImportFailed(path, None, f"not an OpenDocument spreadsheet ({exc}): the file is corrupted or "
                                       "in another format (save it as .ods or .csv)") from None


def _cell_text(cell: ET.Element) -> str:
    """What the cell says; a date cell gives its ISO value, whatever format it is displayed in."""
    if cell.get(DATE_VALUE):
        return cell.get(DATE_VALUE)[:10]
    paragraphs = []
    for p in cell.iter(P):
        parts = [p.text or ""]
        for child in p.iter():
            if child is p:
                continue
            if child.tag == SPACE:
                parts.append(" " * int(child.get(f"{{{TEXT}}}c", "1")))
            elif child.tag == TAB:
                parts.append("\t")
            elif child.tag == BREAK:
                parts.append("\n")
            elif child.text and child.tag != P:
                parts.append(child.text)
            if child.tail:
                parts.append(child.tail)
        paragraphs.append("".join(parts))
    return "\n".join(paragraphs)


def rows(path: Path, sheet: str, progress: Progress | None = None) -> Iterator[Record]:
    """The rows of `sheet`, each as a Record whose `line` is the spreadsheet row number."""
    in_sheet, number = False, 0
    try:
        for event, element in ET.iterparse(_content(path, progress), events=("start", "end")):
            if element.tag == T_TABLE:
                in_sheet = event == "start" and element.get(T_NAME) == sheet
                if event == "end":
                    element.clear()
                continue
            if event != "end" or element.tag != T_ROW:
                continue
            repeat = int(element.get(T_ROWS_REPEATED, "1"))
            if not in_sheet:
                element.clear()
                continue
            fields: list[str] = []
            for cell in element:
                if cell.tag not in (T_CELL, T_COVERED):
                    continue
                value = _cell_text(cell)
                times = int(cell.get(T_COLS_REPEATED, "1"))
                fields.extend([value] * (times if value or times <= MAX_REPEAT else 1))
            while fields and not fields[-1]:
                fields.pop()
            element.clear()
            for _ in range(repeat if fields else 1):
                number += 1
                yield Record(number, list(fields), True)
            if not fields:
                number += repeat - 1
    except (ET.ParseError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ImportFailed(path, number + 1, f"sheet {sheet!r} cannot be read past row {number} ({exc}): the file "
                                             "is truncated or corrupted") from None
