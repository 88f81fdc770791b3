"""The list of escalation routes caregraph knows, for browsing (one route: escalation.load_route)."""

from __future__ import annotations

from caregraph.namespaces import ROUTE, short_id
from caregraph.store import Store, value


def list_routes(store: Store) -> list[dict]:
    """Every route with its problem and themes, ordered by label."""
    routes: dict[str, dict] = {}
    for row in store.select("route_list"):
        entry = routes.setdefault(row["route"].value, {
            "id": short_id(row["route"].value), "uri": row["route"].value,
            "label": value(row["label"]), "problem": value(row["problem"]), "themes": []})
        if row["theme"] is not None:
            theme = {"id": short_id(row["theme"].value), "label": value(row["themeLabel"])}
            if theme not in entry["themes"]:
                entry["themes"].append(theme)
    return list(routes.values())


def route_iri(text: str) -> str:
    key = text.strip()
    return key if key.startswith(ROUTE) else ROUTE + key
