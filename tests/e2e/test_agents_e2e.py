"""End to end: the real memorygraphMCP 0.12.4 server, MEMORY_BACKEND=cloud, against the site under gunicorn.

The agent side is memorygraph's own MCP server as a subprocess over stdio, driven with the `mcp`
SDK's client (call_tool), exactly as Claude Code would run it; the site is gunicorn with 2 workers.
"""
import asyncio
import os
import re
import sys
from pathlib import Path

import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from memories.devdata.loader import load_graph
from tests.support.instances import Instance
from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e

# memorygraph 0.12.4 needs mcp 1.x; the site runs mcp 2.x, so the agent has its own venv (make test-setup).
MEMORYGRAPH = os.environ.get("KB_AGENT_MEMORYGRAPH",
                             str(ROOT / ".venv-agent/bin/memorygraph"))


class LocalSite(Instance):
    """One gunicorn site whose `default` client database is a local memorygraph file (no sync)."""

    def __init__(self, folder, **env):
        load_graph(str(Path(folder) / "team.db"), [], [])
        super().__init__(folder, "site", "", env={"KB_MEMORY_DB": str(Path(folder) / "team.db"), **env})
        self.env.pop("KB_PRIMARY_URL", None)

    def setup(self):
        self.manage("migrate", "--noinput", "-v0")
        self.manage("kb_bootstrap", "--url", self.url)
        return self

    def key(self, role="write", name="agent"):
        return self.manage("kb_api_key", "--client", "default", "--role", role, "--name", name).stdout.strip()

    def api_url(self):
        return f"{self.url}/c/default/api/memorygraph"


@pytest.fixture(autouse=True)
def _agent_installed():
    assert Path(MEMORYGRAPH).exists(), (
        f"{MEMORYGRAPH} is missing: run `make test-setup` (requirements-agent.txt)"
    )


@pytest.fixture
def site(tmp_path):
    site = LocalSite(tmp_path, KB_API_WRITES_PER_MIN="200").setup()
    site.start_web()
    yield site
    site.stop()


def text(result):
    return "\n".join(c.text for c in result.content if getattr(c, "text", None))


async def _agent(site, key, steps, cwd, errlog=sys.stderr, **env):
    params = StdioServerParameters(
        command=MEMORYGRAPH,
        args=[],
        cwd=str(cwd),
        env={
            **os.environ, "MEMORY_BACKEND": "cloud", "MEMORYGRAPH_API_URL": site.api_url(),
            "MEMORYGRAPH_API_KEY": key, "MEMORY_TOOL_PROFILE": "extended", "MEMORYGRAPH_MAX_RETRIES": "0",
            "MEMORY_LOG_LEVEL": "WARNING", **env,
        },
    )
    async with stdio_client(params, errlog=errlog) as (read, write):
        async with ClientSession(read, write) as session:
            await asyncio.wait_for(session.initialize(), 30)
            return await steps(session)


def agent(site, key, steps, cwd, **env):
    return asyncio.run(asyncio.wait_for(_agent(site, key, steps, cwd, **env), 240))


def refused_start(site, key, cwd):
    """memorygraph checks its key at start (GET /health): with a bad one it stops with an
    AuthenticationError; what it printed is returned."""
    log = Path(cwd) / "agent-stderr.log"
    with open(log, "w") as errlog:
        with pytest.raises(BaseException):  # noqa: B017 (the client's error is whatever memorygraph raises)
            agent(
                site, key, lambda session: session.call_tool("get_memory_statistics", {}), cwd, errlog=errlog
            )
    return log.read_text()


def failed(result):
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))


def stored_id(result):
    match = re.search(r"ID: (\S+)", text(result))
    assert match, text(result)
    return match.group(1)


