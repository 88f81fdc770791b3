"""Figures for policy teams, drawn with matplotlib (Agg backend: no display needed):

- the alignment heatmap: duties in force per theme and sector (query `alignment_matrix`);
- quality by council, without a map: the share of rated locations in each council's area
  rated Inadequate or Requires improvement, beside England's (query `quality_by_council`);
- the sector network: sectors joined by the bridge duties that tie them (from `alignment.network`,
  which reads the named queries `alignment_duties`, `duty_assignments` and `alignment_themes`).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import networkx as nx  # noqa: E402

from caregraph import alignment, quality  # noqa: E402
from caregraph.namespaces import short_id  # noqa: E402
from caregraph.store import Store  # noqa: E402

FORMATS = ("svg", "png")
POOR_COLOUR, GOOD_COLOUR, ENGLAND_COLOUR = "#b3261e", "#1d70b8", "#0b0c0c"


def _save(fig, folder: Path, stem: str, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        # A fixed date in the metadata keeps the files byte-stable between runs.
        metadata = {"Date": None} if fmt == "svg" else {}
        fig.savefig(path, format=fmt, dpi=110, bbox_inches="tight", metadata=metadata)
        paths.append(path)
    plt.close(fig)
    return paths


def heatmap(store: Store, day: dt.date, folder: Path) -> list[Path]:
    """The theme x sector heatmap of duties in force on `day` (SVG and PNG)."""
    k = alignment.knowledge(store)
    counts = alignment.matrix_counts(store, day)
    themes = [t for t in k.themes if any(counts.get((short_id(t), short_id(s))) for s in k.sectors)]
    sectors = k.sectors
    grid = [[counts.get((short_id(t), short_id(s)), 0) for s in sectors] for t in themes]
    fig, ax = plt.subplots(figsize=(6.5, 0.24 * len(themes) + 1.6))
    image = ax.imshow(grid or [[0] * len(sectors)], aspect="auto", cmap="Blues")
    ax.set_xticks(range(len(sectors)), [k.labels[s] for s in sectors])
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(themes)), [("- " if k.broader.get(t) else "") + k.labels[t] for t in themes], fontsize=8)
    top = max((max(r) for r in grid), default=0)
    for y, row in enumerate(grid):
        for x, n in enumerate(row):
            if n:
                ax.text(x, y, str(n), ha="center", va="center", fontsize=7,
                        color="white" if n > top * 0.6 else "black")
    ax.set_title(f"Duties in force on {day.isoformat()}, by theme and sector", fontsize=10, pad=28)
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="duties")
    return _save(fig, folder, "alignment-heatmap")


def quality_chart(store: Store, day: dt.date, folder: Path, min_rated: int = 10) -> list[Path]:
    """Per council with at least `min_rated` rated locations (a share of a handful says little),
    the share rated Inadequate or Requires improvement on `day`, highest first, with England's
    share (over every council) as a line (SVG and PNG)."""
    counts = quality.chart_counts(store, day)
    rows = []
    england_rated = england_poor = 0
    for council, c in counts.items():
        rated = sum(c[r] for r in quality.RATINGS)
        poor = sum(c[r] for r in quality.POOR)
        england_rated, england_poor = england_rated + rated, england_poor + poor
        if rated >= max(min_rated, 1):
            rows.append((poor / rated, council, rated))
    rows.sort(key=lambda r: (r[0], r[1]))
    fig, ax = plt.subplots(figsize=(7.5, 0.16 * len(rows) + 1.4))
    ax.barh(range(len(rows)), [r[0] * 100 for r in rows], color=[POOR_COLOUR if england_rated and r[0] >
                                                                england_poor / england_rated else GOOD_COLOUR
                                                                for r in rows], height=0.75)
    ax.set_yticks(range(len(rows)), [f"{r[1]} ({r[2]})" for r in rows], fontsize=6)
    if england_rated:
        share = england_poor / england_rated * 100
        ax.axvline(share, color=ENGLAND_COLOUR, linestyle="--", linewidth=1, label=f"England {share:.1f}%")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("% of rated locations rated Inadequate or Requires improvement")
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    ax.set_title(f"Quality by council area on {day.isoformat()}: councils with {min_rated} or more rated "
                 "locations (in brackets)", fontsize=10)
    return _save(fig, folder, "quality-by-council")


def sector_network(store: Store, day: dt.date, folder: Path, net: dict | None = None) -> list[Path]:
    """The sectors as nodes and the bridge duties tying each pair as weighted edges (SVG)."""
    net = net or alignment.network(store, day)
    graph = nx.Graph()
    for node in net["nodes"]:
        graph.add_node(node["id"], label=node["label"])
    for edge in net["edges"]:
        graph.add_edge(edge["source"], edge["target"], weight=edge["bridges"])
    n = max(graph.number_of_nodes(), 1)
    pos = {node: (math.cos(2 * math.pi * i / n + math.pi / 2), math.sin(2 * math.pi * i / n + math.pi / 2))
           for i, node in enumerate(graph.nodes)}
    fig, ax = plt.subplots(figsize=(6, 5.5))
    widest = max((d["weight"] for _, _, d in graph.edges(data=True)), default=1)
    nx.draw_networkx_edges(graph, pos, ax=ax, edge_color="#505a5f",
                           width=[1 + 9 * d["weight"] / widest for _, _, d in graph.edges(data=True)])
    nx.draw_networkx_edge_labels(graph, pos, ax=ax, font_size=9,
                                 edge_labels={(a, b): f"{d['weight']} bridges" for a, b, d in graph.edges(data=True)})
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=2600, node_color="#d2e2f1", edgecolors="#1d70b8")
    nx.draw_networkx_labels(graph, pos, ax=ax, labels=nx.get_node_attributes(graph, "label"), font_size=11)
    ax.set_title(f"Duties that tie sectors together, in force on {day.isoformat()}", fontsize=10)
    ax.margins(0.25)
    ax.axis("off")
    return _save(fig, folder, "sector-network", ("svg",))
