"""APIs for agents: API keys and their limits, the memorygraph cloud REST API (cloud_api/),
the MCP endpoint (mcp/)."""
