"""The curated knowledge conforms, and breaking it in the ways a policy team cares about gives
exactly the expected violation with its message: a duty without its legal basis, a broken
chain to Parliament, an accountability cycle, two accountable holders at once.

Every change is made on a copy of the curated graph and checked against the whole graph
(a change can only be said to give "exactly" one violation if nothing else is reported).
Where every duty or actor is tried one at a time, each try is checked on its focus nodes,
and one whole-graph run makes all the changes at once. The expected results are worked out
here independently of the shapes: chains with networkx over the qualified links, messages
from the records' own labels.
"""

from __future__ import annotations

import networkx as nx
import pytest

from caregraph import accountability
from caregraph.namespaces import ACTOR, CG, INFERRED_GRAPH
from caregraph.resources import shapes_dir
from caregraph.store import OxigraphStore, value
from caregraph.validation import validate
from caregraph.validation.scratch import add_sources, copy_of

CGSH = "https://w3id.org/caregraph/shapes#"
PARLIAMENT = ACTOR + "parliament"
ACCOUNTABILITY_SHAPES = shapes_dir() / "accountability.ttl"
PREFIXES = (f"PREFIX cg: <{CG}>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n")


def rows(store: OxigraphStore, query: str) -> list[dict]:
    result = store.query(PREFIXES + query)
    names = [v.value for v in result.variables]
    return [{n: value(r[n]) for n in names} for r in result]


def findings(report) -> set[tuple]:
    return {(r.source_shape.removeprefix(CGSH), r.focus_node, r.value.value if r.value is not None else None,
             r.message) for r in report.results}


def rebuilt(store: OxigraphStore, update: str) -> OxigraphStore:
    """A copy of `store` changed by `update`, with its inferences materialised again."""
    changed = copy_of(store)
    changed.update(PREFIXES + update + f" ;\nDROP SILENT GRAPH <{INFERRED_GRAPH}>")
    add_sources(changed, [])
    return changed


@pytest.fixture(scope="module")
def names(store) -> dict[str, str]:
    return {r["x"]: r["label"] for r in rows(store, "SELECT ?x ?label WHERE { ?x rdfs:label ?label }")}


def test_curated_knowledge_conforms(store):
    report = validate(store)
    assert report.engine == "fast"
    assert report.conforms, report.to_text()


# -- a duty without its legal basis ----------------------------------------------------------

NO_LAW = ("This duty cites no basis: every duty needs at least one legal basis, a legislation.gov.uk "
          "identifier for the provision that creates it, or, if it rests on guidance, an agreement or a code "
          "rather than law, a non-statutory basis naming that source (cg:nonStatutoryBasis).")
REMOVE_BASIS = """DELETE {{ GRAPH ?g {{ ?duty cg:legalBasis ?basis }} }}
                  WHERE {{ {duty} GRAPH ?t {{ ?duty a cg:Duty }} GRAPH ?g {{ ?duty cg:legalBasis ?basis }} }}"""


@pytest.fixture(scope="module")
def duties(store) -> list[str]:
    # Duties that rest on law alone: without their legal basis they rest on nothing.
    return sorted(r["d"] for r in rows(store, """SELECT ?d WHERE { ?d a cg:Duty
        FILTER NOT EXISTS { ?d cg:nonStatutoryBasis ?s } }"""))


def test_removing_every_duty_legal_basis_reports_each_duty_once_and_nothing_else(store, duties):
    changed = copy_of(store)
    changed.update(PREFIXES + REMOVE_BASIS.format(duty="VALUES ?duty { " + " ".join(f"<{d}>" for d in duties) + " }"))
    report = validate(changed)
    assert findings(report) == {("DutyBasis", d, d, NO_LAW) for d in duties}
    assert {r.result_path for r in report.results} == {CG + "legalBasis"}


def test_removing_any_duty_legal_basis_gives_exactly_that_violation(store, duties):
    changed = copy_of(store)
    for duty in duties:
        delete = REMOVE_BASIS.format(duty=f"VALUES ?duty {{ <{duty}> }}")
        before = rows(changed, f"SELECT ?g ?b WHERE {{ GRAPH ?g {{ <{duty}> cg:legalBasis ?b }} }}")
        assert before, duty
        changed.update(PREFIXES + delete)
        report = validate(changed, focus=[duty])
        assert findings(report) == {("DutyBasis", duty, duty, NO_LAW)}, duty
        changed.update("INSERT DATA { " + " ".join(
            f"GRAPH <{r['g']}> {{ <{duty}> <{CG}legalBasis> <{r['b']}> }}" for r in before) + " }")


# -- a broken chain to Parliament --------------------------------------------------------------

