"""Compile SHACL shapes to SPARQL queries that find every violation in one pass over the store.

pySHACL evaluates a shape one focus node at a time, parsing each SHACL-SPARQL query again
for every node; at England scale that is hours. Here every constraint becomes one SELECT
that joins the shape's targets with the violation pattern, so the store's query engine
does the work in one go, or, with focus nodes given, for those nodes only (a VALUES block
in each branch of the targets).

Only some SHACL features are compiled, shape by shape: class (explicit and implicit: a shape
that is also an rdfs:Class), node, subjects-of and objects-of targets; sh:class, sh:datatype
(of the types whose well-formedness SPARQL can check), sh:nodeKind, sh:pattern (with
sh:flags) and sh:in, on the focus node or on the values of an IRI path; on a path also
sh:minCount, sh:maxCount and sh:lessThanOrEquals; SHACL-SPARQL constraints (sh:select with
$this) on node shapes.
A shape using anything else, a parameter of a custom constraint component among them, is
left out with the reason (`Compiled.unsupported`); `engine="auto"` runs those shapes with
pySHACL, the reference engine. Each compiled query returns ?this, and ?value / ?path where
the result has them, with the same meaning as in the SHACL specification.

SHACL-SPARQL constraints are run by joining their query (and every sub-select of it that
projects $this) with the targets rather than pre-binding $this. The two agree for queries
in which every group that mentions $this also matches a triple pattern with it and every
sub-select projects it (sparql_checks.joins_like_prebinding); any other query is left to
pySHACL, which pre-binds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection

from caregraph.validation.report import SH, VIOLATION
from caregraph.validation.sparql_checks import joins_like_prebinding

RDF_TYPE = str(rdflib.RDF.type)
SUBCLASS = str(rdflib.RDFS.subClassOf)
XSD = "http://www.w3.org/2001/XMLSchema#"
FOCUS_MARKER = "#FOCUS#"

# Datatypes whose lexical forms SPARQL can check by casting (ill-formed values fail sh:datatype).
_CASTABLE = {XSD + t for t in ("date", "dateTime", "integer", "decimal", "double", "float", "boolean")}
# Datatypes with no ill-formed lexical form to look for.
_ANY_FORM = {XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}

_NODE_KINDS = {
    SH + "IRI": "!isIRI(?value)",
    SH + "Literal": "!isLiteral(?value)",
    SH + "BlankNode": "!isBlank(?value)",
    SH + "BlankNodeOrIRI": "isLiteral(?value)",
    SH + "IRIOrLiteral": "isBlank(?value)",
    SH + "BlankNodeOrLiteral": "isIRI(?value)",
}

# SHACL predicates a shape may carry that do not change what it checks (or are read elsewhere).
_INERT = {SH + p for p in ("name", "description", "order", "group", "message", "severity", "deactivated")}
_TARGETS = {SH + "targetClass", SH + "targetSubjectsOf", SH + "targetObjectsOf", SH + "targetNode"}
# Parameters whose values are shapes: a node shape named by another shape is checked through
# it, which the fast engine does not do.
_SHAPE_PARAMETERS = (SH + "node", SH + "qualifiedValueShape", SH + "not")
_SHAPE_LISTS = (SH + "and", SH + "or", SH + "xone")
_VALUE_CONSTRAINTS = {SH + p for p in ("class", "datatype", "nodeKind", "pattern", "flags", "in",
                                       "minCount", "maxCount", "lessThanOrEquals")}
# The constraints a node shape may put on its focus node itself.
_NODE_CONSTRAINTS = {SH + p for p in ("class", "datatype", "nodeKind", "pattern", "flags", "in")}


class Unsupported(Exception):
    """A shape uses a SHACL feature this engine does not compile."""


@dataclass(frozen=True)
class Check:
    """One compiled constraint: the query that finds its violations and how to report them."""

    shape: str
    component: str
    severity: str
    messages: tuple[tuple[str, str], ...]  # (text, language tag or "")
    path: str | None  # the result path when the query does not bind ?path
    value_is_focus: bool  # SHACL-SPARQL on a node shape: sh:value is the focus node if ?value is unbound
    templated: bool  # messages carry {?var} placeholders filled from the query's solution
    source_constraint: str | None
    query_text: str

    def query(self, focus: Sequence[str] | None = None) -> str:
        """The query over all targets, or over the given focus IRIs only."""
        values = "VALUES ?this { " + " ".join(f"<{iri}>" for iri in focus) + " }" if focus else ""
        return self.query_text.replace(FOCUS_MARKER, values)


@dataclass
class Compiled:
    """The shapes the fast engine runs (with their checks), and why it leaves the others."""

    checks: list[Check] = field(default_factory=list)
    shapes: list[rdflib.term.Node] = field(default_factory=list)
    unsupported: dict[rdflib.term.Node, str] = field(default_factory=dict)


def compile_shapes(graph: rdflib.Graph) -> Compiled:
    """Every check of every active node shape in `graph` that compiles, shape by shape."""
    out = Compiled()
    referenced = _referenced_shapes(graph)
    parameters = _custom_parameters(graph)
    for shape in _node_shapes(graph):
        try:
            if shape in referenced:
                raise Unsupported(f"{_node_id(shape)} is used by another shape (sh:node, sh:not, sh:and ...)")
            checks = _compile_node_shape(graph, shape, parameters)
        except Unsupported as exc:
            out.unsupported[shape] = str(exc)
            continue
        out.shapes.append(shape)
        out.checks.extend(checks)
    return out


def _node_shapes(graph: rdflib.Graph) -> list[rdflib.term.Node]:
    sh = rdflib.Namespace(SH)
    shapes = set(graph.subjects(rdflib.RDF.type, sh.NodeShape))
    for target in _TARGETS:
        shapes |= set(graph.subjects(rdflib.URIRef(target), None))
    return sorted(shapes, key=str)


def _referenced_shapes(graph: rdflib.Graph) -> set[rdflib.term.Node]:
    out = set()
    for p in _SHAPE_PARAMETERS:
        out |= set(graph.objects(None, rdflib.URIRef(p)))
    for p in _SHAPE_LISTS:
        for members in graph.objects(None, rdflib.URIRef(p)):
            out |= set(Collection(graph, members))
    return out


def _custom_parameters(graph: rdflib.Graph) -> set[str]:
    """The predicates that are parameters of a constraint component declared in the shapes."""
    return {str(path) for parameter in graph.objects(None, rdflib.URIRef(SH + "parameter"))
            for path in graph.objects(parameter, rdflib.URIRef(SH + "path"))}


def _implicit_class(graph: rdflib.Graph, shape) -> bool:
    """A shape that is also a class targets its instances (SHACL 2.1.3.3); a class is what
    pySHACL takes for one: typed rdfs:Class or a direct subclass of it."""
    classes = {rdflib.RDFS.Class, *graph.subjects(rdflib.RDFS.subClassOf, rdflib.RDFS.Class)}
    return any(t in classes for t in graph.objects(shape, rdflib.RDF.type))


def _one(graph: rdflib.Graph, node, predicate: str):
    values = list(graph.objects(node, rdflib.URIRef(predicate)))
    if len(values) > 1:
        raise Unsupported(f"{node} has several {predicate}")
    return values[0] if values else None


def _iri(node) -> str:
    if not isinstance(node, rdflib.URIRef):
        raise Unsupported(f"expected an IRI, found {node!r}")
    return str(node)


def _node_id(node) -> str:
    """A shape's name in a report: its IRI, or `_:id` for a blank node."""
    return f"_:{node}" if isinstance(node, rdflib.BNode) else _iri(node)


