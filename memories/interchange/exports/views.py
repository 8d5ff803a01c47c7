"""Downloads of a client database, a search result or another app's selection (scopes.py), in
each format (json_export.py, csv_export.py, sqlite_export.py, markdown_zip.py)."""
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ...forms import ExportForm, FilterForm
from ...http import client_view, error_response, respond
from ...worker.jobs import job_enqueue
from . import csv_export, json_export, markdown_zip, sqlite_export
from . import reads as export_data
from .scopes import scope_for

EXPORT_INLINE = 5000  # bigger selections are written by the worker and offered as a download

# format -> (content type, file extension)
DOWNLOADS = {
    "json": ("application/json", "json"),
    "sqlite": ("application/vnd.sqlite3", "db"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "markdown": ("application/zip", "zip"),
}


@require_http_methods(["GET", "POST"])
@client_view
def export(request, handle):
    form = ExportForm(request.GET)
    if not form.is_valid():
        return error_response(request, "This export's parameters are not valid.", status=400,
                              errors=form.errors)
    scope = form.cleaned_data["scope"] or "all"
    try:
        ids = _selection(handle, scope, _selection_query(request.GET))
    except ValueError as exc:
        return error_response(request, f"The {scope} selection's parameters are not valid.", status=400,
                              errors=exc.args[0])
    except LookupError as exc:
        return error_response(request, str(exc), status=404)
    if ids is None:
        response = error_response(
            request, "The whole graph is still being computed; try again in a few seconds.", status=503)
        response["Retry-After"] = "5"
        return response
    name = f"{handle.client.slug}-{scope}-{timezone.now():%Y-%m-%d}"
    fmt = form.cleaned_data["format"]
    if len(ids) > EXPORT_INLINE:
        return _big(request, handle, fmt, ids, name)
    return _download(fmt, handle.readmodel, ids, name)


def _big(request, handle, fmt, ids, name):
    """A selection too big to write in a request: a page that asks (GET), a worker job (POST)."""
    if request.method != "POST":
        return respond(request, "memories/export_big.html", {"client": handle.client, "count": len(ids),
                                                             "format": fmt, "query": request.GET.urlencode()})
    job = job_enqueue(kind="export", client=handle.client, actor=request.user, total=len(ids),
                      params={"format": fmt, "name": name, "ids": list(ids)})
    return redirect("job_detail", handle.client.slug, job.pk)


def _selection_query(query):
    """The request's parameters without the export's own: a scope's form (a graph view's) may have a
    `format` of its own."""
    selection = query.copy()
    for key in ("format", "scope"):
        selection.pop(key, None)
    return selection


def _selection(handle, scope, query):
    """The memory ids of the scope; None while a registered scope's selection (a whole-graph view)
    is still being computed. Raises ValueError with form errors, or LookupError for a selection
    of something missing (a graph view of a missing memory)."""
    rm = handle.readmodel
    if scope == "all":
        return export_data.export_ids_all(rm=rm)
    filters_form = FilterForm(query)
    owned = scope_for(scope) if scope != "search" else None
    scope_form = owned.form(query) if owned is not None else None
    if not filters_form.is_valid() or (scope_form is not None and not scope_form.is_valid()):
        raise ValueError({**filters_form.errors, **(scope_form.errors if scope_form is not None else {})})
    filters, q = filters_form.filters(), filters_form.cleaned_data["q"]
    if owned is None:
        return export_data.export_ids_search(rm=rm, filters=filters, q=q)
    return owned.select(handle, scope_form.cleaned_data, filters=filters, q=q)


def _download(fmt, rm, ids, name):
    content_type, ext = DOWNLOADS[fmt]
    if fmt == "json":
        response = StreamingHttpResponse(json_export.json_stream(rm=rm, ids=ids), content_type=content_type)
    elif fmt == "csv":
        response = StreamingHttpResponse(csv_export.csv_stream(rm=rm, ids=ids), content_type=content_type)
    elif fmt == "sqlite":
        response = FileResponse(sqlite_export.sqlite_file(rm=rm, ids=ids), content_type=content_type)
    else:
        archive = markdown_zip.markdown_zip(rm=rm, ids=ids, folder=name)
        response = FileResponse(archive, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{ext}"'
    return response
