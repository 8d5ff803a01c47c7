"""Staff manage client databases in the Django admin: create (new file or existing), archive,
restore, rebuild."""

import sqlite3

import pytest

from memories.models import ClientDatabase
from memories.worker.models import Job
from tests.support.jobs import run_jobs

pytestmark = pytest.mark.django_db


def test_add_creates_a_new_memorygraph_file(staff, settings):
    response = staff.post(
        "/admin/memories/clientdatabase/add/",
        {
            "slug": "globex", "name": "Globex", "path": "", "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    path = settings.DATA_DIR / "clients" / "globex.db"
    tables = {
        r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"nodes", "relationships"} <= tables
    assert ClientDatabase.objects.get(slug="globex").path == str(path)
    assert staff.get("/c/globex/memories/?format=json").json()["total"] == 0


def test_add_refuses_a_file_of_another_schema(staff, tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE memories (id TEXT PRIMARY KEY, title TEXT)")
    conn.commit()
    response = staff.post(
        "/admin/memories/clientdatabase/add/",
        {
            "slug": "initech", "name": "Initech", "path": str(other), "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200 and b"memories" in response.content
    assert not ClientDatabase.objects.filter(slug="initech").exists()


def test_archive_restore_and_rebuild_actions(staff, client_db):
    changelist = "/admin/memories/clientdatabase/"
    staff.post(changelist, {"action": "archive", "_selected_action": [client_db.pk]})
    assert staff.get("/c/acme/memories/").status_code == 404
    staff.post(changelist, {"action": "restore", "_selected_action": [client_db.pk]})
    assert staff.get("/c/acme/memories/").status_code == 200
    response = staff.post(
        changelist, {"action": "rebuild_index", "_selected_action": [client_db.pk]}, follow=True
    )
    assert b"index rebuild queued for the worker" in response.content  # never rebuilt in the web process
    run_jobs()
    job = Job.objects.get(client=client_db, kind="rebuild")
    assert job.status == "done" and job.result["memories"] == 294
