"""The MCP endpoint (/c/<client>/mcp/): memorygraph's tools over the SDK's streamable HTTP.

views (auth, limits) -> transport (the SDK, stateless JSON) -> tools (memorygraph's tool list
and handlers) -> adapter (its database interface on our services) -> reads (the read model).
"""
