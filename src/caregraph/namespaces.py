"""IRIs caregraph mints and the vocabularies it uses."""

from __future__ import annotations

BASE = "https://w3id.org/caregraph/"
CG = BASE + "def#"
ID = BASE + "id/"
GRAPH = BASE + "graph/"
# RDF 1.1 skolem IRIs for blank nodes that have no caregraph resource to be named after.
GENID = BASE + ".well-known/genid/"

ACTOR = ID + "actor/"
DUTY = ID + "duty/"
ROUTE = ID + "route/"
RACI = ID + "raci/"
STATUS = ID + "status/"
CONFIDENCE = ID + "confidence/"

INFERRED_GRAPH = GRAPH + "inferred"
PROVENANCE_GRAPH = GRAPH + "provenance"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
ELI = "http://data.europa.eu/eli/ontology#"
ORG = "http://www.w3.org/ns/org#"
FOAF = "http://xmlns.com/foaf/0.1/"

LEGISLATION_ID = "http://www.legislation.gov.uk/id/"

PREFIXES = {
    "cg": CG,
    "actor": ACTOR,
    "duty": DUTY,
    "route": ROUTE,
    "raci": RACI,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "eli": ELI,
    "org": ORG,
}


def short_id(iri: str) -> str:
    """The part of a caregraph IRI a person types: 'cqc' for .../id/actor/cqc."""
    if iri.startswith(ID):
        return iri.rsplit("/", 1)[-1]
    return iri
