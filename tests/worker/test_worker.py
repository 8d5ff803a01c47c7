"""Jobs in the test's own process (the worker's code: run_pending, jobs_recover): web requests
only queue work and start no thread; pages show queued / running / done / failed with Retry;
recovery of stale jobs; a job run twice changes nothing the second time."""
import os
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from memories import selectors, tagging
from memories.interchange.imports import runs
from memories.models import SyncState, TagBatch
from memories.sync.services import index_rebuild_request
from memories.worker.jobs import job_enqueue
from memories.worker.models import Job
from memories.worker.recovery import jobs_recover
from memories.worker.runner import execute
from tests.support.jobs import run_jobs

pytestmark = pytest.mark.django_db


def _threads():
    return {t.ident for t in threading.enumerate()}


def test_requests_that_queue_work_start_no_thread(web, admin_web, handle, monkeypatch):
    monkeypatch.setattr(tagging, "BULK_INLINE", 10)
    before = _threads()
    assert admin_web.post("/sync/acme/rebuild/").status_code == 302
    response = web.post("/c/acme/tags/bulk/?type=error", {"tag": "later"})
    assert response.status_code == 302 and "/c/acme/jobs/" in response["Location"]
    assert _threads() == before  # nothing runs in the web process
    assert set(Job.objects.values_list("kind", "status")) == {("rebuild", "queued"), ("bulk_tag", "queued")}
    assert "later" not in {t["tag"] for t in selectors.tag_index(rm=handle.readmodel)["tags"]}
    run_jobs()
    assert set(Job.objects.values_list("status", flat=True)) == {"done"}
    assert "later" in {t["tag"] for t in selectors.tag_index(rm=handle.readmodel)["tags"]}
    assert SyncState.objects.get(client=handle.client).rebuild_requested_at is None


def test_a_graph_view_starts_no_thread(web, handle):
    before = _threads()
    memory_id = handle.readmodel.conn.execute("SELECT from_id FROM edge LIMIT 1").fetchone()[0]
    for url in (
        "/c/acme/graph/", f"/c/acme/graph/?memory={memory_id}&depth=2", "/c/acme/graph/?view=unsolved",
    ):
        assert web.get(url).status_code in (200, 202), url
    assert _threads() == before


