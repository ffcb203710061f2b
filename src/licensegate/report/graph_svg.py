"""The link graph as an inline SVG: a simple layered layout computed here, no JavaScript, no network.

Nodes are components plus one node per DEX file that loads native code (the app's Java/Kotlin code); permissive
components that are not linked at all (most Java libraries) are one collapsed node, so the graph shows the chains.
Nodes are classified as in every report's tables (`view.role`). Layers follow
the longest path from a node nothing links; within a layer nodes are ordered by the mean position of their
predecessors. Nodes are coloured by licence family; edges on an app-code -> copyleft chain are drawn thick and red.
"""

from __future__ import annotations

from html import escape

from .._dataclasses import dataclass
from ..model import Component, Finding
from .view import role, role_label

FAMILY_COLOURS = {
    "nonfree": "#6a1b9a", "agpl": "#b71c1c", "gpl": "#e53935", "lgpl": "#fb8c00", "weak-copyleft": "#fdd835",
    "permissive": "#43a047", "unknown": "#9e9e9e", "app": "#1e88e5",
}
_W, _H, _GX, _GY, _PAD = 250, 36, 90, 18, 20


@dataclass
class Node:
    id: str
    label: str
    sub: str
    family: str
    layer: int = 0
    order: float = 0.0
    x: float = 0.0
    y: float = 0.0


def _app_node(origin: str) -> str:
    """'classes.dex (com.example.Player.<clinit>)' -> 'classes.dex' (one node per DEX file)."""
    return origin.split(" (", 1)[0]


COLLAPSED = "(not linked)"


def _nodes_and_edges(components: list[Component]) -> tuple[dict[str, Node], list[tuple[str, str]]]:
    """One node per component (classified as every report classifies it, view.role) and per DEX file that loads
    native code; permissive components that nothing links and that link nothing collapse into one node."""
    nodes: dict[str, Node] = {}
    for c in sorted(components, key=lambda c: c.path):
        nodes[c.path] = Node(c.path, "/".join(c.path.rstrip("/").split("/")[-2:]), role_label(c), role(c))
    edges: list[tuple[str, str]] = []
    for c in components:
        edges += [(c.path, t) for t in c.links if t in nodes]
        for site in c.load_sites:
            src = site.member
            if src not in nodes:
                nodes[src] = Node(src, src, "app code (DEX)", "app")
            if (src, c.path) not in edges:
                edges.append((src, c.path))
    _collapse_loose(nodes, edges, components)
    return nodes, edges


def _collapse_loose(nodes: dict[str, Node], edges: list[tuple[str, str]], components: list[Component]) -> None:
    """Permissive nodes without any edge (most Java libraries) become one node naming them."""
    linked = {n for e in edges for n in e}
    loose = [n for n in nodes.values() if n.id not in linked and n.family == "permissive"]
    if len(loose) < 2:
        return
    name_of = {c.path: c.name for c in components}
    names = sorted({name_of[n.id] for n in loose})
    for n in loose:
        del nodes[n.id]
    nodes[COLLAPSED] = Node(COLLAPSED, f"{len(names)} permissive, not linked", _first_names(names, 4), "permissive")


def _first_names(names: list[str], n: int) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def _hot(findings: list[Finding]) -> set[tuple[str, str]]:
    """Edges on an app-code -> copyleft chain."""
    hot: set[tuple[str, str]] = set()
    for f in findings:
        if f.rule == "app-links-copyleft" and len(f.chain) > 1:
            chain = [_app_node(f.chain[0]), *f.chain[1:]]
            hot.update(zip(chain, chain[1:], strict=False))
    return hot


def _assign_layers(nodes: dict[str, Node], edges: list[tuple[str, str]]) -> None:
    """Longest-path layering, bounded so a cycle cannot loop forever."""
    for _ in range(len(nodes)):
        changed = False
        for a, b in edges:
            if nodes[b].layer < nodes[a].layer + 1 and nodes[a].layer + 1 < len(nodes):
                nodes[b].layer = nodes[a].layer + 1
                changed = True
        if not changed:
            break


def _place(nodes: dict[str, Node], edges: list[tuple[str, str]]) -> None:
    """Order each layer by the mean position of a node's predecessors, then give every node its x and y."""
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        preds[b].append(a)
    layers: dict[int, list[Node]] = {}
    for n in nodes.values():
        layers.setdefault(n.layer, []).append(n)
    for li in sorted(layers):
        for i, n in enumerate(sorted(layers[li], key=lambda n: (n.family != "app", n.id))):
            n.order = i
        if li > 0:
            _order_by_predecessors(nodes, layers[li], preds, li)
        for i, n in enumerate(sorted(layers[li], key=lambda n: (n.order, n.id))):
            n.order = i
            n.x = _PAD + li * (_W + _GX)
            n.y = _PAD + i * (_H + _GY)


