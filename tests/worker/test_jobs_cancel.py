"""Issue 11, the jobs an operator runs: Cancel (a queued job never starts; a running import or
bulk tagging stops at its next chunk's end, leaving consistent, searchable data and an undoable
batch), the jobs page in the menu with its counts and polling, one job's page, and the admin's
rebuild as the same worker job as the status page's, its message linking to the job."""
import pytest
from django.utils import timezone

from memories import tagging
from memories.devdata.loader import load_graph
from memories.devdata.synthetic import synthetic_graph
from memories.interchange import sides
from memories.interchange.imports import runs
from memories.models import ImportJob, Membership
from memories.sync.services import index_rebuild_request
from memories.worker import jobs as worker_jobs
from memories.worker.models import Job
from memories.worker.recovery import jobs_recover
from tests.support.jobs import run_jobs

pytestmark = pytest.mark.django_db


HALFWAY = "SELECT id FROM memory WHERE EXISTS (SELECT 1 FROM json_each(memory.tags) WHERE value = 'halfway')"


def _running_with_cancel(job, who="alice"):
    """As if Cancel was pressed after the worker claimed the job: its first chunk's end stops it."""
    Job.objects.filter(pk=job.pk).update(cancel_requested_at=timezone.now(), cancelled_by=who)


def _ids(handle):
    return [r[0] for r in handle.readmodel.conn.execute("SELECT id FROM memory ORDER BY id")]


