"""Writing SPARQL results as they are produced, within a byte and a time budget.

Used inside the SPARQL worker processes. Every format is written row by row (or triple by
triple) into a `Sink`; when the budget runs out the document is closed properly and ends
with a marker that says it was cut:

- SPARQL JSON results: a top-level member `"truncated"` with the reason;
- SPARQL XML results: an XML comment `<!-- truncated: ... -->` before `</sparql>`;
- CSV and TSV: a last line starting `# truncated:`;
- Turtle and N-Triples: a last comment line `# truncated: ...`;
- RDF/XML: an XML comment after the root element;
- JSON-LD: a last array member `{"truncated": "..."}` (no @id, no IRI keys: JSON-LD
  processors drop it, so the graph is unchanged).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True)
class Format:
    key: str
    media_type: str  # the Content-Type sent back
    kind: str  # "results" (SELECT), "boolean" (ASK) or "graph" (CONSTRUCT, DESCRIBE)


RESULT_FORMATS = {
    "json": Format("json", "application/sparql-results+json", "results"),
    "xml": Format("xml", "application/sparql-results+xml", "results"),
    "csv": Format("csv", "text/csv; charset=utf-8", "results"),
    "tsv": Format("tsv", "text/tab-separated-values; charset=utf-8", "results"),
}
GRAPH_FORMATS = {
    "turtle": Format("turtle", "text/turtle; charset=utf-8", "graph"),
    "nt": Format("nt", "application/n-triples", "graph"),
    "rdfxml": Format("rdfxml", "application/rdf+xml", "graph"),
    "jsonld": Format("jsonld", "application/ld+json", "graph"),
}
# What each kind of result can be written as, by the media types clients ask for: the
# standard types first (the server's order of preference, which also settles wildcards),
# then the aliases some clients send.
OFFERS: dict[str, dict[str, str]] = {
    "results": {
        "application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
        "text/csv": "csv", "text/tab-separated-values": "tsv",
        "application/json": "json", "application/xml": "xml", "text/xml": "xml",
    },
    "boolean": {
        "application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
        "application/json": "json", "application/xml": "xml", "text/xml": "xml",
    },
    "graph": {
        "text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "rdfxml",
        "application/ld+json": "jsonld",
        "application/x-turtle": "turtle", "text/plain": "nt", "application/xml": "rdfxml", "text/xml": "rdfxml",
        "application/json": "jsonld",
    },
}
FORMATS = {**RESULT_FORMATS, **GRAPH_FORMATS}
RDF_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
               "rdfxml": ox.RdfFormat.RDF_XML, "jsonld": ox.RdfFormat.JSON_LD}


class Sink:
    """Collects output and hands it on in chunks of about `chunk` bytes.

    The newest write is always held back until the next one, so a writer can still take back
    the closing bracket of a document it has to extend; `held_back()` gives the rest at the end.
    """

    def __init__(self, emit: Callable[[bytes], None], chunk: int = 65536) -> None:
        self._emit = emit
        self._chunk = chunk
        self._parts: list[bytes] = []
        self._pending = 0
        self.size = 0

    def write(self, data: bytes | str) -> int:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if self._pending >= self._chunk and len(self._parts) > 1:
            self._send(self._parts[:-1])
            self._parts = self._parts[-1:]
            self._pending = len(self._parts[0])
        self._parts.append(raw)
        self._pending += len(raw)
        self.size += len(raw)
        return len(raw)

    def flush(self) -> None:
        """pyoxigraph's serializer calls this; output leaves in whole chunks anyway."""

    def take_back(self, suffix: bytes) -> bool:
        """Remove `suffix` from the end of the held-back output, if it is there."""
        tail = b"".join(self._parts)
        stripped = tail.rstrip()
        if not stripped.endswith(suffix):
            return False
        kept = stripped[: -len(suffix)]
        self.size -= len(tail) - len(kept)
        self._parts, self._pending = [kept], len(kept)
        return True

    def held_back(self) -> bytes:
        """What has not been handed on yet: the end of the document."""
        return b"".join(self._parts)

    def _send(self, parts: list[bytes]) -> None:
        data = b"".join(parts)
        if data:
            self._emit(data)


class Budget:
    """Stops a writer when the output is too big or the time is up; says why."""

    def __init__(self, sink: Sink, max_bytes: int, deadline: float) -> None:
        self.sink, self.max_bytes, self.deadline = sink, max_bytes, deadline
        self.reason: str | None = None

    def exhausted(self) -> bool:
        if self.sink.size >= self.max_bytes:
            self.reason = (f"the result reached this server's limit of {self.max_bytes} bytes and was cut; "
                           "narrow the query or page it with LIMIT and OFFSET")
        elif time.monotonic() >= self.deadline:
            self.reason = "the query ran into this server's time limit and the result was cut"
        return self.reason is not None


