"""What an operator can configure about the HTTP service, from code or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    """Limits and switches of one server (where its SPARQL workers read comes from the store)."""

    # Every SPARQL query is stopped after this many seconds (pyoxigraph has no timeout of its own).
    query_timeout: float = 5.0
    # A SPARQL result is cut, with a marker in the document, once it reaches this many bytes.
    result_limit: int = 50_000_000
    # SPARQL updates are refused unless this token is configured and sent as a bearer token.
    update_token: str | None = None
    # Worker processes that run SPARQL queries; a runaway query ties up one until it is killed.
    sparql_workers: int = 2
    # How much memory a SPARQL worker may add to what it shares with the server (0: no cap).
    worker_memory: int = 4 * 2**30
    # Largest request body (RDF to validate, a SPARQL query or update) accepted.
    upload_limit: int = 10_000_000
    # Answers of the JSON API kept per store generation (a write empties it).
    answer_cache: int = 2048
    # Bytes of complete SPARQL results kept for repeated queries (0: none); a write makes them misses.
    sparql_cache: int = 64 * 2**20
    # Remote IRIs that SPARQL may reach: SERVICE endpoints and LOAD sources, exactly as written.
    # Empty (the default): no query or update makes any request to another server.
    federation: frozenset[str] = frozenset()
    # Build the indexes answers need at start and after each write, before a request waits for them.
    warm_indexes: bool = True

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Settings from CAREGRAPH_* environment variables, then `overrides`."""
        values: dict[str, object] = {
            "query_timeout": _env_float("CAREGRAPH_QUERY_TIMEOUT", cls.query_timeout),
            "result_limit": _env_int("CAREGRAPH_RESULT_LIMIT", cls.result_limit),
            "update_token": os.environ.get("CAREGRAPH_UPDATE_TOKEN") or None,
            "sparql_workers": _env_int("CAREGRAPH_SPARQL_WORKERS", cls.sparql_workers),
            "upload_limit": _env_int("CAREGRAPH_UPLOAD_LIMIT", cls.upload_limit),
            "worker_memory": _env_int("CAREGRAPH_WORKER_MEMORY", cls.worker_memory),
            "answer_cache": _env_int("CAREGRAPH_ANSWER_CACHE", cls.answer_cache),
            "sparql_cache": _env_int("CAREGRAPH_SPARQL_CACHE", cls.sparql_cache),
            "federation": frozenset(os.environ.get("CAREGRAPH_FEDERATION", "").replace(",", " ").split()),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
