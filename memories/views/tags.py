"""Tags across memories: the tag index, renaming a tag, and bulk tagging a selection with its undo."""
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from .. import selectors, services, tagging
from ..format import FormatError
from ..forms import BulkTagForm, TagRenameForm
from ..http import add_format_errors, client_view, error_response, form_response, respond, wants_json
from ..models import TagBatch
from ..search.query import parse_query
from .listing import filter_form


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
        changed = tagging.tag_rename(handle=handle, actor=request.user, old=old,
                                      new=form.cleaned_data["new"], memory_ids=ids)
    except FormatError as exc:
        return error_response(request, " ".join(exc.errors.values()), status=400, errors=exc.errors)
    if wants_json(request):
        return JsonResponse({"changed": len(changed)})
    messages.success(request, f"Renamed {old!r} on {len(changed)} memories.")
    return redirect("tag_index", handle.client.slug)


def _selection(request, handle):
    """The memories matched by the search/filter in the query string: (ids, filters, q) or an error."""
    form, error = filter_form(request)
    if error:
        return None, error
    q = form.cleaned_data["q"].strip()
    parsed = parse_query(q) if q else None
    if q and parsed is None:
        return None, error_response(request, "This search matches nothing to tag.", status=400)
    filters = form.filters()
    if parsed is None and not filters.active():
        return None, error_response(
            request, "Bulk tagging needs a search or a filter; refusing to tag everything.", status=400)
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
               "bulk_inline": tagging.BULK_INLINE,
               "sample": selectors.memory_titles(rm=handle.readmodel, ids=ids[:10])}
    if request.method == "POST":
        if not form.is_valid():
            return form_response(request, "memories/bulk.html", context, form)
        try:
            batch, job = tagging.bulk_tag(handle=handle, actor=request.user, tag=form.cleaned_data["tag"],
                                           memory_ids=ids, selection=request.GET.urlencode())
        except FormatError as exc:
            add_format_errors(form, exc)
            return form_response(request, "memories/bulk.html", context, form)
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
    job = tagging.bulk_tag_undo(handle=handle, actor=request.user, batch=batch)
    if job is not None:  # a big batch: the worker undoes it
        return redirect("job_detail", handle.client.slug, job.pk)
    messages.success(request, f"Undid tagging {len(batch.memory_ids)} memories with {batch.tag!r}.")
    return redirect("tag_index", handle.client.slug)
