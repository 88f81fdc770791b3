"""Where caregraph keeps what it builds and imports: the user's data folder, unless told otherwise.

The graph lives on disk in `caregraph.oxigraph` inside the user's data folder
(`platformdirs.user_data_dir("caregraph")`, e.g. `~/.local/share/caregraph` on Linux), or
wherever `--store` / `CAREGRAPH_STORE` points. `CAREGRAPH_DATA_DIR` moves the data folder
(the tests point it at a temporary folder). A reference geography rebuilt by `caregraph
import geography` sits beside its store, never inside the installed package.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "CAREGRAPH_DATA_DIR"
STORE_ENV = "CAREGRAPH_STORE"
STORE_NAME = "caregraph.oxigraph"


def data_dir() -> Path:
    """The user's caregraph data folder (not created here)."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("caregraph", appauthor=False))


def default_store() -> Path:
    """The on-disk store used when neither --store nor CAREGRAPH_STORE is given."""
    return data_dir() / STORE_NAME


def store_path(given: str | None, *, memory: bool = False) -> Path | None:
    """The store to open: None for a throwaway in-memory graph, else a path on disk
    (given, else CAREGRAPH_STORE, else the default), with its parent folders created."""
    if memory:
        return None
    path = Path(given or os.environ.get(STORE_ENV) or default_store()).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def geography_dir(store: Path) -> Path:
    """The reference geography `caregraph import geography` rebuilt for this store: a folder
    beside it (`caregraph.oxigraph.geography`), read in place of the shipped files."""
    return store.with_name(store.name + ".geography")
