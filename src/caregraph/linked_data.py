"""Caregraph's resources as linked data: what the graph says about one IRI, and the JSON-LD
context that names caregraph's terms and identifier prefixes."""

from __future__ import annotations

import pyoxigraph as ox

from caregraph.namespaces import BASE, CG, FOAF, ID, PREFIXES
from caregraph.store import Store, iri

# Prefixes for the curated identifier kinds under /id/ (ontology/README.md) and the vocabularies used;
# linked records (council, icb, provider, location) stay full IRIs, as those words name properties.
JSONLD_PREFIXES = {
    **PREFIXES,
    "owl": "http://www.w3.org/2002/07/owl#",
    "foaf": FOAF,
    "event": ID + "event/",
    "theme": ID + "theme/",
    "sector": ID + "sector/",
    "modality": ID + "modality/",
    "status": ID + "status/",
    "confidence": ID + "confidence/",
    "kind": ID + "actor-kind/",
    "relation": ID + "relation/",
    "source": ID + "source/",
    "source-kind": ID + "source-kind/",
    "problem": ID + "problem/",
    "outside": ID + "out-of-scope/",
    "legislation": "http://www.legislation.gov.uk/id/",
}


def jsonld_context() -> dict:
    """The published @context: prefixes, and dates and IRIs typed so compact JSON reads naturally."""
    terms: dict[str, object] = dict(sorted(JSONLD_PREFIXES.items()))
    terms["@vocab"] = CG
    for name in ("validFrom", "validTo", "enactedOn", "date"):
        terms[name] = {"@id": CG + name, "@type": "http://www.w3.org/2001/XMLSchema#date"}
    for name in ("holder", "raciRole", "legalBasis", "theme", "sector", "modality", "status", "confidence",
                 "oversightBy", "actorKind", "counterpart", "relation", "stepActor", "playsRole", "provider",
                 "council", "icb", "nonStatutoryBasis", "relatedLaw", "sourceKind", "keyDuty", "problemRoute"):
        terms[name] = {"@id": CG + name, "@type": "@id"}
    return {"@context": terms}


def is_caregraph_iri(text: str) -> bool:
    return text.startswith(ID) or text.startswith(BASE + "def")


def describe(store: Store, resource: str) -> list[ox.Triple]:
    """The triples about `resource` and the nodes minted under it, with the labels of what
    they point to; empty when the graph says nothing about it. Ordered for reading: the
    resource first, then its minted nodes, then the rest, each subject's triples together
    (Turtle groups consecutive triples of one subject)."""
    minted = resource + "/"

    def order(triple: ox.Triple) -> tuple:
        subject = triple.subject.value
        return subject != resource, not subject.startswith(minted), subject, triple.predicate.value, str(triple.object)
    return sorted(dict.fromkeys(store.construct("resource_description", [{"resource": iri(resource)}])), key=order)
