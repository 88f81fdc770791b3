"""A wheel built from the repository carries the ontology, shapes, queries and API, so an
install anywhere finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_ships_the_data_the_package_needs(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(REPO)], check=True)
    wheel = next(tmp_path.glob("caregraph-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (REPO / "ontology").rglob("*.ttl"):
        assert "caregraph/ontology/" + path.relative_to(REPO / "ontology").as_posix() in names
    for path in (REPO / "shapes").glob("*.ttl"):
        assert "caregraph/shapes/" + path.name in names
    for path in (REPO / "src" / "caregraph" / "queries").glob("*.rq"):
        assert "caregraph/queries/" + path.name in names
    for path in (REPO / "api").glob("*.py"):
        assert "caregraph/api/" + path.name in names
    assert any(n.endswith("entry_points.txt") for n in names)
