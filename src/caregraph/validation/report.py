"""The validation report: typed results, and the report as text, JSON(-LD) and Turtle.

The JSON form is a compacted JSON-LD document of the same `sh:ValidationReport` graph the
Turtle form holds, so an API client can read it as plain JSON and a linked-data client can
load it as RDF.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from caregraph.namespaces import CG, PREFIXES, RDF, RDFS, XSD

SH = "http://www.w3.org/ns/shacl#"
CGSH = "https://w3id.org/caregraph/shapes#"
VIOLATION = SH + "Violation"  # the severity when a shape names none

Term = ox.NamedNode | ox.BlankNode | ox.Literal
_REPORT_PREFIXES = {**PREFIXES, "sh": SH, "cgsh": CGSH}

_JSONLD_CONTEXT = {
    "sh": SH, "cg": CG, "cgsh": CGSH, "rdfs": RDFS, "xsd": XSD,
    "ValidationReport": "sh:ValidationReport",
    "ValidationResult": "sh:ValidationResult",
    "conforms": {"@id": "sh:conforms"},
    "result": {"@id": "sh:result", "@container": "@set"},
    "focusNode": {"@id": "sh:focusNode", "@type": "@id"},
    "resultPath": {"@id": "sh:resultPath", "@type": "@id"},
    "value": {"@id": "sh:value"},
    "resultMessage": {"@id": "sh:resultMessage"},
    "resultSeverity": {"@id": "sh:resultSeverity", "@type": "@id"},
    "sourceShape": {"@id": "sh:sourceShape", "@type": "@id"},
    "sourceConstraintComponent": {"@id": "sh:sourceConstraintComponent", "@type": "@id"},
    "sourceConstraint": {"@id": "sh:sourceConstraint", "@type": "@id"},
    "legalBasis": {"@id": "cg:legalBasis", "@container": "@set"},
    "label": {"@id": "rdfs:label"},
}


@dataclass(frozen=True)
class LegalBasis:
    uri: str
    label: str | None

    def as_json(self) -> dict:
        return {"@id": self.uri, "label": self.label} if self.label else {"@id": self.uri}


@dataclass
class ValidationResult:
    """One sh:ValidationResult."""

    focus_node: str
    result_path: str | None
    value: Term | None
    message: str
    severity: str
    source_shape: str
    source_constraint_component: str
    source_constraint: str | None = None
    # The focus node when it is a literal (focus_node then holds its lexical form).
    focus_literal: ox.Literal | None = None
    # The messages as the shape wrote them (with their languages), when known.
    message_literals: list[ox.Literal] = field(default_factory=list)
    # Filled in from the graph after validation: the focus node's name, and where the focus
    # concerns a duty (the duty or one of its assignments), the duty's legal basis.
    focus_label: str | None = None
    legal_basis: list[LegalBasis] = field(default_factory=list)

    def key(self) -> tuple:
        """What makes two results the same finding, whichever engine produced them."""
        return (self.focus_node if self.focus_literal is None else str(self.focus_literal), self.result_path, str(self.value) if self.value is not None else None,
                self.source_constraint_component, self.severity, self.source_shape, self.message)

    @property
    def severity_name(self) -> str:
        return self.severity.removeprefix(SH)

    def as_json(self, language: str | None = None) -> dict:
        """The result as JSON-LD. A message in the report's usual `language` (stated in its
        context) is a plain string; any other is a value object with its own language."""
        focus = self.focus_node if self.focus_literal is None else _term_json(self.focus_literal)
        out: dict = {"@type": "ValidationResult", "focusNode": focus}
        if self.focus_label:
            out["focusLabel"] = self.focus_label
        if self.result_path:
            out["resultPath"] = self.result_path
        if self.value is not None:
            out["value"] = _term_json(self.value)
        literals = self.message_literals
        message: object
        if len(literals) == 1 and literals[0].language == language:
            message = self.message
        elif not literals:
            message = self.message if language is None else [{"@value": self.message}]
        else:
            message = [_term_json(m) for m in literals]
        out.update({"resultMessage": message, "resultSeverity": self.severity,
                    "sourceShape": self.source_shape,
                    "sourceConstraintComponent": self.source_constraint_component})
        if self.source_constraint:
            out["sourceConstraint"] = self.source_constraint
        out["legalBasis"] = [b.as_json() for b in self.legal_basis]
        return out


@dataclass
class ValidationReport:
    """What `validate` returns."""

    results: list[ValidationResult]
    engine: str
    shapes: str
    triples: int | None  # not counted for a focus check
    seconds: float
    focus: list[str] | None = None
    # Focus IRIs that do not occur in the graph at all (probably a typing mistake).
    focus_not_found: list[str] = field(default_factory=list)
    # What the blank nodes the results name (shapes, paths, focus nodes, values) are made of,
    # so that the report graph says what `sh:resultPath _:b1` is.
    details: list[ox.Triple] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not self.results

    def as_json(self) -> dict:
        # Messages are plain strings in the language most of them are in (caregraph's shapes
        # write every message in English), which the context states.
        counts: dict[str, int] = {}
        for r in self.results:
            for m in r.message_literals:
                if m.language:
                    counts[m.language] = counts.get(m.language, 0) + 1
        language = max(sorted(counts), key=counts.get) if counts else None
        context = _JSONLD_CONTEXT
        if language:
            context = {**context, "resultMessage": {"@id": "sh:resultMessage", "@language": language}}
        return {
            "@context": context,
            "@type": "ValidationReport",
            "conforms": self.conforms,
            "result": [r.as_json(language) for r in self.results],
            "engine": self.engine,
            "shapes": self.shapes,
            "triples": self.triples,
            "seconds": round(self.seconds, 3),
            "focus": self.focus,
            "focusNotFound": self.focus_not_found,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_json(), indent=indent, ensure_ascii=False)

    def to_graph(self) -> list[ox.Triple]:
        """The report as an sh:ValidationReport graph."""
        def n(iri: str) -> ox.NamedNode:
            return ox.NamedNode(iri)

        report = ox.BlankNode()
        out = [ox.Triple(report, n(RDF + "type"), n(SH + "ValidationReport")),
               ox.Triple(report, n(SH + "conforms"),
                         ox.Literal("true" if self.conforms else "false", datatype=n(XSD + "boolean")))]
        for r in self.results:
            node = ox.BlankNode()
            out += [ox.Triple(report, n(SH + "result"), node),
                    ox.Triple(node, n(RDF + "type"), n(SH + "ValidationResult")),
                    ox.Triple(node, n(SH + "focusNode"),
                              r.focus_literal if r.focus_literal is not None else _node(r.focus_node)),

                    ox.Triple(node, n(SH + "resultSeverity"), n(r.severity)),
                    ox.Triple(node, n(SH + "sourceShape"), _node(r.source_shape)),
                    ox.Triple(node, n(SH + "sourceConstraintComponent"), n(r.source_constraint_component))]
            for message in r.message_literals or [ox.Literal(r.message)]:
                out.append(ox.Triple(node, n(SH + "resultMessage"), message))
            if r.result_path:
                out.append(ox.Triple(node, n(SH + "resultPath"), _node(r.result_path)))
            if r.value is not None:
                out.append(ox.Triple(node, n(SH + "value"), r.value))
            if r.source_constraint:
                out.append(ox.Triple(node, n(SH + "sourceConstraint"), _node(r.source_constraint)))
            for basis in r.legal_basis:
                out.append(ox.Triple(node, n(CG + "legalBasis"), n(basis.uri)))
                if basis.label:
                    out.append(ox.Triple(n(basis.uri), n(RDFS + "label"), ox.Literal(basis.label)))
        return out + self.details

    def to_turtle(self) -> str:
        buffer = io.BytesIO()
        ox.serialize(self.to_graph(), buffer, ox.RdfFormat.TURTLE, prefixes=_REPORT_PREFIXES)
        return buffer.getvalue().decode("utf-8")

    def to_text(self) -> str:
        return render_text(self)


def _node(text: str) -> ox.NamedNode | ox.BlankNode:
    return ox.BlankNode(text[2:]) if text.startswith("_:") else ox.NamedNode(text)


def _term_json(term: Term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"@id": term.value}
    if isinstance(term, ox.BlankNode):
        return {"@id": f"_:{term.value}"}
    if term.language:
        return {"@value": term.value, "@language": term.language}
    if term.datatype.value == XSD + "string":
        return {"@value": term.value}
    return {"@value": term.value, "@type": term.datatype.value}


def short(iri: str | None) -> str:
    """An IRI with a known prefix, for reading (cg:legalBasis, cgsh:DutyLegalBasis)."""
    if iri is None:
        return ""
    for prefix, namespace in _REPORT_PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return f"<{iri}>"


def _value_text(term: Term) -> str:
    if isinstance(term, ox.Literal):
        return f'"{term.value}"' if term.datatype.value == XSD + "string" or term.language else term.value
    return short(term.value) if isinstance(term, ox.NamedNode) else f"_:{term.value}"


def grouped(results: Iterable[ValidationResult]) -> dict[str, list[ValidationResult]]:
    groups: dict[str, list[ValidationResult]] = {}
    for r in results:
        groups.setdefault(r.focus_node, []).append(r)
    return groups


def render_text(report: ValidationReport) -> str:
    """Results grouped by focus node, each with its message, path, value, severity and the law."""
    lines: list[str] = []
    scope = f"{len(report.focus)} focus node(s)" if report.focus else "the whole graph"
    size = f"{report.triples:,} triples, " if report.triples is not None else ""
    stats = f"engine {report.engine}, {size}{report.seconds:.2f} s"
    for iri in report.focus_not_found:
        lines.append(f"note: the focus node <{iri}> does not occur in the graph")
    if report.conforms:
        lines.append(f"Conforms: {scope} checked against the shapes in {report.shapes} ({stats}).")
        return "\n".join(lines) + "\n"
    groups = grouped(report.results)
    counts = {}
    for r in report.results:
        counts[r.severity_name] = counts.get(r.severity_name, 0) + 1
    summary = ", ".join(f"{n} {name.lower()}{'s' if n != 1 else ''}" for name, n in sorted(counts.items()))
    lines.append(f"Does not conform: {summary} on {len(groups)} node(s) ({scope}; {stats}).")
    for focus, results in groups.items():
        label = results[0].focus_label
        literal = results[0].focus_literal
        lines.append("")
        if literal is not None:
            lines.append(f"the value {_value_text(literal)}")
        else:
            lines.append(f"{label} <{focus}>" if label else f"<{focus}>")
        for basis in results[0].legal_basis:
            lines.append(f"  law: {basis.label} <{basis.uri}>" if basis.label else f"  law: <{basis.uri}>")
        for r in results:
            lines.append(f"  {r.severity_name}: {short(r.source_shape)}")
            lines.append(textwrap.fill(r.message, width=96, initial_indent="    ", subsequent_indent="    "))
            if r.result_path:
                lines.append(f"    path: {short(r.result_path)}")
            if r.value is not None:
                lines.append(f"    value: {_value_text(r.value)}")
    return "\n".join(lines) + "\n"
