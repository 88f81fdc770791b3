"""Build the indexes derived from one version of the store before anyone waits for them.

Every index is kept per store generation (`Store.cached`): the first request after a
start or a write would otherwise pay for building it (about 4 s for the duty index on an
England-scale store). Warming asks each of them once, through the public functions."""

from __future__ import annotations

from caregraph import actors, duties, escalation, places, responsibility
from caregraph.store import Store


def warm(store: Store) -> None:
    """Build the per-version indexes of `store` now (each is built once however many ask)."""
    responsibility.ask(store, "who is responsible for an unsafe care home")
    escalation.routes_for(store, "abuse or neglect")
    actors.directory(store)
    duties.facets(store)
    duties.headlines(store)
    places.councils(store)
    places.location_names(store)
