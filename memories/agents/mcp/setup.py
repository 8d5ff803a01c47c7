"""What a developer pastes to give an MCP client the endpoint: the lines the README shows, for a
key page to fill in (the same shape as ``agents.setup.mcp_config`` for the cloud backend)."""
import json
import shlex

from django.urls import reverse


def endpoint_url(request, client):
    """The absolute URL of a client database's MCP endpoint."""
    return request.build_absolute_uri(reverse("mcp_endpoint", args=[client.slug]))


def http_config(*, url, key, name="team-kb"):
    """The `claude mcp add --transport http` line and the JSON form of the same server entry."""
    header = f"Authorization: Bearer {key}"
    cli = " ".join(["claude mcp add --transport http", shlex.quote(name), shlex.quote(url),
                    "--header", shlex.quote(header)])
    entry = {"mcpServers": {name: {"type": "http", "url": url,
                                   "headers": {"Authorization": f"Bearer {key}"}}}}
    return {"cli": cli, "json": json.dumps(entry, indent=2, ensure_ascii=False)}
