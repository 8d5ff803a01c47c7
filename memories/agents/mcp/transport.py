"""One HTTP request through the MCP SDK's streamable-HTTP transport, from a sync Django view.

The SDK runs stateless with JSON responses (``StreamableHTTPSessionManager(stateless=True,
json_response=True)``): every POST carries one complete JSON-RPC exchange and gets one JSON
answer, with no session to keep between requests, so any gunicorn sync worker can serve any
request. The view hands the request to the SDK's ASGI entry point inside ``async_to_sync``;
the SDK parses and answers the JSON-RPC, and our handlers (``tools``) run memorygraph's.
A fresh manager per request costs well under a millisecond: it holds no state worth keeping.
"""
import contextvars

from asgiref.sync import async_to_sync
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.types import ListToolsResult

from . import tools

# What the request's view established: (KbMemoryDatabase, can_write).
_request = contextvars.ContextVar("mcp_request")


async def _list_tools(ctx, params):
    _, can_write = _request.get()
    return ListToolsResult(tools=tools.tools_for(can_write=can_write))


async def _call_tool(ctx, params):
    database, can_write = _request.get()
    return await tools.call_tool(database, params.name, params.arguments or {}, can_write=can_write)


SERVER = Server("memory-kb", version="1", on_list_tools=_list_tools, on_call_tool=_call_tool,
                instructions="The team's memory graph, with memorygraph's tools.")


def _scope(request):
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1", "replace"))
               for name, value in request.headers.items()]
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
        "scheme": request.scheme, "path": request.path, "raw_path": request.path.encode(),
        "root_path": "", "query_string": request.META.get("QUERY_STRING", "").encode("latin-1"),
        "headers": headers, "client": (request.META.get("REMOTE_ADDR", ""), 0),
        "server": (request.get_host().rsplit(":", 1)[0], int(request.get_port() or 80)),
    }


async def _serve(scope, body, database, can_write):
    _request.set((database, can_write))
    sent = {"status": 500, "headers": [], "body": b""}
    delivered = False

    async def receive():
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            sent["status"], sent["headers"] = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            sent["body"] += message.get("body", b"")

    manager = StreamableHTTPSessionManager(app=SERVER, stateless=True, json_response=True,
                                           max_request_body_size=max(len(body), 1))
    async with manager.run():
        await manager.handle_request(scope, receive, send)
    return sent


def serve(request, body, *, database, can_write):
    """(status, [(header, value)], body) of the SDK's answer to this request."""
    sent = async_to_sync(_serve)(_scope(request), body, database, can_write)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in sent["headers"]]
    return sent["status"], headers, sent["body"]
