"""Browse and search: the memory list with its facets, and the search results page.

Both render memories/list.html from the same listing context; ``filter_form`` is also the
selection of the bulk tagging views (views/tags.py).
"""
from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from .. import selectors
from ..forms import FilterForm
from ..http import client_view, error_response, respond, wants_json
from ..links import facet_links
from ..search.engine import memory_search


def filter_form(request):
    """The FilterForm of the query string, and an error response (400) when it is not valid."""
    form = FilterForm(request.GET)
    if not form.is_valid():
        return None, error_response(request, "Some filters are not valid.", status=400, errors=form.errors)
    return form, None


FACET_SECTIONS = (("type", "Type", True), ("tag", "Tags", True), ("band", "Importance", True),
                  ("project", "Project", False), ("month", "Month created", False))


def _listing_context(request, handle, form, filters, page, state=None):
    params = filters.as_params()
    query = form.cleaned_data["q"]
    return {
        "links": facet_links(request.GET if state is None else state, page.facets or {}, filters),
        "facet_sections": FACET_SECTIONS,
        "client": handle.client,
        "filters": filters,
        "filter_params": params,
        "q": query,
        "sort": form.cleaned_data["sort"] or "newest",
        "page": page,
        "counts": selectors.graph_counts(rm=handle.readmodel),
        "selection": urlencode(([("q", query)] if query else []) + params),
    }


def _page_json(page, extra=None):
    return {"total": page.total, "items": page.items, "facets": page.facets, "next": page.next_cursor,
            **(extra or {})}


@client_view
def memory_list(request, handle):
    form, error = filter_form(request)
    if error:
        return error
    if form.cleaned_data["q"].strip():
        return redirect(f"{reverse('search', args=[handle.client.slug])}?{request.GET.urlencode()}")
    filters = form.filters()
    sort = form.cleaned_data["sort"] or "newest"
    page = selectors.memory_list(rm=handle.readmodel, filters=filters, sort=sort,
                                 cursor=form.cleaned_data["after"], limit=settings.KB_PAGE_SIZE)
    context = _listing_context(request, handle, form, filters, page)
    context["mode"] = "browse"
    return respond(request, "memories/list.html", context, partial="main", data=_page_json(page))


@client_view
def search(request, handle):
    form, error = filter_form(request)
    if error:
        return error
    filters = form.filters()
    number = form.cleaned_data["page"] or 1
    # The results do not wait for the facets and the exact total: the page asks for them in a
    # second request (part=facets); the JSON twin gives them with facets=1.
    part, exact = request.GET.get("part"), request.GET.get("exact") == "1"
    with_facets = part == "facets" or request.GET.get("facets") == "1"
    result = memory_search(rm=handle.readmodel, text=form.cleaned_data["q"], filters=filters, page=number,
                           exact=exact, facets=with_facets)
    page = result["page_data"]
    state = request.GET.copy()
    for key in ("part", "facets"):
        state.pop(key, None)
    kept = [(k, v) for k, values in state.lists() for v in values if k != "format"]
    if part != "facets" and wants_json(request):
        # The JSON twin needs none of the page's context (facet links, counts, suggestions).
        return JsonResponse(_page_json(page, {
            "query": result["query"], "corrected": result["corrected"], "page": number,
            "partial": result["partial"], "total_more": result["total_more"],
            "titles_only": result["titles_only"],
            "facets_url": None if with_facets else
            f"{request.path}?{urlencode([*kept, ('facets', '1'), ('format', 'json')])}"}),
            json_dumps_params={"ensure_ascii": False})
    context = _listing_context(request, handle, form, filters, page, state)
    facets_url = f"{request.path}?{urlencode([*kept, ('part', 'facets')])}"
    context.update(mode="search", corrected=result["corrected"], partial=result["partial"],
                   page_number=number, titles_only=result["titles_only"],
                   total_more=result["total_more"], facets_url=facets_url, exact=exact,
                   popular=selectors.popular_tags(rm=handle.readmodel) if not page.items else [])
    return respond(request, "memories/list.html", context, partial="facets" if part == "facets" else "main")


@client_view
def unresolved(request, handle):
    return redirect(f"{reverse('memory_list', args=[handle.client.slug])}?unresolved=1")
