"""Views: validate with a form, call one selector or service, render page, fragment or JSON."""
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .sync.selectors import outbox_pending_ids
from .editor import views as editor_views
from .editor.labels import label_history
from .format import FormatError
from .forms import BulkTagForm, FilterForm, MemoryEditForm, MemoryForm, RelationshipForm, TagForm, TagRenameForm
from .http import client_view, error_response, respond, wants_json
from .links import facet_links
from .markdown import render as render_markdown
from .models import AuditEntry, TagBatch
from .search.query import parse_query
from .search.engine import memory_search


def _filter_form(request):
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
    return {"total": page.total, "items": page.items, "facets": page.facets, "next": page.next_cursor, **(extra or {})}


@client_view
def memory_list(request, handle):
    form, error = _filter_form(request)
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
    form, error = _filter_form(request)
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


def _memory_or_404(handle, memory_id):
    memory = selectors.memory_detail(rm=handle.readmodel, memory_id=memory_id)
    if memory is None:
        raise Http404(f"No memory with id {memory_id}.")
    return memory


@client_view
def memory_detail(request, handle, memory_id):
    memory = _memory_or_404(handle, memory_id)
    pending = handle.synced and bool(outbox_pending_ids(rm=handle.readmodel, ids=[memory_id]))
    context = {"client": handle.client, "memory": memory, "content_html": render_markdown(memory["content"]),
               "audit": label_history(selectors.memory_history(entries=AuditEntry.objects.filter(
                   client=handle.client, object_id=memory_id).select_related("actor")[:50])),
               "pending": pending}
    return respond(request, "memories/detail.html", context, partial="tags",
                   data={"memory": memory, "pending_sync": pending})


def _form_response(request, template, context, form, status=400):
    if wants_json(request):
        return error_response(request, "The form has errors.", status=status, errors=form.errors)
    return respond(request, template, {**context, "form": form}, status=status)


def _apply_format_errors(form, exc):
    for field, message in exc.errors.items():
        form.add_error(field if field in form.fields else None, message)


@client_view(role="editor")
def memory_create(request, handle):
    context = {"client": handle.client, "memory": None}
    form = MemoryForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                memory_id = services.memory_create(handle=handle, actor=request.user, fields=form.fields_for_service())
            except FormatError as exc:
                _apply_format_errors(form, exc)
            else:
                messages.success(request, "Memory created.")
                return redirect("memory_detail", handle.client.slug, memory_id)
        return _form_response(request, "memories/form.html", context, form)
    return respond(request, "memories/form.html", {**context, "form": form})


@client_view(role="editor")
def memory_edit(request, handle, memory_id):
    memory = _memory_or_404(handle, memory_id)
    context = {"client": handle.client, "memory": memory}
    if request.method == "POST":
        form = MemoryEditForm(request.POST)
        if form.is_valid():
            try:
                services.memory_update(handle=handle, actor=request.user, memory_id=memory_id,
                                       fields=form.fields_for_service(),
                                       expected_updated_at=form.cleaned_data["updated_at"])
            except FormatError as exc:
                _apply_format_errors(form, exc)
            except services.Conflict as exc:
                form.add_error(None, str(exc))
                return _form_response(request, "memories/form.html", context, form, status=409)
            else:
                messages.success(request, "Memory saved.")
                return redirect("memory_detail", handle.client.slug, memory_id)
        return _form_response(request, "memories/form.html", context, form)
    form = MemoryEditForm(initial={**MemoryForm.initial_from(memory), "updated_at": memory["edit_version"]})
    return respond(request, "memories/form.html", {**context, "form": form})


@require_POST
@client_view(role="editor")
def memory_delete(request, handle, memory_id):
    services.memory_delete(handle=handle, actor=request.user, memory_id=memory_id)
    messages.success(request, "Memory deleted.")
    return redirect("memory_list", handle.client.slug)


@require_POST
@client_view(role="editor")
def memory_tags(request, handle, memory_id):
    form = TagForm(request.POST)
    status, error = 200, None
    if form.is_valid():
        service = services.tag_add if form.cleaned_data["action"] == "add" else services.tag_remove
        try:
            service(handle=handle, actor=request.user, memory_id=memory_id, tag=form.cleaned_data["tag"])
        except FormatError as exc:
            status, error = 400, " ".join(exc.errors.values())
    else:
        status, error = 400, "Enter a tag of at most 100 characters."
    memory = _memory_or_404(handle, memory_id)
    if not wants_json(request) and not request.htmx and status == 200:
        return redirect("memory_detail", handle.client.slug, memory_id)
    context = {"client": handle.client, "memory": memory, "tag_error": error,
               "content_html": render_markdown(memory["content"])}
    return respond(request, "memories/detail.html", context, partial="tags",
                   data={"tags": memory["tags"], "error": error}, status=status)


@client_view(role="editor")
def relationship_create(request, handle, memory_id):
    memory = _memory_or_404(handle, memory_id)
    context = {"client": handle.client, "memory": memory}
    form = RelationshipForm(request.POST or None, initial={"other": request.GET.get("other", "")})
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            ends = (memory_id, data["other"]) if data["direction"] == "out" else (data["other"], memory_id)
            try:
                services.relationship_create(
                    handle=handle, actor=request.user, from_id=ends[0], to_id=ends[1], rel_type=data["rel_type"],
                    strength=data["strength"], confidence=data["confidence"], context=data["context"])
            except FormatError as exc:
                for field, message in exc.errors.items():
                    form.add_error("other" if field in ("from_id", "to_id") else
                                   field if field in form.fields else None, message)
            else:
                messages.success(request, "Relationship added.")
                return redirect("memory_detail", handle.client.slug, memory_id)
        return _form_response(request, "memories/relationship_form.html", context, form)
    return respond(request, "memories/relationship_form.html", {**context, "form": form})


