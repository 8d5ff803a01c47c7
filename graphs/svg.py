"""A standalone SVG drawing of a graph view, made on the server from layout positions.

For pages read without JavaScript and for downloads (a README, an issue comment). The
document is self-contained: no script, no stylesheet or font to fetch, no external link.
Memory titles are untrusted text: every one goes through xml_safe() and XML escaping.
"""
import math
from xml.sax.saxutils import escape

from graphs.exports import xml_safe
from graphs.render import (
    category_colour,
    degree_sizes,
    hover_text,
    is_directed,
    legend,
    node_label,
    type_colour,
)

MARGIN = 30
# Labels are centred under their node: room for half of a 40-character label on each side.
LABEL_ROOM = 110
LEGEND_WIDTH = 170
TITLE_HEIGHT = 30
# The widest a 16 px semibold character of the title runs, on average, in px.
TITLE_CHAR_WIDTH = 9.5
LABEL_CHAR_WIDTH = 6.2  # the same for an 11 px label
# Past this many labels the drawing turns to noise: only the biggest nodes keep theirs (all
# nodes still show their title on hover).
LABELLED_MAX = 50
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def _fit_text(text, room, char_width):
    """text cut (with an ellipsis) to what fits in ``room`` px: SVG text does not wrap, and a
    longer title ran off the image. The whole title stays in the document's <title>."""
    most = max(int(room / char_width), 4)
    text = " ".join(str(text).split())
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def _text(value):
    return escape(xml_safe(value))


def _fit(positions, left, top, right, bottom):
    """Map layout coordinates into the box, keeping the aspect ratio, centred."""
    if not positions:
        return {}
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    dx, dy = max(xs) - min(xs), max(ys) - min(ys)
    scales = [s for s in ((right - left) / dx if dx else None, (bottom - top) / dy if dy else None) if s]
    scale = min(scales, default=0.0)
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    cx, cy = (left + right) / 2, (top + bottom) / 2
    return {n: (cx + (x - mid_x) * scale, cy + (y - mid_y) * scale) for n, (x, y) in positions.items()}


def _edge(u, v, data, points, radius, markers):
    """One edge as a line (or a loop for a self-edge), stopping at the target's rim."""
    (x1, y1), (x2, y2) = points[u], points[v]
    colour = category_colour(data.get("category"))
    dash = "" if data.get("current", True) else ' stroke-dasharray="5 4"'
    tip = f"<title>{_text(data.get('rel_type') or '')}</title>"
    if u == v:
        r = radius[u] * 0.8
        return (f'<circle cx="{x1:.1f}" cy="{y1 - radius[u] - r:.1f}" r="{r:.1f}" fill="none" '
                f'stroke="{colour}" stroke-width="1.2"{dash}>{tip}</circle>')
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    end = radius[v] + 1
    x2, y2 = x2 - (x2 - x1) * end / length, y2 - (y2 - y1) * end / length
    arrow = f' marker-end="url(#{markers[colour]})"' if is_directed(data.get("rel_type")) else ""
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="1.2" stroke-opacity="0.8"{dash}{arrow}>{tip}</line>')


def _legend(H, x, y):
    colours = legend(H)
    parts = ['<g font-size="11" fill="#1d2125">']
    for name, colour in colours["types"].items():
        parts.append(f'<circle cx="{x + 6}" cy="{y - 4}" r="5" fill="{colour}" stroke="#1d2125"/>'
                     f'<text x="{x + 16}" y="{y}">{_text(name)}</text>')
        y += 16
    y += 8
    for name, colour in colours["categories"].items():
        parts.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 12}" y2="{y - 4}" '
                     f'stroke="{colour}" stroke-width="2"/>'
                     f'<text x="{x + 16}" y="{y}">{_text(name)}</text>')
        y += 16
    parts.append("</g>")
    return "".join(parts)


def _unoverlapped(ranked, H, points, radius):
    """The nodes of ``ranked`` (biggest first) whose label, centred under the node, overlaps
    none of the labels kept before it: labels laid over each other could be read as neither."""
    kept, boxes = set(), []
    for n in ranked:
        x, y = points[n]
        half = len(node_label(H.nodes[n].get("title") or n)) * LABEL_CHAR_WIDTH / 2
        box = (x - half, y + radius[n] + 1, x + half, y + radius[n] + 15)
        if not any(box[0] < b[2] and box[2] > b[0] and box[1] < b[3] and box[3] > b[1] for b in boxes):
            boxes.append(box)
            kept.add(n)
    return kept


def to_svg(H, positions, *, width=1200, height=800, title=""):
    """An ``<svg>`` document of H laid out at ``positions`` ({id: (x, y)}, any scale, e.g.
    from builders.layout), fitted into ``width`` x ``height`` beside a legend. Circles are
    coloured by type and sized by degree, lines coloured by category, arrowheads only on
    directed types, dashes for edges no longer current; hovering shows titles."""
    width, height = int(width), int(height)
    top = MARGIN + (TITLE_HEIGHT if title else 0)
    right = width - LEGEND_WIDTH - MARGIN
    box = (LABEL_ROOM, top, max(right - LABEL_ROOM, LABEL_ROOM), max(height - MARGIN - 14, top))
    points = _fit({n: positions[n] for n in H}, *box)
    radius = degree_sizes(H, low=4.0, high=14.0)
    edges = list(H.edges(data=True))
    colours = sorted({category_colour(d.get("category")) for _, _, d in edges})
    markers = {colour: f"arrow{i}" for i, colour in enumerate(colours)}
    labelled = _unoverlapped(sorted(H, key=lambda n: -radius[n])[:LABELLED_MAX], H, points, radius)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="{FONT}">',
        f"<title>{_text(title or 'Memory graph')}</title>",
        "<defs>",
        *(f'<marker id="{mid}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
          f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
          for colour, mid in markers.items()),
        "</defs>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    if title:
        out.append(f'<text x="{MARGIN}" y="{MARGIN}" font-size="16" font-weight="600" fill="#1d2125">'
                   f"{_text(_fit_text(title, width - 2 * MARGIN, TITLE_CHAR_WIDTH))}</text>")
    if not len(H):
        out.append(f'<text x="{(MARGIN + right) / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" '
                   f'font-size="14" fill="#5f6b76">No memories to draw.</text>')
    out.append('<g class="edges">')
    out.extend(_edge(u, v, d, points, radius, markers) for u, v, d in edges)
    out.append('</g><g class="nodes" font-size="11" fill="#1d2125">')
    for n, data in H.nodes(data=True):
        x, y = points[n]
        # A dark rim, as on the canvas: the light type colours are under 3:1 on white.
        out.append(f'<g><title>{_text(hover_text(data))}</title>'
                   f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius[n]:.1f}" '
                   f'fill="{type_colour(data.get("type"))}" '
                   f'stroke="#1d2125" stroke-width="1"/>')
        if n in labelled:
            out.append(f'<text x="{x:.1f}" y="{y + radius[n] + 12:.1f}" text-anchor="middle" '
                       f'stroke="#ffffff" stroke-width="3" paint-order="stroke">'
                       f"{_text(node_label(data.get('title') or n))}</text>")
        out.append("</g>")
    out.append("</g>")
    out.append(_legend(H, width - LEGEND_WIDTH, top + 4))
    out.append("</svg>")
    return "\n".join(out)
