"""Where the ontology and shapes live, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    # A wheel carries ontology/ and shapes/ inside the package; a source checkout or an
    # editable install keeps them at the top of the repository.
    for candidate in (_PACKAGE / name, _PACKAGE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"caregraph cannot find its {name}/ folder next to {_PACKAGE}")


def ontology_dir() -> Path:
    """The folder of hand-written Turtle the graph is built from."""
    return _data_dir("ontology")


def shapes_dir() -> Path:
    """The folder of SHACL shapes."""
    return _data_dir("shapes")
