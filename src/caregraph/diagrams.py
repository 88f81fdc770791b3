"""Diagrams for the pages, laid out by Graphviz and drawn as SVG on the server: an actor's
chains of accountability to Parliament, and an escalation route as a flow. When Graphviz's
`dot` program is not installed the diagram is None and the pages show their text lists,
which are the diagrams' text alternative in any case."""

from __future__ import annotations

import re
from functools import lru_cache

import graphviz

from caregraph.accountability import Chain
from caregraph.escalation import Route

_FONT = "Helvetica"
# Colours of the stylesheet, with text contrast above 4.5:1 on white.
_INK, _ACCENT, _PALE = "#1d1d1b", "#1d70b8", "#f3f2f1"


def _wrap(text: str, width: int = 28) -> str:
    """Label text broken at spaces so long names stay narrow."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def _graph(name: str, rankdir: str) -> graphviz.Digraph:
    graph = graphviz.Digraph(name, format="svg")
    graph.attr(rankdir=rankdir, bgcolor="transparent", fontname=_FONT)
    graph.attr("node", shape="box", style="rounded,filled", fillcolor=_PALE, color=_ACCENT, fontname=_FONT,
               fontcolor=_INK, fontsize="12", margin="0.15,0.08")
    graph.attr("edge", color=_INK, fontname=_FONT, fontcolor=_INK, fontsize="10")
    return graph


def _svg(graph: graphviz.Digraph) -> str | None:
    """The graph as inline SVG (no XML prolog), or None when `dot` is not installed."""
    try:
        return _render(graph.source)
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
        return None


@lru_cache(maxsize=512)
def _render(source: str) -> str:
    svg = graphviz.Source(source).pipe(format="svg", encoding="utf-8")
    svg = svg[svg.index("<svg"):]
    # The page's text list is the alternative: the picture itself is hidden from screen readers.
    return re.sub(r"<svg\b", '<svg aria-hidden="true" focusable="false"', svg, count=1)


def accountability_svg(chains: list[Chain]) -> str | None:
    """The chains from one actor to Parliament drawn together, each link labelled with how
    the body answers to the next."""
    actors = {actor.iri: actor for chain in chains for actor in chain.actors}
    if not actors:
        return None
    node = {iri: f"n{n}" for n, iri in enumerate(actors)}
    graph = _graph("accountability", "BT")
    for iri, actor in actors.items():
        graph.node(node[iri], _wrap(actor.label))
    drawn: set[tuple[str, str]] = set()
    for link in (link for chain in chains for link in chain.links):
        if (link.source, link.target) not in drawn:
            drawn.add((link.source, link.target))
            graph.edge(node[link.source], node[link.target], label=_wrap(link.relation, 22))
    return _svg(graph)


def route_svg(route: Route) -> str | None:
    """An escalation route as a flow: each step to the next, steps taken at the same time
    side by side with the one before."""
    if not route.steps:
        return None
    graph = _graph("route", "TB")
    previous: str | None = None
    for n, step in enumerate(route.steps):
        node = f"s{n}"
        graph.node(node, _wrap(f"{step.order}. {step.actor['label']}"))
        if previous is not None:
            if step.parallel:
                graph.edge(previous, node, style="dashed", label="at the same time", dir="none")
                with graph.subgraph() as same:
                    same.attr(rank="same")
                    same.node(previous)
                    same.node(node)
            else:
                graph.edge(previous, node, label="if not put right")
        previous = node
    return _svg(graph)
