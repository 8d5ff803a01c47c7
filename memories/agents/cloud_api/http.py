"""The cloud API's request plumbing: key auth, body limits, JSON in and out, one error mapping.

These URLs take no session and no cookie: only the X-API-Key header (memorygraph's client sends
it; ``Authorization: Bearer`` is accepted too), so they are CSRF-exempt, and only they are.
"""
import json
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from kbsite.auth import client_address

from ...errors import KBError
from ...format import CONTENT_MAX, FormatError
from ...store.groupcommit import fresh_unless_writing
from ...store.registry import handle_for
from ..actor import actor_for
from ..errors import BodyTooLarge
from ..keys import authenticate_key
from .serializers import PayloadError, api_errors

# A memory at the format's limits (50,000 characters of content, 500 of summary, 50 tags of 100)
# is under 100 KB of JSON even with every character escaped as \uXXXX twice over; 256 KB leaves
# room for context and still refuses what no valid memory needs.
MAX_BODY = max(256 * 1024, CONTENT_MAX * 5)


def error(status, message, errors=None, headers=None):
    response = JsonResponse({"detail": message, "errors": errors or {}}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _detail(exc):
    """The cloud API's ``detail`` and ``errors`` for a refusal: invalid input names its fields as
    memorygraph's payloads do; any other error says its message."""
    if isinstance(exc, (PayloadError, FormatError)):
        errors = api_errors(exc.errors) if isinstance(exc, FormatError) else exc.errors
        return "Invalid input: " + "; ".join(errors.values()), errors
    return exc.message, None


def raw_key(request):
    key = request.headers.get("X-API-Key", "")
    if not key and request.headers.get("Authorization", "").startswith("Bearer "):
        key = request.headers["Authorization"][len("Bearer "):]
    return key.strip()


def read_json(request):
    """The JSON body (None when empty); PayloadError for malformed JSON, a 413 for too big."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise PayloadError({"body": "Content-Length is not a number."}) from None
    if length > MAX_BODY:
        raise BodyTooLarge(f"The body may have at most {MAX_BODY // 1024} KB.")
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise BodyTooLarge(f"The body may have at most {MAX_BODY // 1024} KB.")
    if not body.strip():
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PayloadError({"body": "The body is not valid JSON (UTF-8)."}) from None


def api_view(*, methods, write=(), fresh=True):
    """Resolve the client database, authenticate the key (a write for methods in ``write``),
    and answer every refusal (any ``KBError``) with its status; the view gets (request, handle,
    actor, **kwargs).

    ``fresh=False`` for a view that reads nothing before its write: a store arriving while this
    process commits another write does not wait for the handle's lock here, and joins the next
    group commit (store/groupcommit.py)."""
    def decorate(view):
        @csrf_exempt
        @login_not_required
        @wraps(view)
        def wrapper(request, client, **kwargs):
            if request.method not in methods:
                response = error(405, f"{request.method} is not allowed here.")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                # No key opens a database that is not there or archived: the same 401.
                key = authenticate_key(raw_key(request), slug=client, write=request.method in write,
                                       address=client_address(request))
                handle = handle_for(key.client)
                if fresh:
                    handle.ensure_fresh()
                else:
                    fresh_unless_writing(handle)
                return view(request, handle, actor_for(key), **kwargs)
            except KBError as exc:
                return error(exc.status, *_detail(exc), headers=exc.headers)
        return wrapper
    return decorate
