"""kb_bench's graph pages: depth-2 neighbourhoods of random memories and the overview, as the
HTML page and its JSON twin, plus their parts (selector, build_graph, vis_payload,
to_node_link) called bare."""
from urllib.parse import urlencode

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

from graphs import builders, exports, render
from graphs import selectors as graph_selectors
from graphs.compute import compute
from graphs.forms import GraphForm
from memories.store import cache

from .bench_common import clocked, stats, time_all

# Neighbourhoods of at most this many random memories (and --queries), this deep; the overview
# is requested as many times.
GRAPH_MEMORIES = 50
GRAPH_DEPTH = 2
# The overview read from the stored analytics with the result cache empty (what the first
# overview request after a change pays).
OVERVIEW_MISSES = 3


def time_neighbourhoods(web, handle, memory_ids, report):
    """Depth-2 neighbourhoods: the page and its JSON twin, the view's work bare
    (compute + vis_payload or to_node_link), and each part on its own."""
    rm, slug = handle.readmodel, handle.client.slug
    base = reverse("graph", args=[slug])
    calls = [(f"{base}?{urlencode(params)}", (fmt, urlencode(params)))
             for memory_id in memory_ids
             for fmt, params in (("html", {"memory": memory_id, "depth": GRAPH_DEPTH}),
                                 ("json", {"memory": memory_id, "depth": GRAPH_DEPTH, "format": "json"}))]
    result = time_all(web, rm, calls, lambda arg: _graph_work(handle, *arg),
                      kinds=[fmt for _, (fmt, _) in calls])
    limit, url_for = settings.KB_GRAPH_LIMIT, _memory_url(slug)
    parts = {key: [] for key in ("selector", "build_graph", "vis_payload", "to_node_link")}
    shown, reached = [], []
    for memory_id in memory_ids:
        nodes, edges, total = clocked(parts["selector"], lambda: graph_selectors.neighbourhood(
            rm=rm, center=memory_id, depth=GRAPH_DEPTH, limit=limit))
        H = clocked(parts["build_graph"], lambda: builders.build_graph(nodes, edges))
        clocked(parts["vis_payload"], lambda: render.vis_payload(H, url_for=url_for))
        clocked(parts["to_node_link"], lambda: exports.to_node_link(H))
        shown.append(len(nodes))
        reached.append(total)
    result["parts"] = {key: {"raw": stats(values)} for key, values in parts.items()}
    report["neighbourhood_nodes"] = {"shown": stats(shown), "reached": stats(reached)}
    return result


def time_overview(web, handle, count):
    """The overview (limit KB_GRAPH_LIMIT) from the stored analytics; the first request
    reads it (compute, kept in the result cache), later ones reuse it, as in production."""
    base = reverse("graph", args=[handle.client.slug])
    url_for = _memory_url(handle.client.slug)
    misses = []
    form = GraphForm(QueryDict(""))
    form.is_valid()
    for _ in range(OVERVIEW_MISSES):
        cache.clear()
        H = clocked(misses, lambda: compute(handle, form.cleaned_data)).graph
    calls = [(base, ("html", "")), (f"{base}?format=json", ("json", "format=json"))] * count
    result = time_all(web, handle.readmodel, calls, lambda arg: _graph_work(handle, *arg),
                      kinds=[fmt for _, (fmt, _) in calls])
    payload, node_link = [], []
    for _ in range(count):
        clocked(payload, lambda: render.vis_payload(H, size_by="degree", url_for=url_for))
        clocked(node_link, lambda: exports.to_node_link(H))
    result["parts"] = {"stored overview": {"raw": stats(misses)},
                       "vis_payload": {"raw": stats(payload)}, "to_node_link": {"raw": stats(node_link)}}
    return result


def _memory_url(slug):
    return lambda memory_id: reverse("memory_detail", args=[slug, memory_id])


def _graph_work(handle, fmt, query):
    """What the graph view does for a query string, minus middleware and template: the form,
    compute() (selector or stored analytics, build_graph) and the vis payload or node-link."""
    form = GraphForm(QueryDict(query))
    form.is_valid()
    data = form.cleaned_data
    result = compute(handle, data)
    H = result.graph
    if fmt == "json":
        return exports.to_node_link(H)
    positions = builders.layout(H) if H.number_of_nodes() > settings.KB_GRAPH_PHYSICS_MAX else None
    return render.vis_payload(H, size_by=data["size"] if result.ranks else "degree", positions=positions,
                              url_for=_memory_url(handle.client.slug))