@require_http_methods(["GET", "POST"])
@client_view(role="editor")
def relationship_delete(request, handle, rel_id):
    if request.method == "GET":  # the ✕ on the memory page asks first
        return editor_views.relationship_confirm(request, handle, rel_id)
    # `memory` is the page to go back to; checked before the delete, because a bad one
    # found after it would answer an error for a change that was made.
    back = request.POST.get("memory", "")
    ends = selectors.relationship_ends(rm=handle.readmodel, rel_id=rel_id)
    if ends is None:
        raise Http404(f"No relationship with id {rel_id}.")
    if back and back not in ends:
        return error_response(request, "memory must be the id of one end of this relationship (the page to go "
                                       "back to); nothing was removed.", status=400)
    services.relationship_delete(handle=handle, actor=request.user, rel_id=rel_id)
    messages.success(request, "Relationship removed.")
    if back:
        return redirect("memory_detail", handle.client.slug, back)
    return redirect("memory_list", handle.client.slug)


@client_view
def tag_index(request, handle):
    order = request.GET.get("order", "count")
    if order not in selectors.TAG_ORDERS:
        return error_response(request, "order must be count or name.", status=400)
    data = selectors.tag_index(rm=handle.readmodel, order=order, limit=1000)
    context = {"client": handle.client, "order": order, "rename_form": TagRenameForm(), **data,
               "batches": TagBatch.objects.filter(client=handle.client)[:10]}
    return respond(request, "memories/tags.html", context, data=data)


@require_POST
@client_view(role="editor")
def tag_rename(request, handle):
    form = TagRenameForm(request.POST)
    if not form.is_valid():
        return error_response(request, "Give the tag and its new name (at most 100 characters).",
                              status=400, errors=form.errors)
    old = form.cleaned_data["old"].strip().lower()
    ids = selectors.tag_memory_ids(rm=handle.readmodel, tag=old)
    if not ids:
        raise services.NotFound(f"No memory has the tag {old!r}.")
    try:
        changed = services.tag_rename(handle=handle, actor=request.user, old=old,
                                      new=form.cleaned_data["new"], memory_ids=ids)
    except FormatError as exc:
        return error_response(request, " ".join(exc.errors.values()), status=400, errors=exc.errors)
    if wants_json(request):
        return JsonResponse({"changed": len(changed)})
    messages.success(request, f"Renamed {old!r} on {len(changed)} memories.")
    return redirect("tag_index", handle.client.slug)


def _selection(request, handle):
    """The memories matched by the search/filter in the query string: (ids, filters, q) or an error."""
    form, error = _filter_form(request)
    if error:
        return None, error
    q = form.cleaned_data["q"].strip()
    parsed = parse_query(q) if q else None
    if q and parsed is None:
        return None, error_response(request, "This search matches nothing to tag.", status=400)
    filters = form.filters()
    if parsed is None and not filters.active():
        return None, error_response(request, "Bulk tagging needs a search or a filter; refusing to tag everything.",
                                    status=400)
    ids = selectors.selection_ids(rm=handle.readmodel, filters=filters, parsed=parsed)
    return (ids, form), None


@client_view(role="editor")
def bulk_tag(request, handle):
    selected, error = _selection(request, handle)
    if error:
        return error
    ids, filter_form = selected
    form = BulkTagForm(request.POST or None)
    context = {"client": handle.client, "count": len(ids), "form": form, "selection": request.GET.urlencode(),
               "bulk_inline": services.BULK_INLINE,
               "sample": selectors.memory_titles(rm=handle.readmodel, ids=ids[:10])}
    if request.method == "POST":
        if not form.is_valid():
            return _form_response(request, "memories/bulk.html", context, form)
        try:
            batch, job = services.bulk_tag(handle=handle, actor=request.user, tag=form.cleaned_data["tag"],
                                           memory_ids=ids, selection=request.GET.urlencode())
        except FormatError as exc:
            _apply_format_errors(form, exc)
            return _form_response(request, "memories/bulk.html", context, form)
        if job is not None:  # a big selection: the worker tags it, its job page shows how far
            if wants_json(request):
                return JsonResponse({"batch": batch.pk, "job": job.pk, "status": job.status}, status=202)
            return redirect("job_detail", handle.client.slug, job.pk)
        if wants_json(request):
            return JsonResponse({"batch": batch.pk, "changed": len(batch.memory_ids)})
        messages.success(request, f"Tagged {len(batch.memory_ids)} memories with {batch.tag!r}.")
        return redirect("tag_index", handle.client.slug)
    return respond(request, "memories/bulk.html", context, data={"count": len(ids)})


@require_POST
@client_view(role="editor")
def bulk_tag_undo(request, handle, batch_id):
    batch = get_object_or_404(TagBatch, pk=batch_id, client=handle.client)
    job = services.bulk_tag_undo(handle=handle, actor=request.user, batch=batch)
    if job is not None:  # a big batch: the worker undoes it
        return redirect("job_detail", handle.client.slug, job.pk)
    messages.success(request, f"Undid tagging {len(batch.memory_ids)} memories with {batch.tag!r}.")
    return redirect("tag_index", handle.client.slug)


@client_view
def unresolved(request, handle):
    return redirect(f"{reverse('memory_list', args=[handle.client.slug])}?unresolved=1")
