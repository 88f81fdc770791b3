"""`caregraph import geography FOLDER`: rebuild the reference geography (shipped in
ontology/geography/) from the ONS and mySociety files a user downloads, into a folder beside
the store.

The folder holds (names may differ; each file is recognised by its header):
- ONS Local Authority Districts (`LADyyCD`, `LADyyNM`): unitary, district, metropolitan and
  London borough codes and names;
- ONS Counties (`CTYyyCD`, `CTYyyNM`): the county councils;
- ONS Integrated Care Boards (`ICByyCD`, `ICByyCDH`, `ICByyNM`): the GSS to ODS crosswalk;
- ONS Local Authority District to County lookup (`LADyyCD`, `CTYyyCD`), optional: checks
  which county each district is in;
- mySociety's `uk_local_authorities.csv`: official names, other names, start and end dates
  and successors, so councils abolished since 2009 are kept with their end dates.

It writes `councils.ttl` (the councils with adult social services responsibilities, with
their Safeguarding Adults Boards and local Healthwatch, and those abolished since 2009),
`districts.ttl` (district councils, the housing authorities of two-tier areas) and
`icbs.ttl`. The spellings CQC uses are hand-written in `cqc-spellings.ttl`, which this
importer leaves alone. The files go beside the store (`<store>.geography/`), never into the
installed package; the next command that opens that store rebuilds its curated graph from them.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from caregraph.contacts import GOV_UK_FINDER
from caregraph.data_folder import geography_dir
from caregraph.importers.common import CC_BY, OGL, ImportFailed
from caregraph.places import name_key

ONS_ATTRIBUTION = ("Source: Office for National Statistics licensed under the Open Government Licence v3.0. "
                   "Contains OS data \u00a9 Crown copyright and database right.")
MYSOCIETY_ATTRIBUTION = "UK Local Authority Names and Codes, mySociety, CC BY 4.0."
# Councils abolished before this date never appear in CQC's register (CQC began on 1 April 2009).
HORIZON = dt.date(2009, 4, 1)
SAB_FROM = dt.date(2015, 4, 1)          # Care Act 2014 s.43 in force
HEALTHWATCH_FROM = dt.date(2013, 4, 1)  # LGPIHA 2007 s.221 as amended, local Healthwatch from April 2013
ICB_FROM = dt.date(2022, 7, 1)          # Health and Care Act 2022: ICBs established 1 July 2022
UPPER_TYPES = {"UA", "MD", "LBO", "CC", "CTY"}
PROVISIONS = {
    "lassa-s7": ("http://www.legislation.gov.uk/id/ukpga/1970/42/section/7",
                 "Local Authority Social Services Act 1970 s.7", "http://www.legislation.gov.uk/id/ukpga/1970/42"),
    "lga-1999-s15": ("http://www.legislation.gov.uk/id/ukpga/1999/27/section/15", "Local Government Act 1999 s.15",
                     "http://www.legislation.gov.uk/id/ukpga/1999/27"),
    "ca-s43": ("http://www.legislation.gov.uk/id/ukpga/2014/23/section/43", "Care Act 2014 s.43",
               "http://www.legislation.gov.uk/id/ukpga/2014/23"),
    "ca-sch2": ("http://www.legislation.gov.uk/id/ukpga/2014/23/schedule/2", "Care Act 2014 Sch.2",
                "http://www.legislation.gov.uk/id/ukpga/2014/23"),
    "lgpiha-s221": ("http://www.legislation.gov.uk/id/ukpga/2007/28/section/221",
                    "Local Government and Public Involvement in Health Act 2007 s.221",
                    "http://www.legislation.gov.uk/id/ukpga/2007/28"),
    "nhsa-s14Z59": ("http://www.legislation.gov.uk/id/ukpga/2006/41/section/14Z59",
                    "National Health Service Act 2006 s.14Z59", "http://www.legislation.gov.uk/id/ukpga/2006/41"),
}
SAB_CAVEAT = ("caregraph names the board after the council's area; its own name, and whether it is a joint "
              "board with a neighbouring council, are not checked.")
HEALTHWATCH_CAVEAT = ("caregraph names the local Healthwatch after the council's area; the organisation that holds "
                      "the council's contract, and any service shared with neighbouring councils, are not checked.")
ICB_CAVEAT = "Names and codes as ONS published them; check for ICB mergers after that list."
# Said in the data itself, so no one takes the GOV.UK page for the council's own website.
FINDER_NOTE = ("A council's foaf:page is its page on GOV.UK's \"find your local council\" service "
               f"({GOV_UK_FINDER}<slug>, the slug from mySociety's gov-uk-slug), which links to the council's own "
               "website; it is not the council's own website. Councils without a slug in mySociety's list (most "
               "created since 2019) have none.")


@dataclass
class CouncilRow:
    gss: str
    label: str
    area: str                      # the area's short name, for the board and Healthwatch labels
    alt: list[str] = field(default_factory=list)
    upper: bool = True             # has adult social services responsibilities
    housing: bool = False
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    successors: list[str] = field(default_factory=list)
    county: str | None = None      # for a district: its county council
    gov_uk_slug: str = ""          # its page on GOV.UK's "find your local council", from mySociety


@dataclass
class Geography:
    councils: dict[str, CouncilRow]
    icbs: list[tuple[str, str, str]]   # (GSS, ODS, name)
    sources: list[str]
    notes: list[str]


def _read(path: Path) -> list[dict[str, str]]:
    # Runs of spaces are folded: mySociety writes "North Somerset  Council" with two.
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{k.strip(): " ".join((v or "").split()) for k, v in row.items() if k} for row in csv.DictReader(fh)]


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [h.strip() for h in next(csv.reader(fh), [])]


def _column(header: list[str], pattern: str) -> tuple[str, int] | None:
    """The header matching e.g. `LAD(\\d\\d)CD`, with its two-digit year."""
    for name in header:
        match = re.fullmatch(pattern, name)
        if match:
            return name, int(match.group(1))
    return None


@dataclass
class Sources:
    lad: tuple[Path, str, str] | None = None        # path, code column, name column
    county: tuple[Path, str, str] | None = None
    icb: tuple[Path, str, str, str] | None = None
    lookup: tuple[Path, str, str] | None = None      # district code column, county code column
    mysociety: Path | None = None
    years: dict[str, int] = field(default_factory=dict)


def find_sources(folder: Path) -> Sources:
    """Recognise the downloaded files by their headers, keeping the newest edition of each."""
    if not folder.is_dir():
        raise ImportFailed(folder, None, "give the folder that holds the ONS and mySociety files")
    found = Sources()
    for path in sorted(folder.rglob("*.csv")):
        header = _header(path)
        lad, cty = _column(header, r"LAD(\d\d)CD"), _column(header, r"CTY(\d\d)CD")
        icb, icb_ods = _column(header, r"ICB(\d\d)CD"), _column(header, r"ICB(\d\d)CDH")
        if "local-authority-code" in header and "gss-code" in header:
            found.mysociety = path
        elif lad and cty:
            if lad[1] > found.years.get("lookup", -1):
                found.lookup, found.years["lookup"] = (path, lad[0], cty[0]), lad[1]
        elif lad:
            if lad[1] > found.years.get("lad", -1):
                found.lad, found.years["lad"] = (path, lad[0], f"LAD{lad[1]:02d}NM"), lad[1]
        elif cty:
            if cty[1] > found.years.get("county", -1):
                found.county, found.years["county"] = (path, cty[0], f"CTY{cty[1]:02d}NM"), cty[1]
        elif icb and icb_ods:
            if icb[1] > found.years.get("icb", -1):
                found.icb, found.years["icb"] = (path, icb[0], icb_ods[0], f"ICB{icb[1]:02d}NM"), icb[1]
    missing = [name for name, value in (("ONS local authority districts (LADyyCD)", found.lad),
                                        ("ONS counties (CTYyyCD)", found.county),
                                        ("ONS integrated care boards (ICByyCD, ICByyCDH)", found.icb),
                                        ("mySociety uk_local_authorities.csv", found.mysociety)) if value is None]
    if missing:
        raise ImportFailed(folder, None, "missing " + "; ".join(missing))
    return found


def _day(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _alt_names(row: dict[str, str], label: str, extra: list[str]) -> list[str]:
    """Other names a council goes by, one per spelling that differs once normalised."""
    seen = {name_key(label)}
    out = []
    # mySociety separates names with a bare comma; a comma inside a name is followed by a space.
    for name in [*extra, row.get("nice-name", ""), *re.split(r",(?! )", row.get("alt-names", ""))]:
        name = name.strip()
        key = name_key(name)
        if not name or key in seen or key.endswith(" ua"):
            continue
        seen.add(key)
        out.append(name.title() if name.islower() else name)
    return out


def build(sources: Sources) -> Geography:
    """The councils, districts and ICBs, from the ONS code lists and mySociety's names and history."""
    notes: list[str] = []
    society = {r["local-authority-code"]: r for r in _read(sources.mysociety)}
    by_gss = {r["gss-code"]: r for r in society.values() if r["gss-code"]}
    ons: dict[str, str] = {}
    path, code, name = sources.lad
    ons.update({r[code]: r[name] for r in _read(path) if re.match(r"^E0[6-9]", r[code])})
    path, code, name = sources.county
    ons.update({r[code]: r[name] for r in _read(path) if r[code].startswith("E10")})
    councils: dict[str, CouncilRow] = {}

    def add(gss: str, row: dict[str, str] | None, ons_name: str | None) -> CouncilRow:
        label = (row or {}).get("official-name") or ons_name or gss
        # "Bristol, City of" reads "City of Bristol" in a board's name.
        area = re.sub(r"^(.*), ((?:City|County) of)$", r"\2 \1", ons_name or (row or {}).get("nice-name") or label)
        district = gss.startswith("E07")
        council = CouncilRow(gss=gss, label=label, area=area,
                             alt=_alt_names(row or {}, label, [ons_name] if ons_name else []),
                             upper=not district, housing=not gss.startswith("E10"))
        if row:
            start, end = _day(row["start-date"]), _day(row["end-date"])
            if start and start >= HORIZON:
                council.valid_from = start
            council.valid_to = end
            council.successors = [c for c in row["replaced-by"].split(",") if c]
            council.gov_uk_slug = row.get("gov-uk-slug", "")
            if district and row.get("county-la"):
                council.county = row["county-la"]
        councils[gss] = council
        return council

    for gss, ons_name in sorted(ons.items()):
        row = by_gss.get(gss)
        if row is None:
            notes.append(f"{gss} {ons_name} is in the ONS list but not in mySociety's: named from ONS only")
        elif row["end-date"]:
            notes.append(f"{gss} {ons_name} is current in ONS but ended {row['end-date']} in mySociety")
        add(gss, row, ons_name)
    for row in society.values():
        gss, kind = row["gss-code"], row["local-authority-type"]
        if row["nation"] != "England" or not row["end-date"] or gss in councils:
            continue
        if kind not in UPPER_TYPES | {"NMD"} or _day(row["end-date"]) < HORIZON:
            continue
        add(gss, row, None)
    current = {gss for gss, c in councils.items() if c.valid_to is None}
    missing = {r["gss-code"] for r in society.values() if r["nation"] == "England" and not r["end-date"]
               and r["local-authority-type"] in UPPER_TYPES | {"NMD"}} - current
    if missing:
        notes.append("current in mySociety but not in the ONS lists (left out): " + ", ".join(sorted(missing)))

    # mySociety codes to GSS; end dates to the last day (some are written as the successor's first day).
    code_to_gss = {code: r["gss-code"] for code, r in society.items() if r["gss-code"]}
    for council in councils.values():
        council.successors = sorted(code_to_gss[c] for c in council.successors if code_to_gss.get(c) in councils)
        if council.valid_to and any(councils[s].valid_from == council.valid_to for s in council.successors):
            council.valid_to -= dt.timedelta(days=1)
        if council.county:
            council.county = code_to_gss.get(council.county)
    if sources.lookup:
        path, lad_code, cty_code = sources.lookup
        for r in _read(path):
            district = councils.get(r[lad_code])
            if district and not district.upper and district.county != r[cty_code]:
                notes.append(f"{r[lad_code]}: mySociety puts it in {district.county}, ONS in {r[cty_code]}; using ONS")
                district.county = r[cty_code]
    for council in councils.values():
        if not council.upper and council.county not in councils:
            notes.append(f"{council.gss} {council.label}: no county council found")
            council.county = None

    path, code, ods, name = sources.icb
    icbs = sorted((r[code], r[ods], r[name]) for r in _read(path) if r[code].startswith("E54"))
    used = [p for p in (sources.lad[0], sources.county[0], sources.icb[0], sources.lookup and sources.lookup[0],
                        sources.mysociety) if p]
    return Geography(councils, icbs, [p.name for p in used], notes)


