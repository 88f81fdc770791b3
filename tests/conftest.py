"""Shared fixtures: the curated graph built once per session, and the public data when present."""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pyoxigraph as ox
import pytest

from caregraph.build import open_store
from caregraph.store import OxigraphStore

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def _test_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("caregraph-data")


@pytest.fixture(autouse=True)
def _no_user_data_folder(_test_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run without --store use a default store in a temporary data folder (one for the
    session, so it is built once), never the user's own data folder or CAREGRAPH_STORE."""
    monkeypatch.setenv("CAREGRAPH_DATA_DIR", str(_test_data_dir))
    monkeypatch.delenv("CAREGRAPH_STORE", raising=False)


@pytest.fixture(scope="module")
def server():
    """A caregraph server in its own process on a free loopback port, for one module's tests
    (a module that needs other settings defines its own `server`)."""
    from fixtures.api.live_server import LiveServer

    live = LiveServer()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def store() -> OxigraphStore:
    built, _ = open_store()
    return built


@functools.cache
def _curated_quads() -> bytes:
    built, _ = open_store()
    out = io.BytesIO()
    built.raw.dump(out, ox.RdfFormat.N_QUADS)
    return out.getvalue()


def fresh_curated() -> OxigraphStore:
    """A new store holding the curated graph (built once, copied for each test that imports)."""
    copy = OxigraphStore()
    copy.raw.load(_curated_quads(), ox.RdfFormat.N_QUADS)
    return copy


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data not present at {SHARED_DATA}")
    return SHARED_DATA


ODS_MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
                'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')


def write_ods(path: Path, rows: list[list[str]], sheet: str = "HSCA_Active_Locations") -> Path:
    """An OpenDocument spreadsheet as CQC publishes one: a README sheet, then `rows` in `sheet`,
    padded with the million repeated empty rows spreadsheet programs write."""
    def cells(row: list[str]) -> str:
        return "".join(f'<table:table-cell office:value-type="string"><text:p>{escape(c)}</text:p></table:table-cell>'
                       if c else "<table:table-cell/>" for c in row)
    body = "".join(f"<table:table-row>{cells(r)}</table:table-row>" for r in rows)
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               '<table:table table:name="README"><table:table-row><table:table-cell><text:p>About</text:p>'
               f'</table:table-cell></table:table-row></table:table><table:table table:name="{sheet}">{body}'
               '<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
               'table:number-columns-repeated="1024"/></table:table-row></table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST)
        archive.writestr("content.xml", content)
    return path