def edit_in_browser(site, memory_id, **fields):
    """What a person does on the edit page: the form as it was loaded, changed, posted."""
    current = site.http.get(f"/c/default/memories/{memory_id}/?format=json").json()["memory"]
    token = site.http.cookies.get("csrftoken")
    response = site.http.post(
        f"/c/default/memories/{memory_id}/edit/",
        data={
            "type": current["type"], "title": current["title"], "content": current["content"],
            "tags": ",".join(current["tags"]), "importance": "0.5", "confidence": "0.8",
            "updated_at": current["edit_version"], "csrfmiddlewaretoken": token, **fields,
        },
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 302, response.text[:500]


def site_search(site, q):
    found = site.http.get("/c/default/search/", params={"q": q, "format": "json"}).json()
    return [item["id"] for item in found["items"]]


PROJECT = "/srv/payments"


def test_the_real_memorygraph_client_writes_and_reads_the_team_graph(site, tmp_path):
    key = site.key()
    ids = {}

    async def write(session):
        for i in range(50):
            kind = "problem" if i % 5 == 0 else "solution"
            result = await session.call_tool(
                "store_memory",
                {
                    "type": kind, "title": f"Agent note {i} zq{i}x",
                    "content": f"Finding number {i} about retries.", "tags": ["agent", f"batch{i % 3}"],
                    "importance": 0.6, "context": {"project_path": PROJECT},
                },
            )
            ids[i] = stored_id(result)
        for i in range(1, 50):
            if i % 5 == 0:
                continue  # problems 0, 5, 10... stay unsolved except 0 below
            result = await session.call_tool(
                "create_relationship",
                {"from_memory_id": ids[i], "to_memory_id": ids[i - 1], "relationship_type": "RELATED_TO"},
            )
            assert not failed(result), text(result)
        result = await session.call_tool(
            "create_relationship",
            {"from_memory_id": ids[1], "to_memory_id": ids[0], "relationship_type": "SOLVES"},
        )
        assert not failed(result), text(result)
        bad = await session.call_tool(
            "create_relationship",
            {"from_memory_id": ids[1], "to_memory_id": ids[1], "relationship_type": "RELATED_TO"},
        )
        return text(bad)

    refused = agent(site, key, write, tmp_path)
    assert "itself" in refused or "rror" in refused
    # At once in the site's search and graph (no sync, no rebuild in between).
    assert site_search(site, "zq17x") == [ids[17]]
    graph = site.http.get("/c/default/graph/", params={"memory": ids[17], "format": "json"}).text
    assert ids[16] in graph and ids[18] in graph
    stats = site.http.get("/c/default/memories/?format=json").json()
    assert stats["total"] == 50

    edit_in_browser(site, ids[7], title="Edited in the browser zebrafish")

    async def read(session):
        recalled = text(await session.call_tool("recall_memories", {"query": "zebrafish"}))
        got = text(await session.call_tool("get_memory", {"memory_id": ids[7]}))
        related = text(await session.call_tool("get_related_memories", {"memory_id": ids[3], "max_depth": 2}))
        recent = text(await session.call_tool("get_recent_activity", {"days": 7, "project": PROJECT}))
        deleted = text(await session.call_tool("delete_memory", {"memory_id": ids[49]}))
        gone = await session.call_tool("get_memory", {"memory_id": ids[49]})
        stats = text(await session.call_tool("get_memory_statistics", {}))
        return recalled, got, related, recent, deleted, text(gone), stats

    recalled, got, related, recent, deleted, gone, stats = agent(site, key, read, tmp_path)
    assert "Edited in the browser zebrafish" in recalled and ids[7] in recalled
    assert "Edited in the browser zebrafish" in got
    # Links run i -> i-1 within runs of five (0-4, 5-9, ...): from 3, depth 1 is 2 and 4, depth 2 adds 1.
    assert "zq2x" in related and "zq4x" in related and "zq1x" in related
    assert "zq0x" not in related and "zq5x" not in related
    unresolved = recent.split("Unresolved Problems")[1].split("Recent Memories")[0]
    assert "(9)" in unresolved and "zq10x" in unresolved and "zq0x" not in unresolved  # 0 is solved by 1
    assert ids[49] in deleted or "deleted" in deleted.lower()
    assert "not found" in gone.lower()
    assert ids[49] not in site_search(site, "zq49x")  # (the typo fallback may offer a neighbour)
    assert "Total Memories: 49" in stats

    printed = refused_start(site, key[:-4] + "abcd", tmp_path)
    assert "AuthenticationError" in printed or "Invalid API key" in printed, printed[-2000:]


def test_over_the_limit_the_agent_is_told_to_wait_and_then_gets_through(tmp_path):
    site = LocalSite(tmp_path, KB_API_WRITES_PER_MIN="3").setup()
    site.start_web()
    try:
        key = site.key()

        async def steps(session):
            memory = {"type": "general", "title": "Limited", "content": "x"}
            answers = [text(await session.call_tool("store_memory", memory)) for _ in range(4)]
            probe = httpx.post(site.api_url() + "/memories", json=memory, headers={"X-API-Key": key})
            assert probe.status_code == 429
            wait = int(probe.headers["Retry-After"])
            assert 1 <= wait <= 60
            await asyncio.sleep(wait + 0.5)
            answers.append(text(await session.call_tool("store_memory", memory)))
            return answers

        answers = agent(site, key, steps, tmp_path)
        assert all("stored successfully" in a for a in answers[:3]), answers
        assert "Rate limit exceeded" in answers[3]
        assert "stored successfully" in answers[4], answers[4]
        assert len(site.http.get("/c/default/memories/?format=json").json()["items"]) == 4
    finally:
        site.stop()
