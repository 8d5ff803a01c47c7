"""A graph view of a client database: the page, its table and adjacency twin, JSON, GraphML, GEXF and SVG.

``graph_for`` (a query string's view) and ``present`` (a view in the format asked for) are also how
an embed link shows its stored view (views/embeds.py).
"""
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse

from memories.format import MEMORY_TYPES, REL_CATEGORIES
from memories.forms import FilterForm
from memories.http import client_view, error_response
from memories.links import memory_segment

from .. import builders, exports, svg
from ..compute import compute
from ..forms import VIEWS, GraphForm
from ..picker.selectors import picker_field
from ..render import payload_script, vis_payload
from ..twin import twin_html, twin_rows

EXPORT_TYPES = {
    "graphml": ("application/graphml+xml", "graphml"),
    "gexf": ("application/gexf+xml", "gexf"),
}


def _view_state(query):
    """The query string of a view without presentation-only parameters."""
    pairs = [(k, v) for k, values in query.lists() for v in values if k not in ("format", "vis")]
    return urlencode(pairs)


def graph_for(handle, query):
    """(GraphForm data, GraphView) for a query string, or raise ValueError with form errors."""
    form, filters_form = GraphForm(query), FilterForm(query)
    if not form.is_valid() or not filters_form.is_valid():
        raise ValueError({**form.errors, **filters_form.errors})
    data = form.cleaned_data
    return data, compute(handle, data, filters=filters_form.filters(),
                         q=filters_form.cleaned_data["q"].strip())


@client_view
def graph(request, handle):
    form, filters_form = GraphForm(request.GET), FilterForm(request.GET)
    valid = [form.is_valid(), filters_form.is_valid()]
    html = request.GET.get("format", "html") in ("", "html")
    if not all(valid):
        if not html:
            return error_response(request, "This graph view's parameters are not valid.", status=400,
                                  errors={**form.errors, **filters_form.errors})
        choosing = form.only_choices_missing() and valid[1]
        problems = form.messages() + filters_form_messages(filters_form)
        return _choose(request, handle, problems, status=200 if choosing else 400)
    data = form.cleaned_data
    try:
        result = compute(handle, data, filters=filters_form.filters(),
                         q=filters_form.cleaned_data["q"].strip())
    except LookupError as exc:
        if not html:
            return error_response(request, str(exc), status=404)
        # Words typed where an id goes (the form sent without JavaScript): the picker lists their matches.
        return _choose(request, handle, [str(exc)], status=404, offer_matches=True)
    base = reverse("graph", args=[handle.client.slug])
    return present(request, handle.client, result, data, state=_view_state(request.GET), base=base,
                   url_for=_memory_urls(handle.client.slug),
                   pickers=_pickers(handle, _raw_state(request.GET)))


def filters_form_messages(filters_form):
    return [m for errors in filters_form.errors.values() for m in errors]


def _raw_state(query):
    """The form's values as sent, for showing the form again around what is wrong or missing."""
    view = query.get("view")
    if view not in VIEWS:
        view = "neighbourhood" if query.get("memory") else "overview"
    depth = query.get("depth", "")
    return {"view": view, "memory": query.get("memory", ""), "target": query.get("target", ""),
            "source": query.get("source") or (query.get("memory", "") if view == "path" else ""),
            "depth": int(depth) if depth in ("1", "2", "3") else 1, "size": query.get("size", ""),
            "node_type": query.getlist("node_type"), "category": query.getlist("category")}


PICKERS = (("memory", "Memory"), ("source", "From"), ("target", "To"))


def _pickers(handle, data):
    return {name: picker_field(rm=handle.readmodel, name=name, label=label, value=data.get(name))
            for name, label in PICKERS}


def _choose(request, handle, problems, *, status, offer_matches=False):
    """The graph page's form alone: the memories still to pick (with the picker), or what is wrong."""
    data = _raw_state(request.GET)
    pickers = _pickers(handle, data)
    if offer_matches and any(p["choices"] for p in pickers.values()):
        status, problems = 200, ["Several memories match what you typed: pick one."]
    context = {"client": handle.client, "data": data, "pickers": pickers, "problems": problems,
               "base": reverse("graph", args=[handle.client.slug]), "memory_types": MEMORY_TYPES,
               "categories": tuple(REL_CATEGORIES), "prompt": status == 200}
    return render(request, "graphs/graph.html", context, status=status)


def _memory_urls(slug):
    """memory id -> its page; one reverse() for all (37 µs each otherwise), each id's once (the
    payload and the twin both link every node)."""
    prefix = reverse("memory_detail", args=[slug, "x"])[:-2]
    urls = {}

    def url_for(memory_id):
        if memory_id not in urls:
            urls[memory_id] = f"{prefix}{quote(memory_segment(memory_id), safe='')}/"
        return urls[memory_id]
    return url_for


def present(request, client, result, data, *, state, base, url_for=None, embed=None,
            pickers=None):
    """Render a GraphView in the requested format."""
    fmt = data["format"]
    if result.computing:
        if fmt != "html":
            return JsonResponse({"status": "computing", "view": data["view"]}, status=202)
        return render(request, "graphs/computing.html", {"client": client, "result": result, "embed": embed},
                      status=202)
    if fmt == "json":
        body = {"view": data["view"], "title": result.title, "total": result.total, "shown": result.shown,
                "stats": result.stats, "ranks": result.ranks_status,
                **result.remember(("nodelink",), lambda: exports.to_node_link(result.graph))}
        if request.GET.get("vis"):
            body["vis"] = _payload(result, data, url_for)
        return JsonResponse(body)
    if fmt == "nodelink":
        response = JsonResponse(exports.to_node_link(result.graph))
        response["Content-Disposition"] = f'attachment; filename="{client.slug}-graph.json"'
        return response
    if fmt in EXPORT_TYPES:
        content_type, ext = EXPORT_TYPES[fmt]
        text = exports.to_graphml(result.graph) if fmt == "graphml" else exports.to_gexf(result.graph)
        response = HttpResponse(text, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{client.slug}-graph.{ext}"'
        return response
    if fmt == "svg":
        positions = builders.layout(result.graph)
        return HttpResponse(svg.to_svg(result.graph, positions, title=result.title),
                            content_type="image/svg+xml")
    linked = url_for is not None
    twin_body, adjacency = result.remember(("twin", linked), lambda: twin_html(twin_rows(result, url_for)))
    payload = result.remember(("payload", data["size"], linked), lambda: _payload(result, data, url_for))
    script = result.remember(("payload_script", data["size"], linked), lambda: payload_script(payload))
    context = {
        "client": client, "result": result, "data": data, "state": state, "base": base, "embed": embed,
        "payload": payload, "payload_script": script, "twin_body": twin_body, "adjacency": adjacency,
        "more": urlencode([*QueryDict(state).items(), ("limit", min(2000, data["limit"] * 2))])
        if result.total > result.shown else "",
    }
    if not embed:
        context.update(memory_types=MEMORY_TYPES, categories=tuple(REL_CATEGORIES), pickers=pickers or {})
    return render(request, "graphs/embed.html" if embed else "graphs/graph.html", context)


def _payload(result, data, url_for):
    H = result.graph
    for node_id in H.nodes:
        if node_id in result.ranks:
            H.nodes[node_id]["pagerank"] = result.ranks[node_id]
            H.nodes[node_id]["community"] = result.communities.get(node_id, -1)
    positions = builders.layout(H) if H.number_of_nodes() > settings.KB_GRAPH_PHYSICS_MAX else None
    size_by = data["size"] if result.ranks else "degree"
    return vis_payload(H, size_by=size_by, positions=positions, url_for=url_for)
