"""Bad input at the command line: each case gets its exit code, a message that names the
problem, no traceback or internal path, and an on-disk store left exactly as it was. Imports
that would lose data (nothing linked, an older file over a newer import) are refused."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from caregraph.build import open_store
from caregraph.cli import main
from caregraph.store import OxigraphStore

REGISTERS = Path(__file__).resolve().parent / "fixtures" / "registers"
DIRECTORY_2026 = REGISTERS / "16_September_2026_CQC_directory.csv"
API = REGISTERS / "api"
HEADER = ("Name,Also known as,Address,Postcode,Phone number,Service types,Date of latest check,Specialisms/services,"
          "Provider name,Local authority,Region,Location URL,CQC Location ID (for office use only),"
          "CQC Provider ID (for office use only)\n")
ROW = "{name},,1 Road,LS1 1AA,,Residential homes,,,Some Care Ltd,{council},North West,,1-100000009,1-200000009\n"
INTERNALS = ("Traceback", "site-packages", ".py\"", "caregraph/", "Error:")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bad-input") / "store"
    store, _ = open_store(path)
    store.close()
    return path


@pytest.fixture
def disk(built, tmp_path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(built, target)
    return target


def state(path: Path) -> str:
    """A digest of everything in the store."""
    store = OxigraphStore(path, read_only=True)
    out = io.BytesIO()
    store.raw.dump(out, ox.RdfFormat.N_QUADS)
    store.close()
    return hashlib.sha256(b"".join(sorted(out.getvalue().splitlines()))).hexdigest()


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = main(list(argv), out=out)
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
    gc.collect()  # let go of the store before the next command opens it
    return code, out.getvalue(), err.getvalue()


def files(folder: Path) -> None:
    """The malformed inputs, written fresh for each test."""
    made = {
        "latin1.csv": (HEADER + ROW.format(name="Caf\xe9 Home", council="Leeds")).encode("latin-1"),
        "broken.csv": (HEADER + '"Unclosed quote,,1 Road,LS1 1AA\n').encode(),
        "nul.csv": (HEADER + ROW.format(name="A\x00B", council="Leeds")).encode(),
        "empty.csv": b"",
        "header-only.csv": HEADER.encode(),
        "wrong-header.csv": b"Name,Town\nA,Leeds\n",
        "01_October_2026_CQC_directory.csv": (HEADER + ROW.format(name="Nowhere", council="Narnia")).encode(),
        "export.xlsx": b"PK\x03\x04 not really a spreadsheet",
        "etc.csv": b"a,b\n",
    }
    for name, data in made.items():
        (folder / name).write_bytes(data)
    (folder / "not-cqc").mkdir()
    (folder / "not-cqc" / "post.json").write_text('{"id": 7, "title": "a blog post"}')
    (folder / "not-cqc" / "list.json").write_text('[{"name": "x"}, 3]')
    (folder / "no-json").mkdir()
    (folder / "no-json" / "notes.txt").write_text("nothing here")
    (folder / "bad.json").write_text('{"locationId": "1-1", ')


CASES = [  # (argv after --store STORE, with {name} for a file above; exit code; words the message must have)
    (["import", "cqc-directory", "{missing.csv}"], 2, "no such file"),
    (["import", "cqc-directory", "{latin1.csv}"], 2, "line 2: byte"),
    (["import", "cqc-directory", "{broken.csv}"], 2, "truncated or corrupted"),
    (["import", "cqc-directory", "{nul.csv}"], 2, "NUL byte"),
    (["import", "cqc-directory", "{empty.csv}"], 2, "no records found"),
    (["import", "cqc-directory", "{header-only.csv}"], 2, "no records found"),
    (["import", "cqc-directory", "{wrong-header.csv}"], 2, "the header has no column"),
    (["import", "cqc-directory", "{01_October_2026_CQC_directory.csv}"], 2, "could be linked"),
    (["import", "cqc-directory", "{not-cqc}"], 2, "not a folder"),
    (["import", "cqc-api", "{not-cqc}"], 2, "it has id, title"),
    (["import", "cqc-api", "{no-json}"], 2, "no .json files"),
    (["import", "cqc-api", "{bad.json}"], 2, "not valid JSON"),
    (["import", "cqc-export", "{export.xlsx}"], 2, "CSV or OpenDocument"),
    (["import", "ods", "{etc.csv}"], 2, "which ODS extract"),
    (["import", "geography", "{etc.csv}"], 2, "give the folder"),
    (["import", "cqc-directory", str(DIRECTORY_2026), "--as-of", "2026-13-01"], 2, "not a date: '2026-13-01'"),
    (["import", "no-such-source", str(DIRECTORY_2026)], 2, "invalid choice: 'no-such-source'"),
    (["export", "-o", "/unwritable/path/out.ttl"], 2, "cannot write /unwritable/path/out.ttl"),
    (["export", "-o", "{no-json}"], 2, "Is a directory"),
    (["export", "--format", "yaml"], 2, "invalid choice: 'yaml'"),
    (["ask", "care home", "--as-of", "yesterday"], 2, "not a date: 'yesterday'"),
    (["ask", "care home", "--limit", "-3"], 2, "not a whole number of 1 or more"),
    (["ask", "care home", "--location", "1-999999999"], 1, "no registered location called '1-999999999'"),
    (["ask", "care home", "--council", "Narnia"], 1, "no council called 'Narnia'"),
    (["path", "no-such-actor-xyz"], 2, "no actor called 'no-such-actor-xyz'"),
    (["path", "cqc", "--limit", "many"], 2, "not a whole number"),
    (["escalate", "abuse", "--as-of", "2020-02-30"], 2, "not a date: '2020-02-30'"),
]


@pytest.mark.parametrize("argv, code, words", CASES, ids=[" ".join(c[0][:3]) for c in CASES])
def test_bad_input_is_answered_cleanly_and_changes_nothing(disk, tmp_path, argv, code, words):
    folder = tmp_path / "inputs"
    folder.mkdir()
    files(folder)
    argv = [str(folder / a[1:-1]) if a.startswith("{") else a for a in argv]
    before = state(disk)
    got, out, err = run("--store", str(disk), *argv)
    message = out + err
    assert got == code, message
    assert words in message
    assert not any(marker in message for marker in INTERNALS), message
    assert state(disk) == before


def test_a_store_path_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a store should be")
    code, out, err = run("--store", str(blocker), "ask", "care home")
    assert code == 2 and "it is a file, not a folder" in err
    assert blocker.read_text() == "a file where a store should be"


def test_a_store_in_use_by_a_writer_is_refused_by_readers_too(disk):
    writer = OxigraphStore(disk)  # as a server with an update token holds it
    try:
        code, out, err = run("--store", str(disk), "ask", "care home")
        assert code == 2 and "in use by another caregraph process" in err
    finally:
        writer.close()
    assert run("--store", str(disk), "ask", "care home unsafe")[0] == 0  # free again


def test_reading_commands_share_a_store_a_reading_server_has_open(disk):
    reader = OxigraphStore(disk, read_only=True)  # as `caregraph serve` without a token holds it
    try:
        code, out, err = run("--store", str(disk), "ask", "care home unsafe")
        assert code == 0 and "Care Quality Commission" in out
        code, out, err = run("--store", str(disk), "import", "cqc-directory", str(DIRECTORY_2026))
        assert code == 2 and "in use by another caregraph process" in err  # but no writing beside it
    finally:
        reader.close()


def test_an_older_file_over_a_newer_import_is_refused_unless_forced(disk):
    assert run("--store", str(disk), "import", "cqc-directory", str(DIRECTORY_2026))[0] == 0
    before = state(disk)
    code, out, err = run("--store", str(disk), "import", "cqc-directory", str(DIRECTORY_2026), "--as-of", "2025-01-01")
    assert code == 2
    assert "as of 2026-09-16, newer than this file (2025-01-01" in err and "--force" in err
    assert state(disk) == before
    code, out, err = run("--store", str(disk), "import", "cqc-directory", str(DIRECTORY_2026),
                         "--as-of", "2025-01-01", "--force")
    assert code == 0 and "as of 2025-01-01" in out
    assert state(disk) != before
    # the same date again, or a newer one, needs no --force
    assert run("--store", str(disk), "import", "cqc-directory", str(DIRECTORY_2026), "--as-of", "2025-01-01")[0] == 0
    assert run("--store", str(disk), "import", "cqc-directory", str(DIRECTORY_2026))[0] == 0


def test_an_import_that_links_nothing_leaves_the_previous_import_intact(disk, tmp_path):
    assert run("--store", str(disk), "import", "cqc-directory", str(DIRECTORY_2026))[0] == 0
    before = state(disk)
    later = tmp_path / "01_October_2026_CQC_directory.csv"  # the same source: it would replace the import
    later.write_text(HEADER + ROW.format(name="Nowhere", council="Narnia"))
    code, out, err = run("--store", str(disk), "import", "cqc-directory", str(later))
    assert code == 2
    assert "not one of the 1 record(s) read could be linked" in err and "'Narnia'" in err
    assert state(disk) == before


def test_a_folder_with_no_cqc_records_names_what_it_found(disk, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "weather.json").write_text('{"city": "Leeds", "temperature": 4}')
    code, out, err = run("--store", str(disk), "import", "cqc-api", str(folder))
    assert code == 2
    assert "not a CQC API location or provider record" in err and "it has city, temperature" in err


def test_a_real_api_folder_still_imports(disk):
    code, out, err = run("--store", str(disk), "import", "cqc-api", str(API))
    assert code == 0, err