def _order_by_predecessors(nodes: dict[str, Node], layer: list[Node], preds: dict[str, list[str]], li: int) -> None:
    """A node's order: the mean order of its predecessors in earlier layers; nodes without any go last."""
    for n in layer:
        ps = [nodes[p].order for p in preds[n.id] if nodes[p].layer < li]
        n.order = sum(ps) / len(ps) if ps else n.order + 1000


def layout(components: list[Component], findings: list[Finding]) -> tuple[dict[str, Node], list[tuple[str, str]], set[tuple[str, str]]]:
    nodes, edges = _nodes_and_edges(components)
    _assign_layers(nodes, edges)
    _place(nodes, edges)
    return nodes, edges, _hot(findings)


def render_svg(components: list[Component], findings: list[Finding]) -> str:
    nodes, edges, hot = layout(components, findings)
    if not nodes:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" role="img" aria-label="no components"></svg>'
    width = max(n.x for n in nodes.values()) + _W + _PAD
    height = max(n.y for n in nodes.values()) + _H + _PAD
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="link-graph" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="link graph" font-family="sans-serif" font-size="11">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
           '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
           '<marker id="arrow-hot" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="11" markerHeight="11" markerUnits="userSpaceOnUse" orient="auto">'
           '<path d="M0,0 L10,5 L0,10 z" fill="#d50000"/></marker></defs>']
    long_edges: list[str] = []
    for a, b in sorted(edges, key=lambda e: e in hot):  # hot edges last, on top
        # an edge that skips a layer arcs above the rows, drawn after (over) the nodes
        (long_edges if nodes[b].layer - nodes[a].layer > 1 else out).append(_edge(nodes, a, b, (a, b) in hot))
    out += [_node(n, any(n.id in e for e in hot)) for n in sorted(nodes.values(), key=lambda n: n.id)]
    return "".join([*out, *long_edges, "</svg>"])


def _edge(nodes: dict[str, Node], a: str, b: str, is_hot: bool) -> str:
    na, nb = nodes[a], nodes[b]
    x1, y1, x2, y2 = na.x + _W, na.y + _H / 2, nb.x, nb.y + _H / 2
    if nb.layer <= na.layer:  # same layer or backwards (a cycle): route around the right side
        x2 = nb.x + _W
    if nb.layer - na.layer > 1:  # skips a layer: arc through the gap above the rows
        top = min(na.y, nb.y) - _GY / 2
        ctrl = max((4 * top - (y1 + y2) / 2) / 3, -_PAD)  # a cubic with both controls at ctrl peaks at `top`
        d = f"M{x1:.0f},{y1:.0f} C{x1 + 40:.0f},{ctrl:.0f} {x2 - 40:.0f},{ctrl:.0f} {x2:.0f},{y2:.0f}"
    else:
        mid = (x1 + x2) / 2
        d = f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
    cls, style = _HOT_EDGE if is_hot else _EDGE
    return f'<path class="{cls}" data-from="{escape(a)}" data-to="{escape(b)}" d="{d}" fill="none" {style}/>'


_HOT_EDGE = ("edge hot", 'stroke="#d50000" stroke-width="3" marker-end="url(#arrow-hot)"')
_EDGE = ("edge", 'stroke="#777" stroke-width="1.2" marker-end="url(#arrow)"')


def _node(n: Node, on_chain: bool) -> str:
    colour = FAMILY_COLOURS.get(n.family, "#9e9e9e")
    stroke = 'stroke="#d50000" stroke-width="3"' if on_chain else 'stroke="#333" stroke-width="1"'
    return (f'<g class="node family-{escape(n.family)}" data-path="{escape(n.id)}"><title>{escape(n.id)}: {escape(n.sub)}</title>'
            f'<rect x="{n.x:.0f}" y="{n.y:.0f}" width="{_W}" height="{_H}" rx="5" fill="{colour}" fill-opacity="0.22" {stroke}/>'
            f'<rect x="{n.x:.0f}" y="{n.y:.0f}" width="8" height="{_H}" fill="{colour}"/>'
            f'<text x="{n.x + 14:.0f}" y="{n.y + 15:.0f}" font-weight="bold">{escape(_fit(n.label, 36))}</text>'
            f'<text x="{n.x + 14:.0f}" y="{n.y + 29:.0f}" fill="#333">{escape(_fit(n.sub, 40))}</text></g>')


def _fit(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
