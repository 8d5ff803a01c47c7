"""What a developer pastes to point an agent at a client database: the MCP configuration lines."""
import json
import shlex

from django.urls import reverse


def api_url(request, client):
    """The absolute base URL memorygraph's cloud backend is given (MEMORYGRAPH_API_URL)."""
    return request.build_absolute_uri(reverse("cloud_health", args=[client.slug])).removesuffix("/health")


def mcp_config(*, url, key, name="memorygraph"):
    """The `claude mcp add` line and the JSON form of the same server entry."""
    env = {"MEMORY_BACKEND": "cloud", "MEMORYGRAPH_API_URL": url, "MEMORYGRAPH_API_KEY": key}
    cli = " ".join(["claude mcp add", name, *(f"-e {k}={shlex.quote(v)}" for k, v in env.items()),
                    "-- memorygraph"])
    entry = {"mcpServers": {name: {"command": "memorygraph", "args": [], "env": env}}}
    return {"cli": cli, "json": json.dumps(entry, indent=2, ensure_ascii=False)}
