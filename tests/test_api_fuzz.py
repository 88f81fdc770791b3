"""Schema fuzzing: schemathesis sends generated requests, valid and invalid, to every operation
of the app's OpenAPI document on a real server. No request may get a server error (5xx), and
every response the document describes must match its schema. Bounded to about a minute."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from caregraph.api.app import create_app  # noqa: E402
from caregraph.store import OxigraphStore  # noqa: E402
from fixtures.api.live_server import LiveServer  # noqa: E402

# Operations that validate RDF or run SPARQL cost seconds each; the rest cost milliseconds.
EXAMPLES = 25


@schemathesis.serializer("application/sparql-query", "application/sparql-update", "application/n-triples",
                         "text/turtle")
def _text(ctx: object, value: object) -> bytes:
    """Bodies that are text: whatever was generated, as UTF-8 (non-UTF-8 bodies are in test_api_bad_input)."""
    return value.encode() if isinstance(value, str) else str(value).encode()


@pytest.fixture(scope="module")
def live():
    server = LiveServer({"CAREGRAPH_QUERY_TIMEOUT": "2"})
    yield server
    server.stop()


# The OpenAPI document does not depend on what the store holds: read it from an app over an empty one.
schema = schemathesis.openapi.from_dict(create_app(OxigraphStore()).openapi())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case, live):
    case.call_and_validate(base_url=live.url, timeout=30, checks=[not_a_server_error, response_schema_conformance])
