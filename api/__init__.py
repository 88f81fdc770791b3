"""caregraph's HTTP layer: the JSON API, the SPARQL 1.1 Protocol, SHACL validation,
linked-data URIs and pages for advocates (FastAPI). It holds no SPARQL and no domain
logic: every endpoint calls the library.

Adding an area: write a module here with a FastAPI `router` (an `APIRouter`) whose
endpoints take the store and settings from `caregraph.api.context`, and include it in
`ROUTERS` in `app.py` (one line). Place-specific answers plug into `GET /responsible` the
same way: a module `locations.py` with `router` and a function
`responsible_at(store, question, location, as_of, limit) -> dict` answers
`/responsible?location=...`; without it that parameter gets a clear 501.
"""

from caregraph.api.app import create_app

__all__ = ["create_app"]
