"""Cancel with a real `manage.py kb_worker` (issue 11): a bulk tagging and an import cancelled
while the worker runs them stop at a chunk's end; the tagging's batch covers exactly what it
wrote (and Undo removes it), the import's read model matches its file and running it again
completes it. The site and its helpers are test_worker_crash's (a temporary KB_DATA_DIR)."""
import sqlite3
import time

import pytest

from memories.devdata.loader import load_graph
from tests.support.sites import N, bulk_tag_job, canonical_rows, graph_file, team_setup

pytestmark = pytest.mark.e2e  # real worker processes

TAGGED = "SELECT id FROM nodes WHERE properties LIKE '%\"cancel-test\"%'"


def _cancel(worker_site, job_id):
    """What Cancel on a running job writes (worker.jobs.job_cancel; its page's path is tested in
    test_jobs_cancel): straight into the site's database, so it lands while the job runs."""
    with sqlite3.connect(worker_site.dir / "kbsite.sqlite3", timeout=10) as conn:
        conn.execute("UPDATE worker_job SET cancel_requested_at = datetime('now'), cancelled_by = 'ops' "
                     "WHERE id = ? AND status = 'running'", (job_id,))
    return time.monotonic()


def test_a_bulk_tagging_cancelled_while_the_worker_runs_it_leaves_an_undoable_batch(worker_site, tmp_path):
    path = tmp_path / "team.db"
    ids = graph_file(path, N)
    setup = team_setup(path)
    job_id = bulk_tag_job(worker_site, setup, tmp_path, ids, "cancel-test")
    worker_site.start_worker()
    worker_site.wait_job(job_id, lambda j: j["progress_done"] >= 500, "a chunk written")
    pressed = _cancel(worker_site, job_id)
    job = worker_site.wait_job(job_id, lambda j: j["status"] in ("cancelled", "done", "failed"), "stopped")
    stopped_s = time.monotonic() - pressed
    tagged = {r[0] for r in canonical_rows(path, TAGGED)}
    recorded = set(worker_site.shell(setup + "out = TagBatch.objects.get().memory_ids"))
    assert job["status"] == "cancelled", job
    assert 0 < len(tagged) < N and tagged == recorded  # exactly what it wrote, all of it undoable
    assert f"was added to {len(tagged):,} of {N:,} memories" in job["message"], job["message"]
    print(f"bulk tagging of {N} memories: stopped {stopped_s:.2f} s after Cancel, at {len(tagged)} tagged")
    undo = worker_site.shell(setup + """
job = tagging.bulk_tag_undo(handle=handle, actor=None, batch=TagBatch.objects.get())
out = job and job.pk  # up to 1,000 memories it is undone at once, else by the worker
""")
    if undo:
        worker_site.wait_job(undo, lambda j: j["status"] == "done", "undone")
    assert canonical_rows(path, TAGGED) == []


def test_an_import_cancelled_while_the_worker_runs_it_is_consistent_and_completes_run_again(worker_site,
                                                                                             tmp_path):
    empty, source = tmp_path / "team.db", tmp_path / "big.db"
    load_graph(str(empty), [], [])
    ids = graph_file(source, N)
    setup, preview = worker_site.upload(empty, source)
    worker_site.start_worker()
    worker_site.wait_job(preview, lambda j: j["status"] == "done", "previewed")
    job_id = worker_site.shell(setup + """
runs.import_run(handle=handle, actor=None, job=ImportJob.objects.get())
out = Job.objects.get(kind="import").pk
""")
    worker_site.wait_job(job_id, lambda j: j["progress_done"] > 0 and j["status"] == "running",
                         "written a chunk")
    pressed = _cancel(worker_site, job_id)
    job = worker_site.wait_job(job_id, lambda j: j["status"] in ("cancelled", "done", "failed"), "stopped")
    stopped_s = time.monotonic() - pressed
    assert job["status"] == "cancelled", job
    written = canonical_rows(empty, "SELECT COUNT(*) FROM nodes")[0][0]
    assert 0 < written < N, written
    assert f"{written:+,} memories" in job["message"], job["message"]
    print(f"import of {N} memories: stopped {stopped_s:.2f} s after Cancel, at {written} written")
    state = worker_site.shell(setup + """
record = ImportJob.objects.get()
rm = handle.readmodel.conn
out = [record.status, rm.execute("SELECT count(*) FROM memory").fetchone()[0], handle.store.count_nodes()]
""")
    assert state == ["failed", written, written], state  # its read model is its file's
    again = worker_site.shell(setup + """
runs.import_run(handle=handle, actor=None, job=ImportJob.objects.get())
out = Job.objects.filter(kind="import").order_by("-pk").first().pk
""")
    job = worker_site.wait_job(again, lambda j: j["status"] in ("done", "failed"), "imported the rest")
    assert job["status"] == "done", job
    assert {r[0] for r in canonical_rows(empty, "SELECT id FROM nodes")} == set(ids)
