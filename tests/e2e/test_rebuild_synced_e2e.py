"""Issue 11 (and 14's "one rebuild path"): the admin's Rebuild action on a SYNCED client
database queues the worker's rebuild job, never rebuilds in the request; the worker process
rebuilds the replica's read model with the outbox's queued writes laid over it, and what
both hold is searchable afterwards. A real `tursodb --sync-server` primary, `manage.py
kb_worker` and gunicorn, as in production (tests/support/instances.py)."""
import re

import pytest

from tests.support.instances import Instance, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def site(tmp_path, turso_server):
    instance = Instance(tmp_path, "one", turso_server.url, interval="1").setup()
    instance.start()
    yield instance
    instance.stop()


def _search(site, words):
    answer = site.http.get("/c/team/search/", params={"q": words, "format": "json"})
    return {item["id"] for item in answer.json()["items"]} if answer.status_code == 200 else set()


def _admin_rebuild(site):
    """The Django admin's action, as a staff user presses it: its message links to the job."""
    changelist = site.http.get("/admin/memories/clientdatabase/")
    rows = re.findall(r"<tr.*?</tr>", changelist.text, re.S)
    pk = next(re.search(r'name="_selected_action" value="(\d+)"', r).group(1) for r in rows if ">team<" in r)
    response = site._post("/admin/memories/clientdatabase/",
                          {"action": "rebuild_index", "_selected_action": pk})
    assert response.status_code == 302, response.text[:300]
    page = site.http.get(response.headers["Location"]).text
    link = re.search(r'index rebuild queued for the worker as <a href="(/c/team/jobs/(\d+)/)">', page)
    assert link, re.findall(r"<ul class=\"messagelist\">.*?</ul>", page, re.S)
    return link.group(1), int(link.group(2))


def test_the_admin_rebuild_of_a_synced_database_is_a_worker_job_and_its_result_is_searchable(site):
    wait_until(lambda: site.badge()["level"] == "ok", 60, what="the replica indexed by the worker")
    pushed = site.create("Quokka latency under replica rebuild")
    wait_until(lambda: site.badge().get("pending") == 0, 30, what="the first memory pushed")
    site.stop_worker()
    queued = site.create("Wombat outbox write waits for the push")  # in the outbox, not at the primary
    assert site.badge()["pending"] == 1
    url, job_id = _admin_rebuild(site)
    job = site.http.get(f"{url}?format=json").json()
    assert job["kind"] == "rebuild" and job["status"] == "queued" and job["actor"] == "admin"
    assert site.http.get("/sync/team/?format=json").json()["rebuild_requested_at"]
    again = site._post("/sync/team/rebuild/", {})  # the status page's button: the same job, already queued
    assert again.status_code == 409
    site.start_worker()
    def finished():
        job = site.http.get(f"{url}?format=json").json()
        return job["status"] in ("done", "failed") and job

    job = wait_until(finished, 90, step=0.2, what="the rebuild job finished")
    assert job["status"] == "done", job
    assert job["result"]["message"].startswith("Rebuilt: ") and job["started_at"] and job["finished_at"]
    row = site.http.get("/sync/team/?format=json").json()
    assert row["rebuild_requested_at"] is None and row["rebuild_job"]["id"] == job_id
    assert pushed in _search(site, "quokka replica rebuild")
    assert queued in _search(site, "wombat outbox")  # the outbox's write, laid over the rebuilt index
    wait_until(lambda: site.badge().get("pending") == 0, 30, what="the queued write pushed after the rebuild")
    assert {pushed, queued} <= set(site.memories())
    page = site.http.get(url).text
    assert "Index rebuild #" in page and "by admin" in page and "Rebuilt: " in page