def _links(store: OxigraphStore, without: str | None = None) -> nx.DiGraph:
    graph = nx.DiGraph((link.source, link.target) for link in accountability.links(store) if link.source != without)
    graph.add_edges_from((r["body"], r["role"]) for r in rows(store, "SELECT ?body ?role WHERE { ?body cg:playsRole ?role }"))
    return graph


def _holders(store: OxigraphStore) -> set[str]:
    return {r["h"] for r in rows(store, "SELECT DISTINCT ?h WHERE { ?a cg:holder ?h }")}


@pytest.fixture(scope="module")
def answering_actors(store) -> list[str]:
    return sorted({r["a"] for r in rows(store, f'SELECT ?a WHERE {{ ?a cg:answersVia ?l FILTER STRSTARTS(STR(?a), "{ACTOR}") }}')})


def _break(actor: str) -> str:
    """A SELECT of the quads to remove so that `actor` answers to no one: its qualified links
    and the accountability edges materialised from them."""
    return f"""SELECT ?g ?s ?p ?o WHERE {{
        {{ GRAPH ?source {{ <{actor}> cg:answersVia ?link }} GRAPH ?g {{ ?s ?p ?o }}
           FILTER (?s = <{actor}> && ?p = cg:answersVia && ?o = ?link || ?s = ?link) }}
        UNION {{ GRAPH ?g {{ ?s ?p ?o }} GRAPH ?tbox {{ ?p rdfs:subPropertyOf* cg:accountableTo }} FILTER (?s = <{actor}>) }}
        UNION {{ GRAPH ?g {{ ?s ?p ?o }} GRAPH ?tbox {{ ?p rdfs:subPropertyOf* cg:holdsToAccount }} FILTER (?o = <{actor}>) }} }}"""


def _quads(store: OxigraphStore, select: str) -> str:
    found = store.query(PREFIXES + select)
    return " ".join(f"GRAPH {r['g']} {{ {r['s']} {r['p']} {r['o']} }}" for r in found)


def _expected_after_break(links: nx.DiGraph, holders: set[str], broken: str, names: dict[str, str]) -> set[tuple]:
    cut_off = {h for h in holders
               if h != PARLIAMENT and not (h in links and PARLIAMENT in links and nx.has_path(links, h, PARLIAMENT))}
    expected = {("ActorAnswersToSomeone", broken, broken,
                 f"{names[broken]} answers to no one: it has no accountability link (cg:answersVia) and plays no "
                 "statutory role, so no chain of accountability from it can reach Parliament.")}
    expected |= {("DutyHolderReachesParliament", h, h,
                  f"{names[h]} holds duties, but no chain of accountability from it reaches Parliament: every chain "
                  "from it stops at an actor that answers to no one, or goes round in a circle.") for h in cut_off}
    return expected


def test_breaking_any_chain_to_parliament_gives_exactly_the_expected_violations(store, answering_actors, names):
    assert len(answering_actors) > 50
    holders = _holders(store)
    changed = copy_of(store)
    for actor in answering_actors:
        removed = _quads(changed, _break(actor))
        changed.update(f"DELETE DATA {{ {removed} }}")
        # Only the broken actor and the duty holders can change: the whole graph is checked for
        # three actors below.
        report = validate(changed, shapes=ACCOUNTABILITY_SHAPES, focus=[actor, *sorted(holders)])
        assert findings(report) == _expected_after_break(_links(store, without=actor), holders, actor, names), actor
        changed.update(f"INSERT DATA {{ {removed} }}")


@pytest.mark.parametrize("actor", ["dhsc", "council-social-services", "registered-manager"])
def test_breaking_a_chain_leaves_every_other_shape_satisfied(store, names, actor):
    iri = ACTOR + actor
    changed = rebuilt(store, f"DELETE WHERE {{ GRAPH ?g {{ <{iri}> cg:answersVia ?link . ?link ?p ?o }} }}")
    expected = _expected_after_break(_links(changed), _holders(changed), iri, names)
    assert findings(validate(changed)) == expected


# -- an accountability cycle ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def upward_links(store) -> list[tuple[str, str]]:
    """Every link between two curated actors below Parliament (a reverse link closes a cycle)."""
    return sorted({(link.source, link.target) for link in accountability.links(store)
                   if link.target != PARLIAMENT and link.source.startswith(ACTOR) and link.target.startswith(ACTOR)})


def _reverse_link(lower: str, upper: str) -> str:
    """A link making `upper` accountable to `lower`, with the edge the build materialises from it."""
    return f"""GRAPH <urn:test:cycle> {{
        <{upper}> cg:answersVia <{upper}/answersVia/test> .
        <{upper}/answersVia/test> cg:relation <https://w3id.org/caregraph/id/relation/accountable-to> ;
            cg:counterpart <{lower}> ; cg:caveat "A mistake made for the test." }}"""


