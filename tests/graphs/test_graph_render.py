"""graphs/render.py, graphs/svg.py and graphs/exports.py on hand-made graphs: no database."""
import io
import json
import re
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from graphs import builders, exports, render, svg
from memories.format import MEMORY_TYPES, REL_CATEGORIES
from tests.support.graph_samples import NASTY, edge, node, sample
from tests.support.paths import ROOT

SVG_NS = "{http://www.w3.org/2000/svg}"
def by_id(items):
    return {item["id"]: item for item in items}


def test_palettes_cover_the_format_and_match_the_site_css():
    assert set(render.TYPE_COLOURS) == set(MEMORY_TYPES)
    assert set(render.CATEGORY_COLOURS) == set(REL_CATEGORIES)
    css = (ROOT / "static/kb/site.css").read_text()
    assert dict(re.findall(r"--t-(\w+):\s*(#[0-9a-f]{6})", css)) == render.TYPE_COLOURS


def test_payload_is_json_and_free_of_absolute_urls():
    H = sample()
    payload = render.vis_payload(H, url_for=lambda n: f"/memories/{n}/")
    text = json.dumps(payload)
    assert "http://" not in text and "https://" not in text
    assert set(payload) == {"nodes", "edges", "options", "legend"}
    assert by_id(payload["nodes"])["s"]["url"] == "/memories/s/"


def test_payload_keeps_links_in_memory_text_verbatim_and_nowhere_else():
    """Agents paste links into summaries: hover text keeps them (as inert plain text)."""
    H = builders.build_graph([node("a", summary="See https://docs.example.org/x?a=1&b=2")], [])
    payload = render.vis_payload(H)
    assert payload["nodes"][0]["title"].endswith("https://docs.example.org/x?a=1&b=2")
    payload["nodes"][0].pop("title")
    assert "http" not in json.dumps(payload)


def test_payload_nodes_carry_colour_label_and_plain_hover_text():
    nodes = by_id(render.vis_payload(sample())["nodes"])
    assert nodes["s"]["color"] == render.TYPE_COLOURS["solution"] and nodes["s"]["type"] == "solution"
    assert nodes["s"]["title"] == "Pin the driver version\n\nUse psycopg 3.2 & pin it."
    assert nodes["e"]["title"] == NASTY, "hover text is plain text for textContent, never pre-escaped"
    assert len(nodes["p"]["label"]) == 40 and nodes["p"]["label"].endswith("…")
    assert nodes["u"]["color"] == render.FALLBACK_COLOUR
    assert "url" not in nodes["s"]
    assert nodes["p"]["size"] == 40 and nodes["u"]["size"] == 10, "by degree: p has 3 edges, u none"


def test_payload_edges_arrows_only_on_directed_types_and_dashes_when_not_current():
    edges = by_id(render.vis_payload(sample())["edges"])
    assert (edges["r1"]["from"], edges["r1"]["to"], edges["r1"]["arrows"]) == ("s", "p", "to")
    assert edges["r2"]["arrows"] == {"to": {"enabled": False}}
    assert edges["r3"]["dashes"] is True and edges["r1"]["dashes"] is False
    assert edges["r1"]["color"] == render.CATEGORY_COLOURS["solution"]
    assert edges["r2"]["width"] == 2.0, "unset strength counts as 0.5"


def test_payload_physics_or_fixed_positions():
    H = sample()
    options = render.vis_payload(H)["options"]
    assert options["physics"]["enabled"] is True and options["physics"]["solver"] == "barnesHut"
    assert options["physics"]["stabilization"]["iterations"] == 200
    positions = builders.layout(H)
    payload = render.vis_payload(H, positions=positions)
    assert payload["options"]["physics"] == {"enabled": False}
    first = payload["nodes"][0]
    assert (first["x"], first["y"], first["physics"]) == (*positions[first["id"]], False)


def test_payload_sizes_by_pagerank_and_legend_lists_what_is_shown():
    H = sample()
    pagerank, _ = builders.rank_and_communities(H)
    for n in H:
        H.nodes[n]["pagerank"] = pagerank[n]
    payload = render.vis_payload(H, size_by="pagerank")
    top = max(pagerank, key=pagerank.get)
    assert by_id(payload["nodes"])[top]["size"] == 40
    assert list(payload["legend"]["types"]) == ["problem", "solution", "technology", "error", "mystery"]
    assert payload["legend"]["categories"] == {
        c: render.CATEGORY_COLOURS[c] for c in ("causal", "solution", "context", "similarity")
    }


