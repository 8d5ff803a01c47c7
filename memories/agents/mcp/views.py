"""``/c/<client>/mcp/``: the MCP endpoint (streamable HTTP) for agents holding an API key.

Only a key opens it, never a login session: ``Authorization: Bearer mg_…`` (what
``claude mcp add --transport http … --header`` sends) or ``X-API-Key`` (what memorygraph's
cloud client sends). The key is checked and counted before the SDK sees the body: a write
budget for a call of a write tool, a read budget for everything else. A read key calling a
write tool is counted as a read and gets an MCP tool error from ``tools.call_tool``.
"""
import json

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from kbsite.auth import client_address

from ...models import ApiKey
from ...store.registry import get_client, handle_for
from ..errors import BodyTooLarge, KeyError401, KeyError403, RateLimited
from ..keys import authenticate_key
from . import WRITE_TOOLS

# The largest exchange a tool needs: 50,000 characters of content, each escaped to at most
# 6 bytes in JSON, plus title, summary, tags and context.
MAX_BODY = 1024 * 1024
CHALLENGE = 'Bearer realm="memory-kb", error="invalid_token"'


def raw_key(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-API-Key", "").strip()


def writes(body):
    """Whether this JSON-RPC message (or batch) calls a write tool; anything else reads."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return False  # the SDK answers the parse error
    messages = message if isinstance(message, list) else [message]
    return any(isinstance(m, dict) and m.get("method") == "tools/call" and isinstance(m.get("params"), dict)
               and m["params"].get("name") in WRITE_TOOLS for m in messages)


def _error(message, status, headers=None):
    response = JsonResponse({"error": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _authenticate(request, client, body):
    raw, address = raw_key(request), client_address(request)
    write = writes(body)
    try:
        return authenticate_key(raw, client=client, write=write, address=address)
    except KeyError403:
        return authenticate_key(raw, client=client, write=False, address=address)


@csrf_exempt  # a key in a header, never a cookie, authorises these requests
@login_not_required
def endpoint(request, client):
    database = get_client(client)
    length = request.META.get("CONTENT_LENGTH") or "0"
    try:
        if not length.isdigit() or int(length) > MAX_BODY:
            raise BodyTooLarge(f"The request body may have at most {MAX_BODY:,} bytes.")
        body = request.body
        key = _authenticate(request, database, body)
    except KeyError401 as exc:
        return _error(exc.message, exc.status, {**exc.headers, "WWW-Authenticate": CHALLENGE})
    except (BodyTooLarge, RateLimited) as exc:
        return _error(exc.message, exc.status, exc.headers)
    if request.method != "POST":
        # Stateless: no stream to open with GET, no session to end with DELETE (the spec's answer).
        response = _error("This endpoint takes MCP messages by POST only.", 405)
        response["Allow"] = "POST"
        return response
    # Here, not at the top: the SDK and memorygraph are loaded by the first agent's request only.
    from .adapter import KbMemoryDatabase
    from .transport import serve

    handle = handle_for(database)
    handle.ensure_fresh()
    status, headers, content = serve(request, body, database=KbMemoryDatabase(handle=handle, key=key),
                                     can_write=key.role == ApiKey.WRITE)
    response = HttpResponse(content, status=status)
    for name, value in headers:
        if name.lower() != "content-length":
            response[name] = value
    return response
