"""IRIs of linked records (councils, boards, ICBs, trusts, CQC providers and locations) and
the identifier patterns they are built from, as the ontology README's linked-records
section gives them. One place, so importers and place answers mint the same nodes."""

from __future__ import annotations

import re

from caregraph.namespaces import BASE, ID

COUNCIL = ID + "council/"
SAB = ID + "sab/"
HEALTHWATCH = ID + "healthwatch/"
ICB = ID + "icb/"
TRUST = ID + "trust/"
SUB_ICB = ID + "sub-icb/"
CCG = ID + "ccg/"
PROVIDER = ID + "provider/"
LOCATION = ID + "location/"
IMPORT_GRAPH = BASE + "graph/import/"

# Tested on the real extracts (FORMATS.md section 3): independent-sector ids are "1-" and
# 9 to 11 digits; NHS trusts' locations use 5-character ODS site codes and their providers
# 3-character trust codes.
LOCATION_ID = re.compile(r"^(?:1-\d{9,11}|[A-Z0-9]{5})$")
PROVIDER_ID = re.compile(r"^(?:1-\d{9,11}|[A-Z0-9]{3})$")
GSS = re.compile(r"^[EWSNKLM]\d{8}$")
ICB_GSS = re.compile(r"^E54\d{6}$")
ICB_ODS = re.compile(r"^Q[A-Z0-9]{2}$")
POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})$")


def location(cqc_id: str) -> str:
    return LOCATION + cqc_id


def provider(cqc_id: str) -> str:
    return PROVIDER + cqc_id


def council(gss: str) -> str:
    return COUNCIL + gss


def icb(gss: str) -> str:
    return ICB + gss


def trust(ods: str) -> str:
    return TRUST + ods


def registered_manager(location_iri: str) -> str:
    """The registered manager's post at a location: the role, whoever holds it."""
    return location_iri + "/registered-manager"


def nominated_individual(provider_iri: str) -> str:
    return provider_iri + "/nominated-individual"


def postcode(text: str) -> str | None:
    """A postcode in capitals with one space (`LS1 4AP`), or None when it is not one."""
    match = POSTCODE.match(re.sub(r"\s+", "", text.upper()))
    return f"{match.group(1)} {match.group(2)}" if match else None