def _deactivated(graph: rdflib.Graph, node) -> bool:
    flag = _one(graph, node, SH + "deactivated")
    return flag is not None and bool(flag.toPython())


def _check_supported(graph: rdflib.Graph, node, allowed: set[str], parameters: set[str] = frozenset()) -> None:
    for predicate in set(graph.predicates(node, None)):
        p = str(predicate)
        if p.startswith(SH) and p not in allowed | _INERT:
            raise Unsupported(f"{_node_id(node)} uses {p}")
        if p in parameters:
            raise Unsupported(f"{_node_id(node)} uses {p}, a parameter of a custom constraint component")


def focus_nodes_query(graph: rdflib.Graph, shape: rdflib.URIRef) -> str | None:
    """A query for the focus nodes `shape` targets (None when it has no targets of its own)."""
    targets = _targets(graph, shape)
    return f"SELECT ?this WHERE {{ {targets.replace(FOCUS_MARKER, '')} }}" if targets else None


def _targets(graph: rdflib.Graph, shape) -> str | None:
    """A sub-select binding ?this to each focus node of `shape` once (None: no targets)."""
    # The focus VALUES go inside each branch: the store then starts every branch from the
    # focus nodes instead of joining them with a union of whole classes.
    branches = []
    for cls in graph.objects(shape, rdflib.URIRef(SH + "targetClass")):
        branches.append(f"{{ {FOCUS_MARKER} ?this <{RDF_TYPE}>/<{SUBCLASS}>* <{_iri(cls)}> }}")
    for p in graph.objects(shape, rdflib.URIRef(SH + "targetSubjectsOf")):
        branches.append(f"{{ {FOCUS_MARKER} ?this <{_iri(p)}> ?targetObject }}")
    for p in graph.objects(shape, rdflib.URIRef(SH + "targetObjectsOf")):
        branches.append(f"{{ {FOCUS_MARKER} ?targetSubject <{_iri(p)}> ?this }}")
    if _implicit_class(graph, shape):
        branches.append(f"{{ {FOCUS_MARKER} ?this <{RDF_TYPE}>/<{SUBCLASS}>* <{_iri(shape)}> }}")
    nodes = sorted(graph.objects(shape, rdflib.URIRef(SH + "targetNode")), key=lambda n: n.n3())
    if any(isinstance(n, rdflib.BNode) for n in nodes):
        raise Unsupported(f"{_node_id(shape)} targets a blank node")
    if nodes:
        # A target node is a focus node whether or not the data mentions it.
        branches.append(f"{{ VALUES ?this {{ {' '.join(n.n3() for n in nodes)} }} {FOCUS_MARKER} }}")
    if not branches:
        return None
    return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(sorted(branches)) + " } }"


