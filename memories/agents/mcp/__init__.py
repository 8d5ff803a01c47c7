"""The MCP endpoint (/c/<client>/mcp/): memorygraph's tools over the SDK's streamable HTTP.

views (auth, limits) -> transport (the SDK, stateless JSON) -> tools (memorygraph's tool list
and handlers) -> adapter (its database interface on our services) -> reads (the read model).
"""
import logging

# Importing memorygraph (its package imports its server) calls logging.basicConfig(level=INFO),
# which would send every library's INFO lines to the site's log. It is imported here first, with
# a handler on the root logger meanwhile, which makes that call a no-op.
_guard = logging.NullHandler()
logging.root.addHandler(_guard)
try:
    import memorygraph  # noqa: F401
finally:
    logging.root.removeHandler(_guard)