# -- writing Turtle ----------------------------------------------------------------

PREFIXES = """@prefix cg:          <https://w3id.org/caregraph/def#> .
@prefix actor:       <https://w3id.org/caregraph/id/actor/> .
@prefix council:     <https://w3id.org/caregraph/id/council/> .
@prefix sab:         <https://w3id.org/caregraph/id/sab/> .
@prefix healthwatch: <https://w3id.org/caregraph/id/healthwatch/> .
@prefix icb:         <https://w3id.org/caregraph/id/icb/> .
@prefix relation:    <https://w3id.org/caregraph/id/relation/> .
@prefix confidence:  <https://w3id.org/caregraph/id/confidence/> .
@prefix status:      <https://w3id.org/caregraph/id/status/> .
@prefix ons:         <http://statistics.data.gov.uk/id/statistical-geography/> .
@prefix rdfs:        <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos:        <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd:         <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms:     <http://purl.org/dc/terms/> .
@prefix eli:         <http://data.europa.eu/eli/ontology#> .
@prefix foaf:        <http://xmlns.com/foaf/0.1/> .
"""


def _lit(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@en'


def _date(value: dt.date) -> str:
    return f'"{value.isoformat()}"^^xsd:date'


def _block(subject: str, pairs: list[tuple[str, str]]) -> str:
    body = " ;\n".join(f"    {p} {o}" for p, o in pairs)
    return f"{subject}\n{body} .\n"


def _link(relation: str, counterpart: str, bases: list[str]) -> tuple[str, str]:
    law = ", ".join(f"<{PROVISIONS[b][0]}>" for b in bases)
    return ("cg:answersVia", f"[ cg:relation relation:{relation} ; cg:counterpart {counterpart} ;\n"
                             f"        cg:legalBasis {law} ; cg:confidence confidence:known ]")


def _provisions(keys: list[str]) -> str:
    out = ["# Provisions cited in this file"]
    for key in keys:
        iri, label, act = PROVISIONS[key]
        out.append(f"<{iri}> a cg:LegalProvision ;\n    rdfs:label {_lit(label)} ;\n    eli:is_part_of <{act}> .")
    return "\n".join(out) + "\n"


def _header_comment(title: str, geography: Geography) -> str:
    return (f"# {title}\n# Generated by `caregraph import geography` from: {', '.join(geography.sources)}.\n"
            "# Do not edit by hand: rerun the importer (CQC's spellings are hand-written in cqc-spellings.ttl).\n"
            f"# {ONS_ATTRIBUTION}\n# {MYSOCIETY_ATTRIBUTION}\n\n")


def _about_file(geography: Geography, licences: list[str], rights: list[str], notes: list[str] = ()) -> str:
    pairs = [("dcterms:source", '"' + name.replace('"', '\\"') + '"') for name in geography.sources]
    pairs += [("dcterms:license", f"<{lic}>") for lic in licences]
    pairs += [("dcterms:rights", _lit(r)) for r in rights]
    pairs += [("rdfs:comment", _lit(n)) for n in notes]
    return _block("<>", pairs)


def _council(c: CouncilRow, geography: Geography) -> list[str]:
    iri = f"council:{c.gss}"
    pairs = [("a", "cg:Council"), ("rdfs:label", _lit(c.label))]
    pairs += [("skos:altLabel", ", ".join(_lit(a) for a in c.alt))] if c.alt else []
    pairs.append(("cg:gssCode", f'"{c.gss}"'))
    roles = (["actor:council-social-services"] if c.upper else []) + (["actor:housing-authority"] if c.housing else [])
    pairs.append(("cg:playsRole", ", ".join(roles)))
    if c.county:
        pairs.append(("cg:council", f"council:{c.county}"))
    if c.upper:
        pairs += [("cg:safeguardingAdultsBoard", f"sab:{c.gss}"), ("cg:localHealthwatch", f"healthwatch:{c.gss}")]
    pairs += [("cg:validFrom", _date(c.valid_from))] if c.valid_from else []
    if c.valid_to:
        pairs += [("cg:validTo", _date(c.valid_to)), ("cg:status", "status:repealed")]
        names = " and ".join(geography.councils[s].label for s in c.successors) or "other councils"
        pairs.append(("cg:caveat", _lit(f"Its last day was {c.valid_to.isoformat()}: abolished by a structural "
                                        "change order made under the Local Government and Public Involvement in "
                                        f"Health Act 2007 Part 1; its area passed to {names}.")))
    if c.successors:
        pairs.append(("cg:succeededBy", ", ".join(f"council:{s}" for s in c.successors)))
    pairs += [("cg:confidence", "confidence:known"), ("skos:exactMatch", f"ons:{c.gss}")]
    if c.gov_uk_slug and not c.valid_to and re.fullmatch(r"[a-z0-9-]+", c.gov_uk_slug):
        pairs.append(("foaf:page", f"<{GOV_UK_FINDER}{c.gov_uk_slug}>"))
    if c.upper:
        pairs.append(_link("accountable-to", "actor:secretary-of-state-health", ["lassa-s7"]))
    else:
        pairs.append(_link("accountable-to", "actor:secretary-of-state-housing", ["lga-1999-s15"]))
    blocks = [_block(iri, pairs)]
    if c.upper:
        for kind, label, start, caveat, role, link in (
                ("sab", f"Safeguarding Adults Board for {c.area}", SAB_FROM, SAB_CAVEAT, "safeguarding-adults-board",
                 _link("accountable-to", iri, ["ca-s43", "ca-sch2"])),
                ("healthwatch", f"Local Healthwatch for {c.area}", HEALTHWATCH_FROM, HEALTHWATCH_CAVEAT,
                 "local-healthwatch", _link("commissioned-by", iri, ["lgpiha-s221"]))):
            body = [("a", "cg:SafeguardingAdultsBoard" if kind == "sab" else "cg:LocalHealthwatch"),
                    ("rdfs:label", _lit(label)), ("cg:playsRole", f"actor:{role}"), ("cg:council", iri),
                    ("cg:validFrom", _date(max(start, c.valid_from or start)))]
            body += [("cg:validTo", _date(c.valid_to))] if c.valid_to else []
            body += [("cg:confidence", "confidence:unconfirmed"), ("cg:caveat", _lit(caveat)), link]
            blocks.append(_block(f"{kind}:{c.gss}", body))
    return blocks


def write(geography: Geography, folder: Path) -> list[Path]:
    """Write councils.ttl, districts.ttl and icbs.ttl into `folder`; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    about = _about_file(geography, [OGL, CC_BY], [ONS_ATTRIBUTION, MYSOCIETY_ATTRIBUTION], [FINDER_NOTE])
    upper = [c for c in geography.councils.values() if c.upper]
    districts = [c for c in geography.councils.values() if not c.upper]
    councils_ttl = (_header_comment("councils.ttl - the councils with adult social services responsibilities, each "
                                    "with its Safeguarding Adults Board and local Healthwatch, and those abolished "
                                    "since 2009 with their end dates and successors.", geography)
                    + PREFIXES + "\n" + about + "\n" + _provisions(["lassa-s7", "ca-s43", "ca-sch2", "lgpiha-s221"])
                    + "\n" + "\n".join(b for c in sorted(upper, key=lambda c: c.gss) for b in _council(c, geography)))
    districts_ttl = (_header_comment("districts.ttl - district councils (E07), the local housing authorities of "
                                     "two-tier areas, each with the county council that holds adult social "
                                     "services there.", geography)
                     + PREFIXES + "\n" + about + "\n" + _provisions(["lga-1999-s15"]) + "\n"
                     + "\n".join(b for c in sorted(districts, key=lambda c: c.gss) for b in _council(c, geography)))
    icb_blocks = [_block(f"icb:{gss}", [
        ("a", "cg:IntegratedCareBoard"), ("rdfs:label", _lit(name)), ("cg:gssCode", f'"{gss}"'),
        ("cg:odsCode", f'"{ods}"'), ("cg:playsRole", "actor:icb"), ("cg:validFrom", _date(ICB_FROM)),
        ("cg:confidence", "confidence:known"), ("cg:caveat", _lit(ICB_CAVEAT)), ("skos:exactMatch", f"ons:{gss}"),
        _link("accountable-to", "actor:nhse", ["nhsa-s14Z59"])]) for gss, ods, name in geography.icbs]
    icbs_ttl = (_header_comment("icbs.ttl - the integrated care boards with their ONS GSS and NHS ODS codes.",
                                geography).replace(f"# {MYSOCIETY_ATTRIBUTION}\n", "")
                + PREFIXES + "\n" + _about_file(geography, [OGL], [ONS_ATTRIBUTION]) + "\n"
                + _provisions(["nhsa-s14Z59"]) + "\n" + "\n".join(icb_blocks))
    written = []
    for name, content in (("councils.ttl", councils_ttl), ("districts.ttl", districts_ttl), ("icbs.ttl", icbs_ttl)):
        path = folder / name
        tmp = path.with_suffix(".ttl.tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(path)  # a reader never sees half a file
        written.append(path)
    return written


def run_cli(args: argparse.Namespace, out) -> int:
    if not args.store:
        raise ImportFailed(args.path, None, "--memory keeps nothing: give --store PATH, or leave both out to "
                                            "use the default store, to keep a rebuilt geography")
    sources = find_sources(Path(args.path))
    geography = build(sources)
    # Beside the store, never inside the installed package: the shipped files stay the default.
    folder = geography_dir(Path(args.store))
    written = write(geography, folder)
    upper = [c for c in geography.councils.values() if c.upper]
    print(f"Rebuilt {folder} from {', '.join(geography.sources)}:", file=out)
    print(f"  {sum(1 for c in upper if not c.valid_to)} councils with adult social services responsibilities "
          f"(and {sum(1 for c in upper if c.valid_to)} abolished since 2009), "
          f"{sum(1 for c in geography.councils.values() if not c.upper)} district councils, "
          f"{len(geography.icbs)} integrated care boards", file=out)
    for path in written:
        print(f"  wrote {path.name}", file=out)
    for note in geography.notes:
        print(f"  note: {note}", file=out)
    print(f"The store {args.store} is built from these files in place of the shipped ones the next time a "
          "command opens it.", file=out)
    return 0