def _compile_node_shape(graph: rdflib.Graph, shape, parameters: set[str]) -> list[Check]:
    if _deactivated(graph, shape):
        return []
    targets = _targets(graph, shape)
    if any(True for _ in graph.objects(shape, rdflib.URIRef(SH + "path"))):
        # A property shape with targets of its own: checked for them, unless a node shape
        # also uses it (pySHACL would then check it through that shape too).
        if (None, rdflib.URIRef(SH + "property"), shape) in graph:
            raise Unsupported(f"{_node_id(shape)} is a property shape with targets that a node shape also uses")
        return [] if targets is None else _compile_property_shape(graph, shape, targets, parameters, _TARGETS)
    _check_supported(graph, shape, _TARGETS | _NODE_CONSTRAINTS | {SH + "property", SH + "sparql"}, parameters)
    if targets is None:
        return []  # a shape with no targets checks nothing by itself
    severity = str(_one(graph, shape, SH + "severity") or VIOLATION)
    messages = _messages(graph, shape)
    checks = _value_checks(graph, shape, targets, None, severity, messages)
    for prop in graph.objects(shape, rdflib.URIRef(SH + "property")):
        checks.extend(_compile_property_shape(graph, prop, targets, parameters))
    for constraint in graph.objects(shape, rdflib.URIRef(SH + "sparql")):
        checks.extend(_compile_sparql(graph, shape, constraint, targets, severity, messages))
    return checks