def test_a_queued_job_cancelled_never_starts_and_can_be_retried(web, handle, monkeypatch):
    monkeypatch.setattr(tagging, "BULK_INLINE", 10)
    batch, job = tagging.bulk_tag(handle=handle, actor=None, tag="never", memory_ids=_ids(handle),
                                   selection="")
    page = web.post(f"/c/acme/jobs/{job.pk}/cancel/", {"from": "list"}, HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and b'id="jobs"' in page.content and b"<html" not in page.content
    job.refresh_from_db()
    assert job.status == "cancelled" and job.cancelled_by == "alice" and "before it started" in job.message
    run_jobs()
    assert Job.objects.get(pk=job.pk).status == "cancelled"
    assert not handle.readmodel.conn.execute("SELECT 1 FROM memory WHERE tags LIKE '%never%'").fetchone()
    assert web.post(f"/c/acme/jobs/{job.pk}/cancel/").status_code == 409  # already cancelled
    assert web.post(f"/c/acme/jobs/{job.pk}/retry/").status_code == 302
    run_jobs()
    job.refresh_from_db()
    assert job.status == "done" and job.cancelled_by == "" and job.result["tagged"] == 294


def test_a_running_bulk_tag_stops_at_a_chunk_end_and_leaves_an_undoable_batch(web, handle, monkeypatch):
    monkeypatch.setattr(tagging, "BULK_INLINE", 10)
    monkeypatch.setattr(tagging, "CHUNK", 50)
    ids = _ids(handle)
    batch, job = tagging.bulk_tag(handle=handle, actor=None, tag="halfway", memory_ids=ids, selection="")
    _running_with_cancel(job)
    run_jobs()
    job.refresh_from_db()
    batch.refresh_from_db()
    tagged = {r[0] for r in handle.readmodel.conn.execute(HALFWAY)}
    assert job.status == "cancelled" and job.finished_at is not None
    assert job.message.startswith("Cancelled by alice: #halfway was added to 50 of 294 memories")
    assert len(tagged) == 50 and set(batch.memory_ids) == tagged  # the batch covers exactly what it did
    page = web.get("/c/acme/tags/").content.decode()
    assert "#halfway on 50 memories" in page and f"/tags/bulk/{batch.pk}/undo/" in page
    assert web.post(f"/c/acme/tags/bulk/{batch.pk}/undo/").status_code in (200, 302)
    run_jobs()
    assert not handle.readmodel.conn.execute(HALFWAY).fetchone()
    detail = web.get(f"/c/acme/jobs/{job.pk}/").content.decode()
    assert "Cancelled by" in detail and "alice" in detail and "Retry" in detail


def test_cancel_of_a_running_job_asks_it_to_stop_and_a_rebuild_cannot_stop_half_way(web, admin_web, handle):
    work = worker_jobs.job_enqueue(kind="bulk_tag", client=handle.client, params={}, total=10)
    rebuild = index_rebuild_request(client=handle.client, actor=None)
    Job.objects.filter(pk__in=[work.pk, rebuild.pk]).update(
        status="running", attempts=1, worker="elsewhere:1", heartbeat_at=timezone.now())
    page = web.get(f"/c/acme/jobs/{work.pk}/").content.decode()
    assert "Cancel…" in page and "the tag stays on the memories tagged so far" in page
    assert web.post(f"/c/acme/jobs/{work.pk}/cancel/").status_code == 302
    work.refresh_from_db()
    assert work.status == "running" and work.cancel_requested_at
    assert "stopping after the chunk" in work.message
    page = web.get(f"/c/acme/jobs/{work.pk}/").content.decode()
    assert "Stopping" in page and "Cancel…" not in page
    assert web.post(f"/c/acme/jobs/{rebuild.pk}/cancel/").status_code == 403  # a rebuild is an admin's
    answer = admin_web.post(f"/c/acme/jobs/{rebuild.pk}/cancel/")
    assert answer.status_code == 409 and b"cannot stop half-way" in answer.content
    assert "Cancel…" not in admin_web.get(f"/c/acme/jobs/{rebuild.pk}/").content.decode()
    # Its worker died before it reached a chunk's end: recovery cancels it, never runs it again.
    Job.objects.filter(pk=work.pk).update(heartbeat_at=timezone.now() - timezone.timedelta(hours=1))
    jobs_recover()
    work.refresh_from_db()
    assert work.status == "cancelled" and "Cancelled by alice" in work.message


def _upload(web, tmp_path, count):
    source = tmp_path / "more.db"
    memories, relationships = synthetic_graph(count, seed=5)
    load_graph(str(source), memories, relationships)
    with source.open("rb") as f:
        assert web.post("/c/acme/import/", {"file": f}).status_code == 302
    record = ImportJob.objects.get()
    assert web.post(f"/c/acme/import/{record.pk}/run/").status_code == 302
    return record, Job.objects.get(kind="import"), memories


@pytest.mark.parametrize("bulk", [False, True], ids=["row by row", "bulk copy"])
def test_a_running_import_stops_at_a_chunk_end_with_consistent_searchable_data(
        web, handle, tmp_path, monkeypatch, bulk):
    """A bulk copy into a local client rebuilds its read model only at the end: cancelled before,
    the read model is put in step with what was written (one diff)."""
    monkeypatch.setattr(runs, "IMPORT_INLINE_ROWS", 10)
    monkeypatch.setattr(sides, "CHUNK", 25)
    monkeypatch.setattr(sides, "BULK_CHUNK", 25)
    monkeypatch.setattr(sides, "BULK_ROWS", 50 if bulk else 10**6)
    monkeypatch.setattr(worker_jobs, "CANCEL_CHECK_S", 0)
    edges_before = handle.readmodel.conn.execute("SELECT count(*) FROM edge").fetchone()[0]
    record, job, memories = _upload(web, tmp_path, 60)
    assert f'href="/c/acme/jobs/{job.pk}/"' in web.get(f"/c/acme/import/{record.pk}/").content.decode()
    _running_with_cancel(job)
    run_jobs()
    job.refresh_from_db()
    record.refresh_from_db()
    rm, store = handle.readmodel, handle.store
    added = rm.conn.execute("SELECT count(*) FROM memory").fetchone()[0] - 294
    edges = rm.conn.execute("SELECT count(*) FROM edge").fetchone()[0] - edges_before
    assert job.status == "cancelled"
    assert job.message.startswith("Cancelled by alice: the import stopped part-way")
    assert f"{added:+,} memories and {edges:+,} relationships" in job.message and "searchable" in job.message
    assert record.status == "failed" and record.message == job.message  # its page: Run it again
    assert store.count_nodes() == 294 + added and 0 < added
    if not bulk:  # a bulk copy's writer process may have committed the chunks it had before it stopped
        assert added == 25 and edges == 0
    # Consistent: the read model holds exactly the file's memories, at the file's versions.
    assert dict(rm.conn.execute("SELECT id, version FROM memory")) == {
        i: v for i, _, v in store.iter_nodes([r[0] for r in rm.conn.execute("SELECT id FROM memory")])}
    present = "SELECT 1 FROM memory WHERE id = ?"
    imported = [m for m in memories if rm.conn.execute(present, (m["id"],)).fetchone()]
    assert len(imported) == added
    found = web.get("/c/acme/search/", {"q": imported[0]["title"], "format": "json"}).json()
    assert imported[0]["id"] in [r["id"] for r in found["items"]]
    page = web.get(f"/c/acme/import/{record.pk}/").content.decode()
    assert "Run it again" in page and "stopped part-way" in page and "Discard the upload" in page
    assert web.post(f"/c/acme/import/{record.pk}/run/").status_code == 302  # the rest
    run_jobs()
    record.refresh_from_db()
    assert record.status == "done" and store.count_nodes() == 294 + 60
    assert rm.conn.execute("SELECT count(*) FROM memory").fetchone()[0] == 294 + 60


def test_the_jobs_page_is_in_the_menu_for_editors_and_counts_the_states(web, client_db, handle,
                                                                        django_user_model):
    from django.test import Client

    assert '/c/acme/jobs/"' in web.get("/c/acme/memories/").content.decode()
    reader = django_user_model.objects.create_user("reader", password="x")
    Membership.objects.create(user=reader, client=client_db, role=Membership.VIEWER)
    viewer = Client()
    viewer.force_login(reader)
    assert '/c/acme/jobs/"' not in viewer.get("/c/acme/memories/").content.decode()
    assert web.get("/c/acme/jobs/").content.decode().count("No jobs yet") == 1
    done = worker_jobs.job_enqueue(kind="rebuild", client=handle.client)
    run_jobs()
    idle = web.get("/c/acme/jobs/").content.decode()
    assert "1 done" in idle and "every 1s" not in idle  # nothing active: no polling
    queued = worker_jobs.job_enqueue(kind="rebuild", client=handle.client)
    listing = web.get("/c/acme/jobs/").content.decode()
    assert "1 queued · 1 done" in listing and 'hx-trigger="every 1s" data-job-poll' in listing
    assert f"Cancel job {queued.pk}" not in listing  # a rebuild is an admin's: an editor has no button
    assert "Index rebuild jobs are cancelled and retried by the database's admins" in listing
    mine = worker_jobs.job_enqueue(kind="bulk_tag", client=handle.client, params={})
    listing = web.get("/c/acme/jobs/").content.decode()
    assert f"Cancel job {mine.pk}" in listing and f"Cancel job {done.pk}" not in listing
    data = web.get("/c/acme/jobs/?format=json").json()
    assert data["counts"] == {"queued": 2, "done": 1} and data["jobs"][0]["can_cancel"] is True


def test_a_job_page_shows_kind_who_times_and_its_result(web, handle, user):
    job = worker_jobs.job_enqueue(kind="rebuild", client=handle.client, actor=user)
    run_jobs()
    page = web.get(f"/c/acme/jobs/{job.pk}/").content.decode()
    for text in ("Index rebuild #", "(rebuild)", "by alice", "Started", "Finished", "Indexed 294 memories",
                 "1 of 3"):
        assert text in page, text


def test_the_admin_rebuild_is_the_status_pages_job_and_its_message_links_to_it(client, client_db, admin_web):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "", "pw")
    client.force_login(root)
    response = client.post("/admin/memories/clientdatabase/",
                           {"action": "rebuild_index", "_selected_action": [client_db.pk]}, follow=True)
    job = Job.objects.get(client=client_db, kind="rebuild")
    assert f'<a href="/c/acme/jobs/{job.pk}/">job {job.pk}</a>' in response.content.decode()
    assert job.status == "queued" and job.actor == root  # queued, never rebuilt in the request
    again = admin_web.post("/sync/acme/rebuild/")
    assert again.status_code == 409 and Job.objects.filter(kind="rebuild").count() == 1  # the same one
    run_jobs()
    assert admin_web.post("/sync/acme/rebuild/").status_code == 302
    assert list(Job.objects.filter(kind="rebuild").values_list("kind", flat=True)) == ["rebuild", "rebuild"]