def test_degree_sizes_grow_with_the_square_root_from_10_to_40():
    G = sample()
    assert render.degree_sizes(G) == {"s": 27.32, "p": 40, "e": 34.49, "t": 34.49, "u": 10}
    G.nodes["s"]["pagerank"] = 0.5
    assert render.degree_sizes(G, by="pagerank") == {"s": 40, "p": 10, "e": 10, "t": 10, "u": 10}
    assert render.degree_sizes(builders.build_graph([node("a")], [])) == {"a": 25.0}
    assert render.degree_sizes(builders.build_graph([], [])) == {}
    with pytest.raises(ValueError):
        render.degree_sizes(G, by="colour")


def test_payload_of_an_empty_graph():
    payload = render.vis_payload(builders.build_graph([], []), positions={})
    assert payload["nodes"] == [] and payload["edges"] == []
    json.dumps(payload)


def parse_svg(H, **kwargs):
    text = svg.to_svg(H, builders.layout(H), **kwargs)
    return text, ET.fromstring(text)


def test_svg_is_well_formed_escaped_and_self_contained():
    text, root = parse_svg(sample(), title="Chains & <friends>")
    assert root.tag == f"{SVG_NS}svg"
    assert root.find(f"{SVG_NS}title").text == "Chains & <friends>"
    assert not list(root.iter(f"{SVG_NS}script"))
    assert "<script>" not in text and "&lt;script&gt;" in text and "&amp;" in text
    assert "\x1b" not in text
    assert "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    hovers = [t.text for t in root.iter(f"{SVG_NS}title")]
    assert NASTY.replace("\x1b", "") in hovers


def test_svg_arrowheads_only_on_directed_edges_and_nodes_fit_the_view():
    _, root = parse_svg(sample(), width=800, height=600)
    lines = {
        line.find(f"{SVG_NS}title").text: line for line in root.iter(f"{SVG_NS}line")
        if line.find(f"{SVG_NS}title") is not None
    }
    assert "marker-end" in lines["SOLVES"].attrib and "marker-end" not in lines["SIMILAR_TO"].attrib
    assert lines["CAUSES"].get("stroke-dasharray")
    circles = _node_circles(root)
    assert len(circles) == 5
    assert all(0 <= float(c.get("cx")) <= 800 and 0 <= float(c.get("cy")) <= 600 for c in circles)


def _node_circles(root):
    return list(next(g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "nodes").iter(f"{SVG_NS}circle"))


def test_svg_of_empty_and_single_node_graphs():
    _, root = parse_svg(builders.build_graph([], []))
    assert "No memories" in "".join(root.itertext())
    _, root = parse_svg(builders.build_graph([node("a")], []))
    assert len(_node_circles(root)) == 1


def test_graphml_and_gexf_parse_back_with_the_same_counts():
    H = sample([edge("r5", "s", "p", "IMPROVES")])
    back = nx.parse_graphml(exports.to_graphml(H))
    assert (back.number_of_nodes(), back.number_of_edges()) == (5, 5)
    assert back.nodes["e"]["title"] == NASTY.replace("\x1b", "")
    assert back.edges["p", "t", "r2"]["strength"] == ""
    back = nx.read_gexf(io.BytesIO(exports.to_gexf(H).encode("utf-8")))
    assert (back.number_of_nodes(), back.number_of_edges()) == (5, 5)
    assert back.nodes["s"]["label"] == "Pin the driver version"


def test_exports_are_stable_whatever_the_input_order():
    H = sample()
    nodes = [{"id": n, **d} for n, d in reversed(list(H.nodes(data=True)))]
    edges = [{"from_id": u, "to_id": v, **d} for u, v, d in reversed(list(H.edges(data=True)))]
    R = builders.build_graph(nodes, edges)
    assert exports.to_graphml(R) == exports.to_graphml(H)
    assert exports.to_gexf(R) == exports.to_gexf(H)
    assert exports.to_node_link(R) == exports.to_node_link(H)


