"""The fast engine: the compiled shapes run as SPARQL queries on the store itself."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pyoxigraph as ox

from caregraph.store import Store
from caregraph.validation.compiler import Check
from caregraph.validation.report import ValidationResult

_PLACEHOLDER = re.compile(r"\{[?$](\w+)\}")


def node_text(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value


def fill(template: str, bindings: dict[str, str]) -> str:
    """A SHACL-SPARQL message with its {?var} / {$var} placeholders filled in (as pySHACL does)."""
    return _PLACEHOLDER.sub(lambda m: bindings.get(m.group(1), m.group(0)), template)


def run(store: Store, checks: Sequence[Check], focus: Sequence[str] | None = None) -> list[ValidationResult]:
    """Every violation the checks find, over the whole store or only the focus IRIs."""
    results: list[ValidationResult] = []
    for check in checks:
        solutions = store.query(check.query(focus))
        names = [v.value for v in solutions.variables]
        for solution in solutions:
            this = solution["this"]
            if this is None:
                continue
            value = solution["value"] if "value" in names else None
            if value is None and check.value_is_focus:
                value = this
            path = solution["path"] if "path" in names else None
            path_text = path.value if isinstance(path, ox.NamedNode) else check.path
            if check.templated:
                bindings = {n: node_text(solution[n]) for n in names if solution[n] is not None}
                if value is not None:
                    bindings["value"] = node_text(value)
                # A filled-in template is a plain literal, as pySHACL makes it.
                messages = [(fill(text, bindings), "") for text, _ in check.messages]
            else:
                messages = list(check.messages)
            message = " ".join(sorted(text for text, _ in messages)) or _generic_message(check, path_text)
            literals = [ox.Literal(text, language=language) if language else ox.Literal(text)
                        for text, language in messages]
            results.append(ValidationResult(node_text(this), path_text, value, message, check.severity,
                                            check.shape, check.component, check.source_constraint,
                                            this if isinstance(this, ox.Literal) else None, literals))
    return results


def _generic_message(check: Check, path: str | None) -> str:
    component = check.component.rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
    return f"{component} constraint of {check.shape} not met" + (f" on {path}" if path else "")
