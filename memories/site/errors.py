"""Error pages in the site's layout (header, menu, switcher), for Django's handler400/403/404/500.

Only messages our own code wrote are shown: Django's resolver puts a dict of the patterns it
tried into its Http404 (shown as "Resolver404" by the default page), and other exceptions
may hold paths or SQL, so those get the generic sentence of their status instead.
"""
import logging

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import Resolver404

log = logging.getLogger("memories")

GENERIC = {
    400: "The request was not understood; nothing was changed.",
    403: "You are not allowed to do this here.",
    404: "This page does not exist, or you are not a member of its client database.",
    500: "Something went wrong on our side; nothing was changed. Try again in a moment.",
}


def _message(exception, status):
    if exception is None or isinstance(exception, Resolver404):
        return GENERIC[status]
    text = exception.args[0] if exception.args else ""
    if status in (403, 404) and isinstance(text, str) and text.strip():
        return text
    return GENERIC[status]


def error_page(request, status, message):
    return render(request, "error.html", {"message": message, "errors": {}, "status": status}, status=status)


def bad_request(request, exception=None):
    return error_page(request, 400, GENERIC[400])


def permission_denied(request, exception=None):
    return error_page(request, 403, _message(exception, 403))


def page_not_found(request, exception=None):
    return error_page(request, 404, _message(exception, 404))


def server_error(request):
    """The layout needs the database (menu, switcher); when that is what failed, a bare page."""
    try:
        return error_page(request, 500, GENERIC[500])
    except Exception:  # noqa: BLE001 - the page of last resort must not raise
        log.exception("the 500 page could not be rendered in the layout")
        return HttpResponse(f"<!doctype html><title>Error 500</title><h1>Something went wrong</h1>"
                            f"<p>{GENERIC[500]}</p><p><a href=\"/\">Start page</a></p>", status=500)
