"""The vis-network payload: a graph view from builders.py in, JSON-ready data out.

vis-network's node and edge dicts are built here as plain dicts, key for key what pyvis 0.3.2's
``add_node``/``add_edge`` and ``get_network_data()`` made of the same arguments (the page has
its own vendored vis-network; pyvis' HTML templates load scripts from CDNs and were never used).
pyvis looked each node up in a list (``add_node`` and both ends of every ``add_edge``: nodes x
edges comparisons) and set up a jinja2 environment per payload: the 300-node overview's payload
cost 30 ms of CPU at 100,000 memories, a 2-hop's 2.9 ms (issue 11).
Also home of the visual language (colours, labels) that svg.py shares.
"""
import json
import math

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from memories.format import MEMORY_TYPES, REL_CATEGORIES, SYMMETRIC_TYPES

# Type colours from published colour-blind-safe palettes: Paul Tol's vibrant, bright, light, muted,
# dark and high-contrast sets and Okabe-Ito's reddish purple. These 13 were chosen from them so every
# pair stays apart for normal vision and under simulated protanopia, deuteranopia and tritanopia
# (CIEDE2000 >= 7 with Machado's matrices; tests/graphs/test_graph_palette.py), and each has 2:1 on both
# themes' canvas; graph.js rims every shape in the text colour, which has 3:1 on both (WCAG 1.4.11).
# Shapes (TYPE_SHAPES) stay a second channel. The same values as the --t-* badge colours in
# static/kb/site.css, so a memory has one colour everywhere.
TYPE_COLOURS = {
    "problem": "#ee8866", "error": "#cc3311", "solution": "#228833", "fix": "#44bb99",
    "code_pattern": "#0077bb", "task": "#aa3377", "project": "#bb5566", "technology": "#009988",
    "command": "#999933", "file_context": "#77aadd", "workflow": "#ddaa33", "general": "#555555",
    "conversation": "#cc79a7",
}
# Distinct hues with at least 3:1 contrast on both the light and the dark page background
# (WCAG for graphics), so thin edge lines stay visible.
CATEGORY_COLOURS = {
    "causal": "#e8590c", "solution": "#2f9e44", "context": "#228be6", "learning": "#be4bdb",
    "similarity": "#868e96", "workflow": "#b08900", "quality": "#e64980",
}
FALLBACK_COLOUR = "#5f6b76"
# Related types (problem/error, solution/fix, command/file_context) differ in shape too, so no
# type is told apart by colour alone.
TYPE_SHAPES = {
    "problem": "triangle", "error": "triangleDown", "solution": "dot", "fix": "diamond",
    "code_pattern": "square", "task": "dot", "project": "hexagon", "technology": "square",
    "command": "diamond", "file_context": "square", "workflow": "hexagon", "general": "dot",
    "conversation": "star",
}
# Community colours: Okabe-Ito's eight colour-blind-safe hues (black swapped for a grey that
# shows on the dark theme), then Tol's muted set; communities past these share the last one.
COMMUNITY_COLOURS = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#999999",
                     "#882255", "#44aa99", "#117733", "#ddcc77")
# Labels a view shows before any zoom: the most important memories only, so they never pile up.
LABELLED = 20
# vis-network's first layout is seeded: a view looks the same on every load.
LAYOUT_SEED = 7
LABEL_MAX = 40
PATH_SIZE, PATH_STEP = 16, 150

PHYSICS = {
    "enabled": True,
    "solver": "barnesHut",
    "barnesHut": {"gravitationalConstant": -8000, "springLength": 170, "springConstant": 0.04, "damping": 0.3,
                  "avoidOverlap": 0.3},
    # The client freezes physics on "stabilizationIterationsDone", so 200 bounds the work.
    # No fit by vis: graph.js fits by node positions, as vis would count labels that grow as it zooms out.
    "stabilization": {"enabled": True, "iterations": 200, "updateInterval": 25, "fit": False},
}
BASE_OPTIONS = {
    "nodes": {"shape": "dot", "font": {"size": 12}},
    # Straight edges: dynamic smoothing adds a physics node per edge, too slow past ~1k edges.
    "edges": {"smooth": {"enabled": False}, "arrows": {"to": {"scaleFactor": 0.6}}},
    "interaction": {"hover": True, "tooltipDelay": 200, "hideEdgesOnDrag": True},
    "layout": {"randomSeed": LAYOUT_SEED, "improvedLayout": True},
}


def type_colour(memory_type):
    return TYPE_COLOURS.get(memory_type, FALLBACK_COLOUR)


def type_shape(memory_type):
    return TYPE_SHAPES.get(memory_type, "dot")


def community_colour(community):
    if community is None or community < 0:
        return FALLBACK_COLOUR
    return COMMUNITY_COLOURS[min(community, len(COMMUNITY_COLOURS) - 1)]


def category_colour(category):
    return CATEGORY_COLOURS.get(category, FALLBACK_COLOUR)


def node_label(title):
    """A title cut to LABEL_MAX characters (with an ellipsis) and put on one line."""
    title = " ".join(str(title or "").split())
    return title if len(title) <= LABEL_MAX else title[: LABEL_MAX - 1].rstrip() + "…"


def hover_text(data):
    """Plain text "title\\n\\nsummary"; the client sets it with textContent, never as HTML."""
    title, summary = str(data.get("title") or ""), str(data.get("summary") or "")
    return f"{title}\n\n{summary}" if summary else title


def is_directed(rel_type):
    """Symmetric types are stored in one direction, but the direction means nothing."""
    return rel_type not in SYMMETRIC_TYPES