def path_view(order):
    """sample()'s memories s, p and t with the relationships among them, as the path view in ``order``."""
    G = sample()
    edges = [
        {"id": k, "from_id": u, "to_id": v, **d} for u, v, k, d in G.edges(keys=True, data=True)
        if u in "spt" and v in "spt"
    ]
    H = builders.build_graph([{"id": n, **G.nodes[n]} for n in ("s", "p", "t")], edges)
    H.graph["path"] = order
    return H


def test_node_link_is_json_with_edges_key():
    H = path_view(["s", "p", "t"])
    data = exports.to_node_link(H)
    json.dumps(data)
    assert [n["id"] for n in data["nodes"]] == ["p", "s", "t"]
    assert {e["key"] for e in data["edges"]} == {"r1", "r2"} and data["graph"]["path"] == ["s", "p", "t"]
    assert next(e for e in data["edges"] if e["key"] == "r2")["strength"] is None


def _contrast(a, b):
    def lum(h):
        r, g, b = (int(h[i : i + 2], 16) / 255 for i in (1, 3, 5))
        f = lambda c: c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4  # noqa: E731
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)

    high, low = sorted((lum(a), lum(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_type_colours_are_distinct_and_shapes_tell_close_ones_apart():
    """graph.js rims every shape in the text colour, which has 3:1 on both themes (WCAG 1.4.11);
    test_graph_palette.py checks the colours themselves, also for colour-blind readers."""
    assert _contrast("#1d2125", "#ffffff") >= 3 and _contrast("#e6e8ea", "#1c2024") >= 3
    # Types whose colours a colour-blind reader may confuse differ in shape.
    for a, b in (
        ("problem", "error"), ("solution", "fix"), ("command", "file_context"), ("general", "command"),
    ):
        assert render.TYPE_SHAPES[a] != render.TYPE_SHAPES[b], (a, b)
    assert len(set(render.COMMUNITY_COLOURS)) == len(render.COMMUNITY_COLOURS)
    payload = render.vis_payload(sample())
    assert {n["id"]: n["shape"] for n in payload["nodes"]}["p"] == "triangle"
    assert payload["legend"]["shapes"]["error"] == "triangleDown"


def test_svg_title_is_fitted_to_the_width_and_kept_whole_in_its_title_element():
    long = (
        "Around “" + "billing-api: Django 5.1 + DRF service for invoicing, dunning and Stripe payments " * 3
        + "”"
    )
    root = ET.fromstring(svg.to_svg(sample(), builders.layout(sample()), width=600, height=400, title=long))
    heading = next(t for t in root.iter(f"{SVG_NS}text") if t.get("font-size") == "16")
    assert heading.text.endswith("…") and len(heading.text) * svg.TITLE_CHAR_WIDTH <= 600 - 2 * svg.MARGIN
    assert root.find(f"{SVG_NS}title").text == long


def test_a_path_is_drawn_top_to_bottom_in_its_order_with_one_node_size():
    """Sized by links, a path's middle was four times its ends (issue 13's pictures)."""
    H = path_view(["t", "p", "s"])
    nodes = by_id(render.vis_payload(H)["nodes"])
    assert {n["size"] for n in nodes.values()} == {render.PATH_SIZE}
    assert [nodes[n]["y"] for n in ("t", "p", "s")] == [0, render.PATH_STEP, 2 * render.PATH_STEP]
    assert {n["x"] for n in nodes.values()} == {0} and not nodes["p"]["physics"]
    H.graph["path"] = ["t", "p"]  # more in the view than the path: laid out as any view
    assert "x" not in by_id(render.vis_payload(H)["nodes"])["p"]


def test_svg_labels_never_lie_over_each_other():
    """Two memories side by side: the bigger keeps its label, the other shows its title on hover."""
    H = builders.build_graph(
        [node("a", title="Alpha memory"), node("b", title="Beta memory"), node("c")],
        [edge("r1", "a", "c", "SOLVES")],
    )
    root = ET.fromstring(svg.to_svg(H, {"a": (0, 0), "b": (0.01, 0), "c": (500, 500)}, width=600, height=400))
    labels = [
        t.text for g in root.iter(f"{SVG_NS}g") if g.get("class") == "nodes" for t in g.iter(f"{SVG_NS}text")
    ]
    assert "Alpha memory" in labels and "Beta memory" not in labels and "Memory c" in labels
