"""The tokens of a SPARQL query or update, as the SPARQL 1.1 grammar's terminals define them.

Enough to read a request's structure (keywords, IRIs, prefixed names, variables, braces,
semicolons) without being misled by text inside strings, IRIs and comments, in linear
time. The rules follow the grammar (and pyoxigraph, which runs the request) where it
matters for that: long strings may hold one or two quotes before their end; IRIs may hold
\\u escapes; a comment ends at a line feed or a carriage return; a prefixed name's local
part may hold backslash escapes such as `\\#` and `\\'` (which start no comment, no string).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_LOCAL_ESCAPE = r"\\[_~.\-!$&'()*+,;=/?#@%]"
_PATTERNS = [
    ("string", r"'''(?:(?:''|')?(?:[^'\\]|\\.))*'''"),
    ("string", r'"""(?:(?:""|")?(?:[^"\\]|\\.))*"""'),
    ("string", r"'(?:[^'\\\n\r]|\\.)*'"),
    ("string", r'"(?:[^"\\\n\r]|\\.)*"'),
    ("iri", r"<(?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>"),
    ("comment", r"#[^\n\r]*"),
    ("variable", r"[?$][\w\u00B7\u0300-\u036F\u203F\u2040]*"),
    # A keyword or a prefixed name (`ex:a`, `:a`, `_:b`); a word with a colon is never a keyword.
    ("word", rf"(?:[^\W\d]|_)[\w\-.\u00B7]*(?::(?:[\w\-.:%\u00B7]|{_LOCAL_ESCAPE})*)?"
             rf"|:(?:[\w\-.:%\u00B7]|{_LOCAL_ESCAPE})*"),
    ("punct", r"[{};]"),
]
_TOKEN = re.compile("|".join(f"(?P<{kind}{i}>{pattern})" for i, (kind, pattern) in enumerate(_PATTERNS)), re.S)


@dataclass(frozen=True)
class Token:
    kind: str  # string, iri, comment, variable, word or punct
    text: str
    start: int

    @property
    def keyword(self) -> str | None:
        """The keyword, upper-cased, if this token is a bare word (not a prefixed name)."""
        return self.text.upper() if self.kind == "word" and ":" not in self.text else None


def tokens(text: str) -> Iterator[Token]:
    """Every token of `text` but whitespace, numbers and operators, in order; comments included."""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup.rstrip("0123456789")
        yield Token(kind, match.group(0), match.start())
