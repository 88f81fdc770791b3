"""SHACL validation of caregraph's graph and of data linked into it.

    from caregraph.validation import validate
    report = validate(store)                       # the built graph, all shapes
    report = validate(["my-records.ttl"])          # a file added to a scratch copy of the curated graph
    report = validate(store, focus=["https://w3id.org/caregraph/id/location/1-000000001"])
    report.conforms, report.results, report.to_json(), report.to_turtle()

Two engines give the same results: "fast" runs the shapes compiled to SPARQL on the store
(whole graph or focus nodes), "pyshacl" is the reference. See compiler.py for why.
"""

from caregraph.validation.cli import run_cli
from caregraph.validation.compiler import Unsupported
from caregraph.validation.rdf_input import UnreadableInput, parse_rdf, read_rdf
from caregraph.validation.report import LegalBasis, ValidationReport, ValidationResult
from caregraph.validation.shapes import InvalidShapes, ShapeSet, load_shapes
from caregraph.validation.validator import ENGINES, expand_iri, validate

__all__ = [
    "ENGINES", "InvalidShapes", "LegalBasis", "ShapeSet", "UnreadableInput", "Unsupported", "ValidationReport",
    "ValidationResult", "expand_iri", "load_shapes", "parse_rdf", "read_rdf", "run_cli", "validate",
]
