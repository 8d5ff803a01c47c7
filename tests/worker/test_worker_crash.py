"""Jobs survive their worker: a real `manage.py kb_worker` is killed (SIGKILL) in the middle of an
import, a rebuild and a bulk tagging; the next worker queues them again (or, with no attempts
left, marks them failed with the reason) and the data ends consistent.

The site here is a real one in a temporary KB_DATA_DIR (not the test database), set up and
inspected through `manage.py shell`, with the job rows read straight from its SQLite file."""
import json

import pytest

from memories.devdata.loader import load_graph
from tests.support.sites import N, bulk_tag_job, canonical_rows, graph_file, team_setup

pytestmark = pytest.mark.e2e  # real worker processes

def test_an_import_killed_mid_way_completes_on_the_next_worker_with_no_duplicate(worker_site, tmp_path):
    empty, source = tmp_path / "team.db", tmp_path / "big.db"
    load_graph(str(empty), [], [])
    ids = graph_file(source, N)
    setup, preview = worker_site.upload(empty, source)
    worker_site.start_worker()  # the file is big enough for its preview to be the worker's too
    worker_site.wait_job(preview, lambda j: j["status"] == "done", "previewed")
    worker_site.kill_worker()
    job_id = worker_site.shell(setup + """
runs.import_run(handle=handle, actor=None, job=ImportJob.objects.get())
out = Job.objects.get(kind="import").pk
""")
    assert worker_site.job(job_id)["status"] == "queued"  # the request queued it and ran nothing
    worker_site.start_worker()
    job = worker_site.wait_job(job_id, lambda j: j["progress_done"] > 0 and j["status"] == "running",
                        "written a chunk")
    worker_site.kill_worker()
    killed = worker_site.job(job_id)
    written = canonical_rows(empty, "SELECT COUNT(*) FROM nodes")[0][0]
    assert killed["status"] == "running" and killed["attempts"] == 1, killed  # what a dead worker leaves
    assert 0 < written < N, written
    worker_site.start_worker()  # recovery at start: its worker's pid is dead, so it is queued again
    job = worker_site.wait_job(job_id, lambda j: j["status"] in ("done", "failed"), "import finished")
    assert job["status"] == "done" and job["attempts"] == 2, job
    assert "queued again" in (worker_site.dir / "worker.log").read_text() or job["attempts"] == 2
    rows = canonical_rows(empty, "SELECT id FROM nodes")
    assert len(rows) == N and {r[0] for r in rows} == set(ids)  # every memory once
    state = worker_site.shell("""
from memories.models import ImportJob
record = ImportJob.objects.get()
out = [record.status, record.result]
""")
    assert state[0] == "done", state


def test_a_rebuild_killed_mid_way_is_retried_and_with_no_attempt_left_fails_with_the_reason(worker_site,
                                                                                              tmp_path):
    path = tmp_path / "team.db"
    graph_file(path, N)
    setup = f"""
from memories.sync import services
from memories.models import ClientDatabase, SyncState
from memories.store.registry import handle_for
from memories.worker.models import Job
client, _ = ClientDatabase.objects.get_or_create(slug="team", defaults=dict(name="Team", path={str(path)!r}))
"""
    first = worker_site.shell(setup + "out = services.index_rebuild_request(client=client, actor=None).pk")
    worker_site.start_worker()
    worker_site.wait_job(first, lambda j: j["status"] == "running", "rebuild started")
    worker_site.kill_worker()
    assert worker_site.job(first)["status"] in ("running", "done")
    worker_site.start_worker()
    job = worker_site.wait_job(first, lambda j: j["status"] in ("done", "failed"), "rebuild finished")
    assert job["status"] == "done" and json.loads(job["result"])["memories"] == N, job
    worker_site.stop()
    worker_site.worker = None
    # One attempt only: the next worker marks it failed with the reason, and Retry runs it.
    second = worker_site.shell(setup + """
job = services.index_rebuild_request(client=client, actor=None)
Job.objects.filter(pk=job.pk).update(max_attempts=1)
out = job.pk
""")
    worker_site.start_worker()
    worker_site.wait_job(second, lambda j: j["status"] == "running", "rebuild started")
    worker_site.kill_worker()
    killed = worker_site.job(second)
    if killed["status"] == "running":  # not finished before the kill (it is quick): recovery must fail it
        worker_site.start_worker()
        job = worker_site.wait_job(second, lambda j: j["status"] == "failed", "marked failed")
        assert "the worker stopped while running this job" in job["message"] and "Retry" in job["message"]
        state = worker_site.shell(setup + "s = SyncState.objects.get(client=client); "
                                          "out = [str(s.rebuild_requested_at), s.rebuild_progress]")
        assert state[0] == "None" and state[1].startswith("Rebuild failed"), state  # the page offers it again
        worker_site.shell(setup + "from memories.worker.jobs import job_retry; "
                                  f"job_retry(job=Job.objects.get(pk={second}))")
        job = worker_site.wait_job(second, lambda j: j["status"] == "done", "retried")
        assert job["attempts"] == 1


def test_a_bulk_tagging_killed_mid_way_resumes_and_undo_removes_every_tag_written(worker_site, tmp_path):
    path = tmp_path / "team.db"
    ids = graph_file(path, N)
    setup = team_setup(path)
    job_id = bulk_tag_job(worker_site, setup, tmp_path, ids, "crash-test")
    tagged = "SELECT id FROM nodes WHERE properties LIKE '%\"crash-test\"%'"
    worker_site.start_worker()
    worker_site.wait_job(job_id, lambda j: j["progress_done"] >= 500, "a chunk written")
    worker_site.kill_worker()
    written = {r[0] for r in canonical_rows(path, tagged)}
    recorded = set(worker_site.shell(setup + "out = TagBatch.objects.get().memory_ids"))
    assert worker_site.job(job_id)["status"] == "running"
    assert written and written <= recorded, len(written - recorded)  # undo covers every tag written
    assert len(written) < N
    worker_site.start_worker()
    job = worker_site.wait_job(job_id, lambda j: j["status"] in ("done", "failed"), "bulk tag finished")
    assert job["status"] == "done" and job["attempts"] == 2, job
    assert {r[0] for r in canonical_rows(path, tagged)} == set(ids)
    worker_site.stop()
    worker_site.worker = None
    undo = worker_site.shell(setup + """
batch = TagBatch.objects.get()
out = tagging.bulk_tag_undo(handle=handle, actor=None, batch=batch).pk  # this many: a job too
""")
    worker_site.start_worker()
    job = worker_site.wait_job(undo, lambda j: j["status"] in ("done", "failed"), "undo finished")
    assert job["status"] == "done" and json.loads(job["result"])["untagged"] == N, job
    assert canonical_rows(path, tagged) == []
