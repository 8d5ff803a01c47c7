"""The MCP endpoint (/c/<client>/mcp/): memorygraph's tools over the SDK's streamable HTTP.

views (auth, limits) -> transport (the SDK, stateless JSON) -> tools (memorygraph's tool list
and handlers) -> adapter (its database interface on our services) -> reads (the read model).

Only a request to the endpoint imports the SDK and memorygraph (views.endpoint): together
with pydantic's models they are about 45 MB of every process that imports them, and web
workers that never serve an agent should not carry them.
"""

# The tools that write: what the endpoint counts against a key's write budget (views.writes) and
# what a read key may not call (tools.call_tool).
WRITE_TOOLS = frozenset({"store_memory", "update_memory", "delete_memory", "create_relationship"})