def _cycle_findings(changed: OxigraphStore, names: dict[str, str]) -> set[tuple]:
    links = _links(changed)
    on_cycle = {(a, b) for a, b in links.edges if nx.has_path(links, b, a)}
    return {("NoAccountabilityCycle", a, b,
             f"{names[a]} is accountable to {names[b]}, which is accountable, directly or through others, back "
             f"to {names[a]}: accountability must not go round in a circle, or the chain never reaches "
             "Parliament.") for a, b in on_cycle}


def test_adding_an_accountability_cycle_gives_exactly_the_expected_violations(store, upward_links, names):
    changed = copy_of(store)
    for lower, upper in upward_links[::9]:
        edges = (f"GRAPH <{INFERRED_GRAPH}> {{ <{upper}> cg:accountableTo <{lower}> . "
                 f"<{lower}> cg:holdsToAccount <{upper}> }}")
        changed.update(PREFIXES + f"INSERT DATA {{ {_reverse_link(lower, upper)} {edges} }}")
        expected = _cycle_findings(changed, names)
        assert ("NoAccountabilityCycle", upper, lower) in {e[:3] for e in expected}
        assert findings(validate(changed, shapes=ACCOUNTABILITY_SHAPES)) == expected, (lower, upper)
        changed.update(PREFIXES + f"DROP GRAPH <urn:test:cycle> ; DELETE DATA {{ {edges} }}")


def test_a_cycle_leaves_every_other_shape_satisfied(store, names):
    dhsc, sos = ACTOR + "dhsc", ACTOR + "secretary-of-state-health"
    changed = rebuilt(store, f"INSERT DATA {{ {_reverse_link(dhsc, sos)} }}")
    expected = _cycle_findings(changed, names)
    assert {e[:3] for e in expected} == {("NoAccountabilityCycle", dhsc, sos), ("NoAccountabilityCycle", sos, dhsc)}
    assert findings(validate(changed)) == expected


# -- two accountable holders at once -----------------------------------------------------------------

OVERLAP_TAIL = (": a duty must have exactly one accountable holder on every date it is in force, so a gap or "
                "an overlap between successive holders leaves it unclear who answers for it in law.")


@pytest.fixture(scope="module")
def in_force(store) -> dict[str, tuple[str, str]]:
    """Each duty with a first day: (first day, the name of its accountable holder that day)."""
    found = rows(store, """SELECT ?duty ?from ?holder WHERE {
        ?duty a cg:Duty ; cg:validFrom ?from ; cg:assignment ?a .
        ?a cg:raciRole <https://w3id.org/caregraph/id/raci/accountable> ; cg:holder/rdfs:label ?holder .
        FILTER NOT EXISTS { ?a cg:validFrom ?start FILTER (?start > ?from) }
        FILTER NOT EXISTS { ?a cg:validTo ?end FILTER (?end < ?from) } }""")
    return {r["duty"]: (r["from"].isoformat(), r["holder"]) for r in found}


def _overlap(duty: str, day: str) -> str:
    """Parliament made accountable for `duty` for one day, alongside the holder of that day."""
    return f"""<{duty}> cg:assignment <{duty}/assignment/overlap> .
        <{duty}/assignment/overlap> cg:holder <{PARLIAMENT}> ;
            cg:raciRole <https://w3id.org/caregraph/id/raci/accountable> ;
            cg:validFrom "{day}"^^xsd:date ; cg:validTo "{day}"^^xsd:date ."""


def _overlap_finding(duty: str, day: str, holder: str, names: dict[str, str]) -> tuple:
    first, last = sorted([holder, names[PARLIAMENT]])
    return ("DutyOneAccountableHolder", duty, day,
            f'On {day} the duty "{names[duty]}" has 2 accountable holders ({first} and {last}){OVERLAP_TAIL}')


def test_overlapping_accountable_holders_in_every_duty_reports_each_once_and_nothing_else(store, in_force, names):
    assert len(in_force) > 150
    changed = copy_of(store)
    changed.update(PREFIXES + "INSERT DATA { GRAPH <urn:test:overlap> { "
                   + "\n".join(_overlap(d, day) for d, (day, _) in in_force.items()) + " } }")
    report = validate(changed)
    assert findings(report) == {_overlap_finding(d, day, h, names) for d, (day, h) in in_force.items()}


def test_overlapping_two_accountable_holders_in_any_duty_gives_exactly_that_violation(store, in_force, names):
    changed = copy_of(store)
    for duty, (day, holder) in in_force.items():
        changed.update(PREFIXES + "INSERT DATA { GRAPH <urn:test:overlap> { " + _overlap(duty, day) + " } }")
        report = validate(changed, focus=[duty])
        assert findings(report) == {_overlap_finding(duty, day, holder, names)}, duty
        changed.update("DROP GRAPH <urn:test:overlap>")