# -- SELECT ----------------------------------------------------------------------------
def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value not in (XSD_STRING, RDF_LANG_STRING):
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                        "predicate": _json_term(term.predicate),
                                        "object": _json_term(term.object)}}


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value not in (XSD_STRING, RDF_LANG_STRING):
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
            f"</predicate><object>{_xml_term(term.object)}</object></triple>")


def _csv_field(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        text = "_:" + term.value
    elif isinstance(term, (ox.NamedNode, ox.Literal)):
        text = term.value
    else:
        text = str(term)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _tsv_field(term) -> str:
    return "" if term is None else str(term).replace("\t", "\\t")


def write_solutions(result: ox.QuerySolutions, fmt: str, budget: Budget) -> None:
    """Write SELECT solutions, row by row, within the budget."""
    names = [v.value for v in result.variables]
    sink = budget.sink
    width = range(len(names))
    rows: Iterator = iter(result)
    if fmt == "json":
        sink.write('{"head":{"vars":' + json.dumps(names) + '},"results":{"bindings":[')
        first = True
        for row in _within(rows, budget):
            cells = {names[i]: _json_term(row[i]) for i in width if row[i] is not None}
            sink.write(("" if first else ",") + json.dumps(cells, ensure_ascii=False))
            first = False
        end = "]}"
        if budget.reason:
            end += ',"truncated":' + json.dumps(budget.reason)
        sink.write(end + "}\n")
    elif fmt == "xml":
        head = "".join(f"<variable name={quoteattr(n)}/>" for n in names)
        sink.write('<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                   f"<head>{head}</head><results>\n")
        for row in _within(rows, budget):
            cells = "".join(f"<binding name={quoteattr(names[i])}>{_xml_term(row[i])}</binding>"
                            for i in width if row[i] is not None)
            sink.write(f"<result>{cells}</result>\n")
        note = f"<!-- truncated: {_comment(budget.reason)} -->\n" if budget.reason else ""
        sink.write(f"</results>\n{note}</sparql>\n")
    elif fmt == "csv":
        sink.write(",".join(_csv_field(ox.Literal(n)) for n in names) + "\r\n")
        for row in _within(rows, budget):
            sink.write(",".join(_csv_field(row[i]) for i in width) + "\r\n")
        if budget.reason:
            sink.write(f"# truncated: {budget.reason}\r\n")
    elif fmt == "tsv":
        sink.write("\t".join("?" + n for n in names) + "\n")
        for row in _within(rows, budget):
            sink.write("\t".join(_tsv_field(row[i]) for i in width) + "\n")
        if budget.reason:
            sink.write(f"# truncated: {budget.reason}\n")
    else:
        raise ValueError(f"no SELECT results format {fmt!r}")


def write_boolean(answer: bool, fmt: str, sink: Sink) -> None:
    word = "true" if answer else "false"
    if fmt == "json":
        sink.write('{"head":{},"boolean":' + word + "}\n")
    elif fmt == "xml":
        sink.write('<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                   f"<head/><boolean>{word}</boolean></sparql>\n")
    else:
        raise ValueError(f"no ASK results format {fmt!r}")


# -- CONSTRUCT and DESCRIBE ------------------------------------------------------------
def write_triples(triples: Iterable[ox.Triple], fmt: str, budget: Budget,
                  prefixes: dict[str, str] | None = None) -> None:
    """Serialize triples with pyoxigraph, stopping between triples when the budget runs out."""
    sink = budget.sink
    rdf_format = RDF_FORMATS[fmt]
    ox.serialize(_within(iter(triples), budget), sink, rdf_format,
                 prefixes=prefixes if fmt in ("turtle", "rdfxml") else None)
    if not budget.reason:
        return
    reason = _comment(budget.reason)
    if fmt in ("turtle", "nt"):
        sink.write(f"\n# truncated: {reason}\n")
    elif fmt == "rdfxml":
        sink.write(f"\n<!-- truncated: {reason} -->\n")
    else:
        marker = json.dumps({"truncated": budget.reason})
        empty = sink.held_back().rstrip().endswith(b"[]")
        if sink.take_back(b"]"):
            sink.write(("" if empty else ",") + marker + "]\n")


def _within(items: Iterator, budget: Budget) -> Iterator:
    for item in items:
        if budget.exhausted():
            return
        yield item


def _comment(text: str | None) -> str:
    return (text or "").replace("--", "- -")


def cut_marker(fmt: str, reason: str) -> bytes:
    """What the serving process appends when it had to kill a worker mid-stream.

    Workers send output only between rows, so result formats can still be closed properly;
    graph formats get a comment (RDF/XML and JSON-LD are then incomplete documents).
    """
    note = _comment(reason)
    if fmt == "json":
        return (']},"truncated":' + json.dumps(reason) + "}\n").encode()
    if fmt == "xml":
        return f"</results>\n<!-- truncated: {note} -->\n</sparql>\n".encode()
    if fmt in ("csv",):
        return f"# truncated: {reason}\r\n".encode()
    if fmt == "rdfxml":
        return f"\n<!-- truncated: {note} -->\n".encode()
    return f"\n# truncated: {reason}\n".encode()
