"""What a web worker holds in memory (issue 11: web workers' RSS): heavy libraries are imported
only by the requests that use them, checked in a fresh process as gunicorn starts one."""
import json
import os
import subprocess
import sys

from tests.support.paths import ROOT

# A fresh process: the WSGI application and its URLs (as a gunicorn worker loads them), then the
# views of a browsing session, then the MCP endpoint; prints the heavy modules loaded after each.
SESSION = """
import json, os, sys
from kbsite.wsgi import application
from django.core.management import call_command
from django.urls import get_resolver
from django.test import Client
from django.contrib.auth import get_user_model
from memories.models import Membership
from memories.store.registry import ensure_default_client, handle_for
HEAVY = ("mcp", "memorygraph", "pydantic", "starlette")
def loaded():
    return sorted(m for m in HEAVY if m in sys.modules)
get_resolver().url_patterns
seen = {"start": loaded()}
call_command("migrate", verbosity=0, interactive=False)
client = ensure_default_client()
user = get_user_model().objects.create_user("bob", password="pw-bob-123")
Membership.objects.create(user=user, client=client, role=Membership.ADMIN)
handle = handle_for(client)
handle.ensure_fresh()
memory = handle.readmodel.conn.execute("SELECT id FROM memory ORDER BY id LIMIT 1").fetchone()[0]
web = Client(HTTP_HOST="127.0.0.1")
web.force_login(user)
statuses = [web.get(path).status_code for path in (
    "/c/default/memories/", f"/c/default/memories/{memory}/", "/c/default/search/?q=deploy",
    "/c/default/tags/", f"/c/default/graph/?memory={memory}&depth=2", "/c/default/graph/?view=overview",
    "/c/default/graph/?view=unsolved", "/c/default/keys/")]
seen["browsing"], seen["statuses"] = loaded(), statuses
seen["mcp"] = web.post("/c/default/mcp/", "{}", content_type="application/json",
                       HTTP_AUTHORIZATION="Bearer mg_nope").status_code
seen["after_mcp_401"] = loaded()
print(json.dumps(seen))
"""


def test_a_web_process_loads_the_mcp_sdk_and_memorygraph_only_for_the_mcp_endpoint(tmp_path, memory_file):
    env = {**os.environ, "KB_DATA_DIR": str(tmp_path / "data"), "DJANGO_SETTINGS_MODULE": "kbsite.settings",
           "KB_SECRET_KEY": "x" * 50, "KB_MEMORY_DB": str(memory_file)}
    out = subprocess.run([sys.executable, "-c", SESSION], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["start"] == [] and seen["browsing"] == [], seen
    # 202: the whole-graph views say "computing" until the worker's first analytics run.
    assert all(status in (200, 202) for status in seen["statuses"]), seen["statuses"]
    # A request without a valid key is turned away before the SDK is needed.
    assert seen["mcp"] == 401 and seen["after_mcp_401"] == [], seen


def test_read_model_connections_use_the_configured_page_cache(tmp_path, settings):
    from memories.store.readmodel import connect

    settings.KB_READMODEL_CACHE_KB = 300
    conn = connect(str(tmp_path / "rm.sqlite3"))
    try:
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == -300
    finally:
        conn.close()
