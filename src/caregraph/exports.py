"""CSV tables of the alignment and quality views, one file per table, for spreadsheets.

Lists inside a cell (duty ids, bodies, laws) are separated by "; ". The columns of each file
are the keys of COLUMNS below, documented in docs/alignment.md ("Tables and figures").
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

COLUMNS: dict[str, tuple[str, ...]] = {
    "matrix.csv": ("theme_id", "theme", "broader_theme_id", "sector", "duties", "duty_ids", "accountable"),
    "bridges.csv": ("duty_id", "duty", "sectors", "ties", "why", "accountable", "other_holders", "law"),
    "gaps.csv": ("kind", "subject_id", "subject", "sectors", "duty_ids", "message"),
    "overlaps.csv": ("kind", "subject_id", "subject", "role", "bodies", "message"),
    "single_points_of_failure.csv": ("kind", "actor_id", "actor", "measure"),
    "changes.csv": ("date", "kind", "subject_id", "subject", "from_body", "to_body", "law", "message"),
    "quality_councils.csv": ("gss", "council", "locations", "outstanding", "good", "requires_improvement",
                             "inadequate", "not_rated", "rated", "share_inadequate_or_requires_improvement",
                             "beds", "beds_in_inadequate_or_requires_improvement", "difference_points"),
    "quality_service_types.csv": ("area", "service_type_id", "service_type", "locations", "outstanding", "good",
                                  "requires_improvement", "inadequate", "not_rated", "rated",
                                  "share_inadequate_or_requires_improvement", "beds",
                                  "beds_in_inadequate_or_requires_improvement", "difference_points"),
}


def _join(items: Iterable[str]) -> str:
    return "; ".join(i for i in items if i)


def _write(folder: Path, name: str, rows: Iterable[tuple]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS[name])
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def alignment_tables(result: dict, folder: Path) -> list[Path]:
    """Write the alignment's tables (and its changes, when it has them) into `folder`."""
    themes = {t["id"]: t for t in result["matrix"]["themes"]}
    written = [
        _write(folder, "matrix.csv", (
            (c["theme"], themes[c["theme"]]["label"], themes[c["theme"]]["broader"], c["sector"], c["count"],
             _join(d["id"] for d in c["duties"]),
             _join(dict.fromkeys(a["label"] for d in c["duties"] for a in d["accountable"])))
            for c in result["matrix"]["cells"])),
        _write(folder, "bridges.csv", (
            (b["duty"]["id"], b["duty"]["label"], _join(b["sectors"]), _join(b["ties"]), _join(b["why"]),
             _join(h["label"] for h in b["holders"] if h["role"] == "accountable"),
             _join(f"{h['label']} ({h['role']})" for h in b["holders"] if h["role"] != "accountable"),
             _join(law["label"] for law in b["law"]))
            for b in result["bridges"])),
        _write(folder, "gaps.csv", (
            (g["kind"], (g.get("theme") or g.get("actor"))["id"], (g.get("theme") or g.get("actor"))["label"],
             _join(g.get("sectors", [])), _join(g["duties"]), g["message"])
            for g in result["gaps"])),
        _write(folder, "overlaps.csv", (
            (o["kind"], (o.get("duty") or o.get("place"))["id"], (o.get("duty") or o.get("place"))["label"],
             o["role"]["label"] if "role" in o else "", _join(b["label"] for b in o["bodies"]), o["message"])
            for o in result["overlaps"])),
    ]
    spof = result["single_points_of_failure"]
    written.append(_write(folder, "single_points_of_failure.csv", [
        *(("articulation point", a["id"], a["label"], a["separates"]) for a in spof["articulation_points"]),
        *(("dominator", a["id"], a["label"], len(a["dependants"])) for a in spof["dominators"]),
        *(("central", a["id"], a["label"], a["betweenness"]) for a in spof["central"])]))
    if "changes" in result:
        written.append(_write(folder, "changes.csv", (
            (c["date"], c["kind"], _subject(c)["id"], _subject(c)["label"], _bodies(c.get("from_body")),
             _bodies(c.get("to_body")), _join(law["label"] for law in c["law"]), c["message"])
            for c in result["changes"]["items"])))
    return written


def _subject(change: dict) -> dict:
    return change.get("duty") or change.get("actor") or change["event"]


def _bodies(value: dict | list | None) -> str:
    if value is None:
        return ""
    return _join(b["label"] for b in (value if isinstance(value, list) else [value]))


def _tally_cells(t: dict) -> tuple:
    r = t["ratings"]
    return (t["locations"], r["Outstanding"], r["Good"], r["Requires improvement"], r["Inadequate"], r["Not rated"],
            t["rated"], t["share_inadequate_or_requires_improvement"], t["beds"],
            t["beds_in_inadequate_or_requires_improvement"])


def quality_tables(folder: Path, councils: list[dict] | None = None, area: dict | None = None) -> list[Path]:
    """Write the council table and/or one area's service types (England's or a council's) into `folder`."""
    written = []
    if councils is not None:
        written.append(_write(folder, "quality_councils.csv", (
            (c["council"]["id"], c["council"]["label"], *_tally_cells(c), c["difference_points"]) for c in councils)))
    if area is not None:
        written.append(_write(folder, "quality_service_types.csv", (
            (area["area"]["label"], s["service_type"]["id"], s["service_type"]["label"], *_tally_cells(s),
             s.get("difference_points")) for s in area["service_types"])))
    return written
