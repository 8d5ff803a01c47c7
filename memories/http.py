"""Request plumbing shared by the views: client resolution, page/fragment/JSON responses."""
import sqlite3
from functools import wraps

from django.db import OperationalError as DatabaseOperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.views.decorators.vary import vary_on_headers

from .access import client_and_role
from .errors import KBError
from .store.canonical import is_lock_timeout
from .store.registry import handle_for


def client_view(view=None, *, role="viewer"):
    """Resolve /c/<client>/, check the user's role in it, bring its read model up to date,
    and pass the handle on. ``@client_view`` needs a viewer; ``@client_view(role="editor")``
    an editor."""
    if view is None:
        return lambda v: client_view(v, role=role)

    @wraps(view)
    @vary_on_headers("HX-Request")
    def wrapper(request, client, *args, **kwargs):
        database, request.kb_role = client_and_role(request.user, client, role)
        request.kb_client = database  # for the menu of an error page, should the file fail below
        handle = handle_for(database)
        handle.ensure_fresh()
        request.kb = handle
        return view(request, handle, *args, **kwargs)

    return wrapper


def wants_json(request):
    return (request.GET.get("format") == "json"
            or request.headers.get("Accept", "").startswith("application/json"))


def wants_fragment(request):
    """htmx asked for a fragment; boosted and history-restore requests get the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def respond(request, template, context, *, partial=None, data=None, status=200):
    """The page, its fragment (``template#partial``) on htmx requests, or its JSON twin."""
    if data is not None and wants_json(request):
        return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    name = f"{template}#{partial}" if partial and wants_fragment(request) else template
    return TemplateResponse(request, name, context, status=status)


def _error_lists(errors, message):
    """Each field's messages as a list (a bare string was joined one character at a time), leaving out
    what the page's message already says."""
    lists = {}
    for field, value in (errors or {}).items():
        items = [value] if isinstance(value, str) else [str(v) for v in value]
        items = [text for text in items if text not in message]
        if items:
            lists[field] = items
    return lists


def error_response(request, message, *, status, errors=None):
    if wants_json(request):
        return JsonResponse({"error": message, "errors": errors or {}}, status=status)
    return render(request, "error.html", {"message": message, "errors": _error_lists(errors, message),
                                          "status": status}, status=status)


def form_response(request, template, context, form, status=400):
    """A form that did not pass: the page again with its errors, or them as JSON (400 unless told)."""
    if wants_json(request):
        return error_response(request, "The form has errors.", status=status, errors=form.errors)
    return respond(request, template, {**context, "form": form}, status=status)


def add_format_errors(form, exc):
    """Put a service's FormatError on the form: each message on its field, or on the form as a whole."""
    for field, message in exc.errors.items():
        form.add_error(field if field in form.fields else None, message)


BUSY_RETRY_AFTER_S = 5


def _busy(exception):
    """A read model whose write lock outlasted its busy timeout (a rebuild or a bulk import holds
    it for its whole run), or the site's own database so: the request can be tried again; any
    other SQLite error is a bug."""
    return (isinstance(exception, (sqlite3.OperationalError, DatabaseOperationalError))
            and is_lock_timeout(exception))


class KBErrorMiddleware:
    """Answers every ``KBError`` a view lets through (memories/errors.py) with its status, message and
    field errors, as the request wants them: JSON, or the error page. A read model locked for longer
    than its busy timeout gets a 503 to try again, not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, KBError):
            response = error_response(request, exception.message, status=exception.status,
                                      errors=exception.errors)
            for name, value in exception.headers.items():
                response[name] = value
            return response
        if _busy(exception):
            response = error_response(
                request, "The database is busy with a long write (a rebuild or an import); "
                "try again in a few seconds.", status=503)
            response["Retry-After"] = str(BUSY_RETRY_AFTER_S)
            return response
        return None
