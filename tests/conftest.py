"""Shared fixtures: the curated graph built once per session, and the public data when present."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import pyoxigraph as ox
import pytest

from caregraph.build import open_store
from caregraph.store import OxigraphStore

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