def test_a_cancelled_rebuild_retried_is_asked_for_again(admin_web, handle):
    from memories.models import SyncState

    job = index_rebuild_request(client=handle.client, actor=None)
    assert admin_web.post(f"/c/acme/jobs/{job.pk}/cancel/").status_code == 302
    state = SyncState.objects.get(client=handle.client)
    assert state.rebuild_requested_at is None and state.rebuild_progress.startswith("Cancelled by boss")
    assert "cancelled: Cancelled by boss" in admin_web.get("/sync/acme/").content.decode()
    assert admin_web.post(f"/c/acme/jobs/{job.pk}/retry/").status_code == 302
    run_jobs()
    job.refresh_from_db()
    state.refresh_from_db()
    assert job.status == "done" and state.rebuild_progress.startswith("Rebuilt: 294 memories")


@pytest.mark.parametrize("fmt", ["json", "sqlite"])
def test_a_running_export_cancelled_keeps_no_file_and_can_be_retried(web, handle, monkeypatch, fmt):
    from memories.interchange.exports import views as export_views
    from memories.worker.kinds import exports_folder

    monkeypatch.setattr(export_views, "EXPORT_INLINE", 100)
    assert web.post(f"/c/acme/export/?format={fmt}").status_code == 302
    job = Job.objects.get(kind="export")
    _running_with_cancel(job, who="bob")
    page = web.get(f"/c/acme/jobs/{job.pk}/").content.decode()
    assert "keeps no file" not in page  # already asked to stop: no Cancel button, "Stopping"
    run_jobs()
    job.refresh_from_db()
    assert job.status == "cancelled" and job.message == "Cancelled by bob: no file was kept."
    assert not any(exports_folder(handle.client).iterdir())  # neither the file nor its .part
    assert web.get(f"/c/acme/jobs/{job.pk}/download/").status_code == 404
    assert web.post(f"/c/acme/jobs/{job.pk}/retry/").status_code == 302
    run_jobs()
    job.refresh_from_db()
    assert job.status == "done" and web.get(f"/c/acme/jobs/{job.pk}/download/").status_code == 200


def test_a_running_export_offers_cancel_to_its_reader(web, handle, monkeypatch):
    from memories.interchange.exports import views as export_views

    monkeypatch.setattr(export_views, "EXPORT_INLINE", 100)
    web.post("/c/acme/export/?format=csv")
    job = Job.objects.get(kind="export")
    Job.objects.filter(pk=job.pk).update(status="running", attempts=1, worker="elsewhere:1",
                                         heartbeat_at=timezone.now())
    page = web.get(f"/c/acme/jobs/{job.pk}/").content.decode()
    assert "Cancel…" in page and "keeps no file" in page
    assert web.post(f"/c/acme/jobs/{job.pk}/cancel/").status_code == 302
    assert Job.objects.get(pk=job.pk).cancel_requested_at is not None
