"""memorygraph 0.12.4's own tools, as its server defines and handles them.

The tool list is memorygraph's (``ClaudeMemoryServer._collect_all_tools``: names,
descriptions, inputSchema), cut to the tools its cloud backend can serve: the core profile
and the extended tools whose handlers only call methods ``CloudMemoryDatabase`` has
(``search_relationships_by_context`` is left out: its handler needs a method the cloud
backend lacks). The handlers are memorygraph's own (``tools.registry``), run against our
``KbMemoryDatabase``, so prompts written for memorygraph get the same texts.
"""
import contextvars
import logging

from . import upstream  # noqa: F401  (first: memorygraph's import-time logging)

# isort: split
from mcp.types import CallToolResult, TextContent
from memorygraph.config import TOOL_PROFILES
from memorygraph.server import ClaudeMemoryServer
from memorygraph.tools.registry import get_handler
from memorygraph.utils import project_detection

from ..errors import KeyError403
from . import WRITE_TOOLS

# The SDK logs the start and end of every stateless exchange at INFO: one request, three lines.
logging.getLogger("mcp.server").setLevel(logging.WARNING)

CLOUD_TOOLS = (*TOOL_PROFILES["core"], "get_memory_statistics", "contextual_search")
READ_TOOLS = frozenset(CLOUD_TOOLS) - WRITE_TOOLS

# Built without a server instance: the method only assembles Tool objects.
ALL_TOOLS = [tool for tool in ClaudeMemoryServer._collect_all_tools(None) if tool.name in CLOUD_TOOLS]


def tools_for(*, can_write):
    """The tools a key may call: every cloud tool for a write key, the read tools for a read key."""
    return [tool for tool in ALL_TOOLS if can_write or tool.name in READ_TOOLS]


# get_recent_activity without a project guesses one from the server's working directory, which
# here is the site's own checkout, not the agent's project: inside our calls it guesses nothing.
_serving = contextvars.ContextVar("serving_mcp", default=False)
_detect = project_detection.detect_project_context


def _detect_unless_serving(*args, **kwargs):
    return None if _serving.get() else _detect(*args, **kwargs)


project_detection.detect_project_context = _detect_unless_serving


def error(text):
    return CallToolResult(content=[TextContent(type="text", text=text)], isError=True)


async def call_tool(database, name, arguments, *, can_write):
    """memorygraph's handler for ``name`` run against database; refusals are tool errors."""
    if name not in CLOUD_TOOLS:
        return error(f"Unknown tool: {name}")
    if name in WRITE_TOOLS and not can_write:
        return error(f"Error: {KeyError403().message}")
    if not isinstance(arguments, dict):
        return error("Validation error: the arguments must be a JSON object.")
    token = _serving.set(True)
    try:
        return await get_handler(name)(database, dict(arguments))
    finally:
        _serving.reset(token)