def legend(H):
    """Colours of the memory types and edge categories present in H, in canonical order."""
    types = {t for _, t in H.nodes(data="type") if t}
    cats = {c for _, _, c in H.edges(data="category") if c}
    type_order = [t for t in MEMORY_TYPES if t in types] + sorted(types - set(MEMORY_TYPES))
    cat_order = [c for c in REL_CATEGORIES if c in cats] + sorted(cats - set(REL_CATEGORIES))
    return {
        "types": {t: type_colour(t) for t in type_order},
        "shapes": {t: type_shape(t) for t in type_order},
        "categories": {c: category_colour(c) for c in cat_order},
    }


def edge_width(strength):
    """1..3 px from strength (0..1; unset counts as 0.5)."""
    return round(1 + 2 * (0.5 if strength is None else min(max(float(strength), 0.0), 1.0)), 2)


def degree_sizes(H, *, by="degree", low=10.0, high=40.0):
    """Node sizes in ``low..high`` from degree in H (``by="degree"``) or the ``pagerank``
    node attribute (``by="pagerank"``; missing counts as 0). Sizes are radii, so they grow
    with the square root of the value, keeping areas proportional; equal values get the middle."""
    if by == "pagerank":
        values = {n: float(p or 0.0) for n, p in H.nodes(data="pagerank")}
    elif by == "degree":
        values = {n: float(d) for n, d in H.degree()}
    else:
        raise ValueError(f"Unknown size_by {by!r}: expected 'degree' or 'pagerank'.")
    roots = {n: math.sqrt(max(v, 0.0)) for n, v in values.items()}
    lo, hi = min(roots.values(), default=0.0), max(roots.values(), default=0.0)
    if hi == lo:
        return {n: (low + high) / 2 for n in roots}
    return {n: round(low + (high - low) * (r - lo) / (hi - lo), 2) for n, r in roots.items()}


def path_positions(H):
    """A path top to bottom in its order, each memory on one vertical line: its labels get the
    canvas's whole width, even on a phone. None when H holds more than the path."""
    path = H.graph.get("path") or []
    if not path or set(path) != set(H):
        return None
    return {n: (0.0, i * PATH_STEP) for i, n in enumerate(path)}


def vis_payload(H, *, size_by="degree", positions=None, url_for=None):
    """``{"nodes", "edges", "options", "legend"}`` for vis-network, JSON-serialisable.

    Nodes: colour and shape by type, size 10..40 by degree or ``pagerank`` (one size on a path),
    label = title cut to 40 characters, ``title`` = plain-text hover, custom ``type``, ``important``
    (the LABELLED most central, the starting memory and unsolved problems: labelled before any
    zoom), ``center``, ``role``, ``community`` with its colour, and (with ``url_for(id)``) ``url``.
    Edges: id = edge key, colour by category, arrows except on symmetric types, dashed when not
    current. With ``positions`` ({id: (x, y)}; a path's own by default: ``path_positions``) nodes
    are pinned and physics is off; without, barnesHut physics stabilises the layout in the browser.
    """
    positions = positions if positions is not None else path_positions(H)
    # On a path every memory has one or two links, so sizing by them drew the middle four times
    # the ends: a path's memories get one size, its order is what it shows.
    sizes = {n: PATH_SIZE for n in H} if H.graph.get("path") else degree_sizes(H, by=size_by)
    degree = dict(H.degree())
    labelled = set(sorted(H, key=lambda n: (-float(H.nodes[n].get("pagerank") or 0), -degree[n]))[:LABELLED])
    labelled.update(n for n, d in H.nodes(data=True) if d.get("center") or d.get("role") == "open")
    nodes = []
    for n, data in H.nodes(data=True):
        node = {"color": type_colour(data.get("type")), "size": sizes[n], "title": hover_text(data),
                "type": data.get("type"), "important": n in labelled}
        if data.get("center"):
            node["center"] = True
        if data.get("role"):
            node["role"] = data["role"]
        if "community" in data:
            node.update(community=data["community"], community_color=community_colour(data["community"]))
        if positions is not None:
            x, y = positions[n]
            node.update(x=float(x), y=float(y), physics=False)
        if url_for is not None:
            node["url"] = url_for(n)
        node.update(id=n, label=node_label(data.get("title") or n) or n, shape=type_shape(data.get("type")))
        nodes.append(node)
    edges = []
    for u, v, key, data in H.edges(keys=True, data=True):
        rel_type, current = data.get("rel_type"), data.get("current", True)
        edges.append({
            "id": key, "title": str(rel_type) if current else f"{rel_type} (no longer current)",
            "color": category_colour(data.get("category")), "dashes": not current,
            "width": edge_width(data.get("strength")), "rel_type": rel_type, "category": data.get("category"),
            "arrows": "to" if is_directed(rel_type) else {"to": {"enabled": False}}, "from": u, "to": v,
        })
    # Options as JSON would carry them: a copy the caller may change.
    options = json.loads(json.dumps(dict(BASE_OPTIONS, physics={"enabled": False} if positions is not None
                                         else PHYSICS)))
    return {"nodes": nodes, "edges": edges, "options": options, "legend": legend(H)}


def payload_script(payload, element_id="graph-data"):
    """``payload|json_script:element_id``, the same markup: its JSON with <, > and & as unicode
    escapes in a ``<script type="application/json">``. Views keep it with the payload, so a cached
    view's page no longer serialises it per request; three str.replace calls instead of Django's
    str.translate, which looks each character up in a dict: the 300-node overview's 330 KB of
    JSON 6.4 -> 4.4 ms of CPU (issue 11)."""
    text = json.dumps(payload, cls=DjangoJSONEncoder)
    text = text.replace(">", "\\u003E").replace("<", "\\u003C").replace("&", "\\u0026")
    return format_html('<script id="{}" type="application/json">{}</script>', element_id, mark_safe(text))
