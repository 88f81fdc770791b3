"""Shared fixtures: the curated graph built once per session, and the public data when present."""

from __future__ import annotations

from pathlib import Path

import pytest

from caregraph.build import open_store
from caregraph.store import OxigraphStore

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def store() -> OxigraphStore:
    built, _ = open_store()
    return built


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data not present at {SHARED_DATA}")
    return SHARED_DATA