def _messages(graph: rdflib.Graph, node) -> tuple[tuple[str, str], ...]:
    """A shape's sh:message values as (text, language tag or "")."""
    return tuple(sorted((str(m), getattr(m, "language", None) or "")
                        for m in graph.objects(node, rdflib.URIRef(SH + "message"))))


def _compile_property_shape(graph: rdflib.Graph, prop, targets: str, parameters: set[str],
                            own_targets: set[str] = frozenset()) -> list[Check]:
    if _deactivated(graph, prop):
        return []
    _check_supported(graph, prop, _VALUE_CONSTRAINTS | {SH + "path"} | own_targets, parameters)
    path = _iri(_one(graph, prop, SH + "path"))
    severity = str(_one(graph, prop, SH + "severity") or VIOLATION)
    return _value_checks(graph, prop, targets, path, severity, _messages(graph, prop))


def _value_checks(graph: rdflib.Graph, node, targets: str, path: str | None, severity: str,
                  messages: tuple[tuple[str, str], ...]) -> list[Check]:
    """The checks of a property shape's constraints on the values of `path`, or, with no
    path, of a node shape's constraints on the focus node itself (its only value)."""
    shape = _node_id(node)

    def check(component: str, where: str, has_value: bool = True) -> Check:
        select = "?this ?value" if has_value else "?this"
        text = f"SELECT DISTINCT {select} WHERE {{ {targets} {where} }}"
        return Check(shape, SH + component, severity, messages, path, False, False, None, text)

    values = f"?this <{path}> ?value ." if path else "BIND (?this AS ?value)"
    out: list[Check] = []
    min_count = _one(graph, node, SH + "minCount")
    if min_count is not None and int(min_count) == 1:
        out.append(check("MinCountConstraintComponent",
                         f"FILTER NOT EXISTS {{ ?this <{path}> ?any }}", has_value=False))
    elif min_count is not None and int(min_count) > 1:
        out.append(check("MinCountConstraintComponent",
                         f"{{ SELECT ?this WHERE {{ {targets} OPTIONAL {{ ?this <{path}> ?v }} }} GROUP BY ?this "
                         f"HAVING (COUNT(DISTINCT ?v) < {int(min_count)}) }}", has_value=False))
    max_count = _one(graph, node, SH + "maxCount")
    if max_count is not None:
        out.append(check("MaxCountConstraintComponent",
                         f"{{ SELECT ?this WHERE {{ {targets} ?this <{path}> ?v }} GROUP BY ?this "
                         f"HAVING (COUNT(DISTINCT ?v) > {int(max_count)}) }}", has_value=False))
    for cls in graph.objects(node, rdflib.URIRef(SH + "class")):
        out.append(check("ClassConstraintComponent",
                         f"{values} FILTER NOT EXISTS {{ ?value <{RDF_TYPE}>/<{SUBCLASS}>* <{_iri(cls)}> }}"))
    for dtype in graph.objects(node, rdflib.URIRef(SH + "datatype")):
        d = _iri(dtype)
        if d not in _CASTABLE | _ANY_FORM and (d.startswith(XSD) or d.startswith(str(rdflib.RDF))):
            raise Unsupported(f"{shape} uses sh:datatype {d}, whose well-formedness is not checked here")
        ill_formed = f" || datatype(COALESCE(<{d}>(STR(?value)), \"\")) != <{d}>" if d in _CASTABLE else ""
        out.append(check("DatatypeConstraintComponent",
                         f"{values} FILTER (!isLiteral(?value) || datatype(?value) != <{d}>{ill_formed})"))
    for kind in graph.objects(node, rdflib.URIRef(SH + "nodeKind")):
        if str(kind) not in _NODE_KINDS:
            raise Unsupported(f"{shape} uses node kind {kind}")
        out.append(check("NodeKindConstraintComponent", f"{values} FILTER ({_NODE_KINDS[str(kind)]})"))
    flags = _one(graph, node, SH + "flags")
    for pattern in graph.objects(node, rdflib.URIRef(SH + "pattern")):
        regex = f"REGEX(STR(?value), {_string(str(pattern))}" + (f", {_string(str(flags))})" if flags else ")")
        out.append(check("PatternConstraintComponent", f"{values} FILTER (isBlank(?value) || !{regex})"))
    for members in graph.objects(node, rdflib.URIRef(SH + "in")):
        if any(isinstance(m, rdflib.BNode) for m in Collection(graph, members)):
            raise Unsupported(f"{shape} lists a blank node in sh:in")
        allowed = [m.n3() for m in Collection(graph, members)]
        same = " || ".join(f"sameTerm(?value, {term})" for term in allowed) or "false"
        out.append(check("InConstraintComponent", f"{values} FILTER (!({same}))"))
    for other in graph.objects(node, rdflib.URIRef(SH + "lessThanOrEquals")):
        out.append(check("LessThanOrEqualsConstraintComponent",
                         f"{values} ?this <{_iri(other)}> ?other FILTER (!COALESCE(?value <= ?other, false))"))
    return out