def test_the_job_pages_show_each_state_and_retry_runs_it_again(web, admin_web, handle):
    job = index_rebuild_request(client=handle.client, actor=None)
    page = web.get(f"/c/acme/jobs/{job.pk}/")
    assert b"Queued" in page.content and b'hx-trigger="every 1s' in page.content
    Job.objects.filter(pk=job.pk).update(status="running", progress_done=40, progress_total=294, attempts=1)
    fragment = web.get(f"/c/acme/jobs/{job.pk}/", HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content and b'<progress value="40" max="294"' in fragment.content
    Job.objects.filter(pk=job.pk).update(status="failed", message="The worker stopped while running this job")
    page = web.get(f"/c/acme/jobs/{job.pk}/")
    assert b'Failed</span> <span class="job-message">The worker stopped' in page.content
    assert b"retried by the database's admins" in page.content  # an editor has no Retry to press
    assert b">Retry</button>" in admin_web.get(f"/c/acme/jobs/{job.pk}/").content
    assert b"every 1s" not in page.content  # a finished job does not poll
    assert web.post(f"/c/acme/jobs/{job.pk}/retry/").status_code == 403  # a rebuild is an admin's to retry
    assert admin_web.post(f"/c/acme/jobs/{job.pk}/retry/").status_code == 302
    assert Job.objects.get(pk=job.pk).status == "queued"
    run_jobs()
    job.refresh_from_db()
    assert job.status == "done" and job.result["memories"] == 294
    assert admin_web.post(f"/c/acme/jobs/{job.pk}/retry/").status_code == 409  # nothing to retry
    listing = web.get("/c/acme/jobs/?format=json").json()["jobs"]
    assert listing[0]["id"] == job.pk and listing[0]["status"] == "done" and "params" not in listing[0]
    assert b"rebuild" in web.get("/c/acme/jobs/").content


def test_stale_jobs_are_queued_again_and_without_attempts_left_fail_with_the_reason(handle, settings):
    settings.KB_JOB_STALE_S = 60
    old = timezone.now() - timedelta(seconds=120)
    alive = job_enqueue(kind="rebuild", client=handle.client)
    stale = job_enqueue(kind="rebuild", client=handle.client)
    spent = job_enqueue(kind="rebuild", client=handle.client, max_attempts=2)
    Job.objects.filter(pk=alive.pk).update(
        status="running", heartbeat_at=timezone.now(), worker="elsewhere:1", attempts=1
    )
    Job.objects.filter(pk=stale.pk).update(
        status="running", heartbeat_at=old, worker="elsewhere:1", attempts=1
    )
    Job.objects.filter(pk=spent.pk).update(
        status="running", heartbeat_at=old, worker="elsewhere:1", attempts=2
    )
    SyncState.objects.create(
        client=handle.client, rebuild_requested_at=old, rebuild_progress="12 of 294 memories"
    )
    assert jobs_recover() == (1, 1)
    statuses = dict(Job.objects.values_list("pk", "status"))
    assert statuses == {alive.pk: "running", stale.pk: "queued", spent.pk: "failed"}
    spent.refresh_from_db()
    assert spent.message == (
        "Failed after 2 attempt(s): the worker stopped while running this job "
        "(killed or restarted); press Retry."
    )
    assert SyncState.objects.get(client=handle.client).rebuild_requested_at is None  # offered again
    assert jobs_recover() == (0, 0)  # nothing twice


def test_a_job_of_a_dead_process_on_this_host_is_recovered_at_once(handle):
    import socket
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    job = job_enqueue(kind="rebuild", client=handle.client)
    Job.objects.filter(pk=job.pk).update(
        status="running", heartbeat_at=timezone.now(), attempts=1,
        worker=f"{socket.gethostname()}:{gone.stdout.strip()}",
    )
    assert jobs_recover() == (1, 0)


def test_a_second_task_for_a_job_this_process_runs_leaves_it_alone(handle):
    """Recovery may resend a queued job whose task was taken but not yet claimed; the second
    task finding the job running here must not clear this process's mark of it, or the next
    recovery took the running job for a dead worker's and ran it a second time at once (seen:
    an import run twice concurrently, attempts 3)."""
    from memories.worker.jobs import WORKER_ID
    from memories.worker.runner import RUNNING_HERE

    job = job_enqueue(kind="rebuild", client=handle.client)
    Job.objects.filter(pk=job.pk).update(
        status="running", heartbeat_at=timezone.now() - timedelta(hours=1), attempts=1, worker=WORKER_ID
    )
    RUNNING_HERE.add(job.pk)  # as execute() does while the first task runs it
    try:
        assert execute(job.pk) is None  # the duplicate task
        assert job.pk in RUNNING_HERE
        assert jobs_recover() == (0, 0)
        assert Job.objects.get(pk=job.pk).attempts == 1
    finally:
        RUNNING_HERE.discard(job.pk)
    assert jobs_recover() == (1, 0)  # once it is not running here, a job marked ours is recovered


def test_an_import_job_run_twice_changes_nothing_the_second_time(web, handle, tmp_path):
    from memories.devdata.loader import load_graph
    from memories.devdata.synthetic import synthetic_graph
    from memories.models import ImportJob

    source = tmp_path / "more.db"
    memories, relationships = synthetic_graph(40, seed=9)
    load_graph(str(source), memories, relationships)
    with source.open("rb") as f:
        assert web.post("/c/acme/import/", {"file": f}).status_code == 302
    record = ImportJob.objects.get()
    ImportJob.objects.filter(pk=record.pk).update(status="running")
    job = job_enqueue(kind="import", client=handle.client, params={"import": record.pk}, total=record.total)
    run_jobs()
    assert Job.objects.get(pk=job.pk).status == "done"
    versions = dict(handle.readmodel.conn.execute("SELECT id, version FROM memory"))
    count = handle.store.count_nodes()
    # As recovery would: the same job again (its import already done, its upload gone).
    ImportJob.objects.filter(pk=record.pk).update(status="running")
    Job.objects.filter(pk=job.pk).update(status="queued")
    execute(job.pk)
    assert handle.store.count_nodes() == count == 294 + 40
    assert dict(handle.readmodel.conn.execute("SELECT id, version FROM memory")) == versions


def test_a_bulk_tag_job_run_twice_changes_nothing_the_second_time(handle, monkeypatch):
    monkeypatch.setattr(tagging, "BULK_INLINE", 10)
    monkeypatch.setattr(tagging, "CHUNK", 50)
    ids = [r[0] for r in handle.readmodel.conn.execute("SELECT id FROM memory ORDER BY id")]
    batch, job = tagging.bulk_tag(handle=handle, actor=None, tag="twice", memory_ids=ids, selection="")
    run_jobs()
    job.refresh_from_db()
    assert job.status == "done" and job.result["tagged"] == len(ids) and job.progress_done == len(ids)
    versions = dict(handle.readmodel.conn.execute("SELECT id, version FROM memory"))
    Job.objects.filter(pk=job.pk).update(status="queued")
    execute(job.pk)
    assert dict(handle.readmodel.conn.execute("SELECT id, version FROM memory")) == versions
    assert sorted(TagBatch.objects.get(pk=batch.pk).memory_ids) == sorted(ids)


def test_a_big_upload_is_previewed_by_the_worker_and_one_it_cannot_read_is_not_kept(web, handle):
    from memories.models import ImportJob

    junk = b"SQLite format 3\x00" + b"\x17" * (runs.PREVIEW_INLINE_BYTES + 10)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = web.post("/c/acme/import/", {"file": SimpleUploadedFile("broken.db", junk)})
    assert response.status_code == 302  # stored by the request, read by the worker
    record = ImportJob.objects.get()
    assert record.status == "preview" and not record.preview
    run_jobs()
    record.refresh_from_db()
    work = Job.objects.get(kind="preview")
    assert record.status == "discarded" and record.message.startswith("broken.db: ")
    assert work.status == "failed" and work.message == record.message
    from pathlib import Path

    assert not Path(record.path).exists()
    page = web.get(response["Location"])
    assert b"Discarded; nothing was written. broken.db: " in page.content


def test_the_status_page_rebuild_row_shows_the_job_and_retry(admin_web, handle):
    job = index_rebuild_request(client=handle.client, actor=None)
    row = admin_web.get("/sync/acme/", HTTP_HX_REQUEST="true").content
    assert f"Rebuild job {job.pk}</a>: queued".encode() in row and b"every 1s" in row
    Job.objects.filter(pk=job.pk).update(
        status="running", attempts=3, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    jobs_recover()
    row = admin_web.get("/sync/acme/").content
    assert f"Rebuild job {job.pk}</a>: failed: Failed after 3 attempt(s)".encode() in row
    assert f'action="/c/acme/jobs/{job.pk}/retry/"'.encode() in row and b"Rebuild index</button>" in row
    assert admin_web.get("/sync/acme/?format=json").json()["rebuild_job"]["status"] == "failed"


def test_a_big_export_is_written_by_the_worker_and_offered_for_a_day(web, handle, monkeypatch, settings):
    import json
    import os
    import time

    from memories.interchange.exports import views as export_views
    from memories.worker.kinds import exports_folder
    from memories.worker.loop import tidy_exports

    inline = b"".join(web.get("/c/acme/export/?format=json").streaming_content)
    monkeypatch.setattr(export_views, "EXPORT_INLINE", 100)
    page = web.get("/c/acme/export/?format=json")
    assert page.status_code == 200 and b"Prepare the json export" in page.content and not Job.objects.exists()
    response = web.post("/c/acme/export/?format=json")
    job = Job.objects.get(kind="export")
    assert response.status_code == 302 and response["Location"] == f"/c/acme/jobs/{job.pk}/"
    assert web.get(f"/c/acme/jobs/{job.pk}/download/").status_code == 404  # not written yet
    run_jobs()
    job.refresh_from_db()
    assert job.status == "done" and job.result["memories"] == 294
    assert f"/c/acme/jobs/{job.pk}/download/".encode() in web.get(f"/c/acme/jobs/{job.pk}/").content
    download = web.get(f"/c/acme/jobs/{job.pk}/download/")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    written, streamed = json.loads(b"".join(download.streaming_content)), json.loads(inline)
    assert (
        written["memories"] == streamed["memories"] and written["relationships"] == streamed["relationships"]
    )
    assert [p.name for p in exports_folder(handle.client).iterdir()] == [job.result["file"]]  # no part left
    assert tidy_exports() == 0
    path = exports_folder(handle.client) / job.result["file"]
    old = time.time() - 25 * 3600
    os.utime(path, (old, old))
    assert tidy_exports() == 1 and web.get(f"/c/acme/jobs/{job.pk}/download/").status_code == 404


def test_undoing_a_big_bulk_tagging_is_a_job_too(web, handle, monkeypatch):
    monkeypatch.setattr(tagging, "BULK_INLINE", 10)
    web.post("/c/acme/tags/bulk/?type=error", {"tag": "undo-me"})
    run_jobs()
    batch = TagBatch.objects.get()
    assert len(batch.memory_ids) > 10
    response = web.post(f"/c/acme/tags/bulk/{batch.pk}/undo/")
    job = Job.objects.get(kind="bulk_untag")
    assert response.status_code == 302 and response["Location"] == f"/c/acme/jobs/{job.pk}/"
    assert web.post(f"/c/acme/tags/bulk/{batch.pk}/undo/").status_code == 409  # already being undone
    run_jobs()
    assert "undo-me" not in {t["tag"] for t in selectors.tag_index(rm=handle.readmodel)["tags"]}
    assert b"Removed" in web.get(f"/c/acme/jobs/{job.pk}/").content
    assert web.post(f"/c/acme/tags/bulk/{batch.pk}/undo/").status_code == 409


def test_the_pages_that_start_jobs_say_so(web, handle, monkeypatch):
    monkeypatch.setattr(tagging, "BULK_INLINE", 10)
    assert b"tagged by the worker" in web.get("/c/acme/tags/bulk/?type=error").content
    assert b'href="/c/acme/jobs/"' in web.get("/c/acme/import/").content


def test_the_workers_heavy_work_runs_below_the_web_workers_priority(tmp_path):
    """Job threads and the freshness process's diffs run at KB_WORKER_NICE; the worker's main
    thread (analytics steps, sync) and the freshness beacon keep the caller's priority."""
    import subprocess
    import sys
    import time

    from django.conf import settings

    base = os.getpriority(os.PRIO_PROCESS, 0)
    env = {**os.environ, "KB_DATA_DIR": str(tmp_path), "KB_WORKER_NICE": "7", "KB_WORKER_THREADS": "2"}
    manage = str(settings.BASE_DIR / "manage.py")
    subprocess.run([sys.executable, manage, "migrate", "-v0"], env=env, check=True, timeout=120)
    proc = subprocess.Popen(
        [sys.executable, manage, "kb_worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline, children, lowered = time.monotonic() + 60, [], []
        while time.monotonic() < deadline and not (children and len(lowered) == 2):
            time.sleep(0.2)
            children = [pid for pid in _children(proc.pid) if b"kb_freshness" in _cmdline(pid)]
            lowered = [t for t in _tasks(proc.pid) if _nice(t) == max(base, 7)]
        assert children, "no freshness process started"
        assert _nice(proc.pid) == base and len(lowered) == 2  # the two job threads
        fresh = children[0]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _nice(fresh) != max(base, 7):
            time.sleep(0.2)
        assert _nice(fresh) == max(base, 7)  # its main thread, which diffs
        assert any(_nice(t) == base for t in _tasks(fresh) if t != fresh)  # the beacon
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_thread_lowered_leaves_the_others_alone():
    from memories.worker.priority import lower

    base, seen = os.getpriority(os.PRIO_PROCESS, 0), {}

    def work():
        lower(max(base, 0) + 3, threading.get_native_id())
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen["nice"] == base + 3 and os.getpriority(os.PRIO_PROCESS, 0) == base


def _tasks(pid):
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def _nice(task):
    try:
        return os.getpriority(os.PRIO_PROCESS, task)
    except OSError:
        return None


def _children(pid):
    import glob

    found = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        with open(path) as f:
            found += [int(child) for child in f.read().split()]
    return found


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""
