"""The memorygraph cloud REST API at /c/<client>/api/memorygraph/, as CloudRESTAdapter calls it."""
import json
import sqlite3

import pytest
from django.urls import reverse

from memories.agents import keys
from memories.models import AuditEntry, ClientDatabase

pytestmark = pytest.mark.django_db

BASE = "/c/team/api/memorygraph"


@pytest.fixture
def write_key(team, user):
    return keys.api_key_create(client=team.client, actor=user, name="agent", role="write")[1]


@pytest.fixture
def read_key(team, user):
    return keys.api_key_create(client=team.client, actor=user, name="reader", role="read")[1]


def call(client, method, path, key, body=None, raw=None, **params):
    kwargs = {"HTTP_X_API_KEY": key} if key else {}
    data = raw if raw is not None else (json.dumps(body) if body is not None else "")
    if method == "GET":
        return client.get(BASE + path, params, **kwargs)
    return client.generic(method, BASE + path, data, content_type="application/json", **kwargs)


def store(client, key, **fields):
    body = {"type": "solution", "title": "Fix the leak", "content": "Restart workers after 100 tasks.", **fields}
    response = call(client, "POST", "/memories", key, body)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def rows(team):
    conn = sqlite3.connect(team.client.path)
    n = conn.execute("SELECT (SELECT count(*) FROM nodes), (SELECT count(*) FROM relationships)").fetchone()
    conn.close()
    return n


def test_health(client, read_key):
    response = call(client, "GET", "/health", read_key)
    assert response.status_code == 200 and response.json()["status"] == "healthy"


def test_store_get_update_delete(client, team, write_key, user):
    memory_id = store(client, write_key, id="agent-uuid-1", tags=["Celery"], importance=0.9,
                      context={"project_path": "/srv/app", "languages": ["python"]})
    assert memory_id == "agent-uuid-1"
    got = call(client, "GET", f"/memories/{memory_id}", write_key).json()
    assert got["title"] == "Fix the leak" and got["tags"] == ["celery"] and got["importance"] == 0.9
    assert got["context"] == {"project_path": "/srv/app", "languages": ["python"]}
    assert got["created_at"].endswith("+00:00")
    updated = call(client, "PUT", f"/memories/{memory_id}", write_key, {"title": "Fix the leak for good"})
    assert updated.status_code == 200 and updated.json()["title"] == "Fix the leak for good"
    entry = AuditEntry.objects.filter(object_id=memory_id, action="memory.update").get()
    assert entry.actor == user and entry.via_key == "agent"
    assert call(client, "DELETE", f"/memories/{memory_id}", write_key).status_code == 204
    assert call(client, "GET", f"/memories/{memory_id}", write_key).status_code == 404
    assert rows(team) == (0, 0)