def _string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


_SELECT_HEAD = re.compile(r"\bSELECT\s+(DISTINCT\s+|REDUCED\s+)?(?P<projection>[^{]*?)\s*(WHERE\s*)?\{",
                          re.IGNORECASE)
_THIS = re.compile(r"\?this\b")
_DOLLAR_VARS = re.compile(r"\$(\w+)")


def _prefixes(graph: rdflib.Graph, constraint) -> str:
    lines = []
    for ontology in graph.objects(constraint, rdflib.URIRef(SH + "prefixes")):
        for declaration in graph.objects(ontology, rdflib.URIRef(SH + "declare")):
            prefix = _one(graph, declaration, SH + "prefix")
            namespace = _one(graph, declaration, SH + "namespace")
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(sorted(set(lines)))


def _compile_sparql(graph: rdflib.Graph, shape, constraint, targets: str, severity: str,
                    shape_messages: tuple[tuple[str, str], ...]) -> list[Check]:
    if _deactivated(graph, constraint):
        return []
    _check_supported(graph, constraint, {SH + "select", SH + "prefixes"})
    select = _one(graph, constraint, SH + "select")
    if select is None:
        raise Unsupported(f"{constraint} has no sh:select")
    body = str(select)
    if not joins_like_prebinding(body):
        raise Unsupported(f"{_node_id(constraint)} uses $this where joining it with the focus nodes "
                          "would not be the same as pre-binding it")
    used = set(_DOLLAR_VARS.findall(body))
    if used - {"this"}:
        raise Unsupported(f"{constraint} uses pre-bound variables other than $this: {sorted(used - {'this'})}")
    body = _DOLLAR_VARS.sub(r"?\1", body)
    heads = list(_SELECT_HEAD.finditer(body))
    if not heads or heads[0].start() != len(body) - len(body.lstrip()) or not _THIS.search(heads[0].group("projection")):
        raise Unsupported(f"{constraint} does not start with a SELECT of $this")
    if re.search(r"\?failure\b", heads[0].group("projection")):
        raise Unsupported(f"{_node_id(constraint)} reports failures (?failure), which only pySHACL handles")
    # The targets join the outermost group and every sub-select that projects ?this, so each
    # part of the query works on the focus nodes only (joining them again outside changes nothing).
    text = body
    for head in reversed(heads):
        if _THIS.search(head.group("projection")):
            text = text[:head.end()] + " " + targets + " " + text[head.end():]
    messages = tuple(sorted(set(shape_messages) | set(_messages(graph, constraint))))
    query_text = _prefixes(graph, constraint) + "\n" + text
    try:  # a query the store cannot parse (an undeclared prefix, say) is left to pySHACL to judge
        ox.Store().query(query_text.replace(FOCUS_MARKER, ""))
    except SyntaxError as exc:
        raise Unsupported(f"{_node_id(constraint)} is not SPARQL the store reads: {exc.msg}") from None
    return [Check(_node_id(shape), SH + "SPARQLConstraintComponent", severity, messages, None, True, True,
                  _node_id(constraint), query_text)]
