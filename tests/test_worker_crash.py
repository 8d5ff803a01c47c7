"""Jobs survive their worker: a real `manage.py kb_worker` is killed (SIGKILL) in the middle of an
import, a rebuild and a bulk tagging; the next worker queues them again (or, with no attempts
left, marks them failed with the reason) and the data ends consistent.

The site here is a real one in a temporary KB_DATA_DIR (not the test database), set up and
inspected through `manage.py shell`, with the job rows read straight from its SQLite file."""
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from memories.devdata.loader import load_graph
from memories.devdata.synthetic import synthetic_graph
from tests.instances import PYTHON, ROOT

pytestmark = pytest.mark.e2e  # real worker processes

N = 4000


class Site:
    def __init__(self, tmp_path):
        self.dir = tmp_path / "site"
        self.env = {**os.environ, "KB_DATA_DIR": str(self.dir), "KB_SECRET_KEY": "test-worker-crash",
                    "DJANGO_SETTINGS_MODULE": "kbsite.settings", "KB_JOB_STALE_S": "5"}
        for name in ("KB_PRIMARY_URL", "KB_MEMORY_DB"):
            self.env.pop(name, None)
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True,
                       timeout=120)
        self.worker = None

    def shell(self, code):
        """Run code in the site's Django; it sets `out`, printed back as JSON."""
        script = f"import json\nout = None\n{code}\nprint('OUT=' + json.dumps(out))"
        done = subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.rsplit("OUT=", 1)[1])

    def upload(self, team_file, source):
        """Client database `team` on ``team_file`` and ``source`` uploaded for import: the setup code
        every later shell call starts with, and the id of the upload's preview job."""
        setup = f"""
from django.core.files.uploadedfile import SimpleUploadedFile
from memories import services
from memories.models import ClientDatabase, ImportJob
from memories.store.registry import handle_for
from memories.worker.models import Job
client, _ = ClientDatabase.objects.get_or_create(slug="team", defaults=dict(name="Team", path={str(team_file)!r}))
handle = handle_for(client)
handle.ensure_fresh()
"""
        preview = self.shell(setup + f"""
services.import_upload(handle=handle, actor=None,
                       upload=SimpleUploadedFile("big.db", open({str(source)!r}, "rb").read()))
out = Job.objects.get(kind="preview").pk
""")
        return setup, preview

    def job(self, job_id):
        with sqlite3.connect(self.dir / "kbsite.sqlite3", timeout=10) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM worker_job WHERE id = ?", (job_id,)).fetchone()
        return dict(row)

    def start_worker(self):
        log = open(self.dir / "worker.log", "ab")
        self.worker = subprocess.Popen([PYTHON, "manage.py", "kb_worker"], cwd=ROOT, env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT)
        return self.worker

    def kill_worker(self):
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=10)
        self.worker = None

    def stop(self):
        if self.worker and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            self.worker.wait(timeout=30)

    def wait_job(self, job_id, until, what, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if until(job):
                return job
            if self.worker is not None and self.worker.poll() is not None:
                raise AssertionError("the worker exited: " + (self.dir / "worker.log").read_text()[-3000:])
            time.sleep(0.05)
        raise AssertionError(f"{what}: {self.job(job_id)}")


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path)
    yield site
    site.stop()


def _graph_file(path, n):
    memories, relationships = synthetic_graph(n, seed=5, edges_per_memory=1, tags_per_memory=2)
    load_graph(str(path), memories, relationships)
    return [m["id"] for m in memories]


def team_setup(path):
    """Shell lines giving the site's `team` client database on ``path`` and its fresh handle."""
    return f"""
from memories import services
from memories.models import ClientDatabase, TagBatch
from memories.store.registry import handle_for
client, _ = ClientDatabase.objects.get_or_create(slug="team", defaults=dict(name="Team", path={str(path)!r}))
handle = handle_for(client)
handle.ensure_fresh()
"""


def bulk_tag_job(site, setup, tmp_path, ids, tag):
    """Queue the bulk tagging of ``ids`` with ``tag`` in the site; returns its job's id."""
    ids_file = tmp_path / "ids.json"
    ids_file.write_text(json.dumps(ids))
    return site.shell(setup + f"""
batch, job = services.bulk_tag(handle=handle, actor=None, tag={tag!r},
                               memory_ids=json.load(open({str(ids_file)!r})), selection="q=all")
out = job.pk
""")


def _canonical(path, sql):
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_an_import_killed_mid_way_completes_on_the_next_worker_with_no_duplicate(site, tmp_path):
    empty, source = tmp_path / "team.db", tmp_path / "big.db"
    load_graph(str(empty), [], [])
    ids = _graph_file(source, N)
    setup, preview = site.upload(empty, source)
    site.start_worker()  # the file is big enough for its preview to be the worker's too
    site.wait_job(preview, lambda j: j["status"] == "done", "previewed")
    site.kill_worker()
    job_id = site.shell(setup + """
services.import_run(handle=handle, actor=None, job=ImportJob.objects.get())
out = Job.objects.get(kind="import").pk
""")
    assert site.job(job_id)["status"] == "queued"  # the request queued it and ran nothing
    site.start_worker()
    job = site.wait_job(job_id, lambda j: j["progress_done"] > 0 and j["status"] == "running",
                        "written a chunk")
    site.kill_worker()
    killed = site.job(job_id)
    written = _canonical(empty, "SELECT COUNT(*) FROM nodes")[0][0]
    assert killed["status"] == "running" and killed["attempts"] == 1, killed  # what a dead worker leaves
    assert 0 < written < N, written
    site.start_worker()  # recovery at start: its worker's pid is dead, so it is queued again
    job = site.wait_job(job_id, lambda j: j["status"] in ("done", "failed"), "import finished")
    assert job["status"] == "done" and job["attempts"] == 2, job
    assert "queued again" in (site.dir / "worker.log").read_text() or job["attempts"] == 2
    rows = _canonical(empty, "SELECT id FROM nodes")
    assert len(rows) == N and {r[0] for r in rows} == set(ids)  # every memory once
    state = site.shell("""
from memories.models import ImportJob
record = ImportJob.objects.get()
out = [record.status, record.result]
""")
    assert state[0] == "done", state


def test_a_rebuild_killed_mid_way_is_retried_and_with_no_attempt_left_fails_with_the_reason(site, tmp_path):
    path = tmp_path / "team.db"
    _graph_file(path, N)
    setup = f"""
from memories.sync import services
from memories.models import ClientDatabase, SyncState
from memories.store.registry import handle_for
from memories.worker.models import Job
client, _ = ClientDatabase.objects.get_or_create(slug="team", defaults=dict(name="Team", path={str(path)!r}))
"""
    first = site.shell(setup + "out = services.index_rebuild_request(client=client, actor=None).pk")
    site.start_worker()
    site.wait_job(first, lambda j: j["status"] == "running", "rebuild started")
    site.kill_worker()
    assert site.job(first)["status"] in ("running", "done")
    site.start_worker()
    job = site.wait_job(first, lambda j: j["status"] in ("done", "failed"), "rebuild finished")
    assert job["status"] == "done" and json.loads(job["result"])["memories"] == N, job
    site.stop()
    site.worker = None
    # One attempt only: the next worker marks it failed with the reason, and Retry runs it.
    second = site.shell(setup + """
job = services.index_rebuild_request(client=client, actor=None)
Job.objects.filter(pk=job.pk).update(max_attempts=1)
out = job.pk
""")
    site.start_worker()
    site.wait_job(second, lambda j: j["status"] == "running", "rebuild started")
    site.kill_worker()
    killed = site.job(second)
    if killed["status"] == "running":  # not finished before the kill (it is quick): recovery must fail it
        site.start_worker()
        job = site.wait_job(second, lambda j: j["status"] == "failed", "marked failed")
        assert "the worker stopped while running this job" in job["message"] and "Retry" in job["message"]
        state = site.shell(setup + "s = SyncState.objects.get(client=client); out = [str(s.rebuild_requested_at), "
                                   "s.rebuild_progress]")
        assert state[0] == "None" and state[1].startswith("Rebuild failed"), state  # the page offers it again
        site.shell(setup + f"from memories.worker.jobs import job_retry; job_retry(job=Job.objects.get(pk={second}))")
        job = site.wait_job(second, lambda j: j["status"] == "done", "retried")
        assert job["attempts"] == 1


def test_a_bulk_tagging_killed_mid_way_resumes_and_undo_removes_every_tag_written(site, tmp_path):
    path = tmp_path / "team.db"
    ids = _graph_file(path, N)
    setup = team_setup(path)
    job_id = bulk_tag_job(site, setup, tmp_path, ids, "crash-test")
    tagged = "SELECT id FROM nodes WHERE properties LIKE '%\"crash-test\"%'"
    site.start_worker()
    site.wait_job(job_id, lambda j: j["progress_done"] >= 500, "a chunk written")
    site.kill_worker()
    written = {r[0] for r in _canonical(path, tagged)}
    recorded = set(site.shell(setup + "out = TagBatch.objects.get().memory_ids"))
    assert site.job(job_id)["status"] == "running"
    assert written and written <= recorded, len(written - recorded)  # undo covers every tag written
    assert len(written) < N
    site.start_worker()
    job = site.wait_job(job_id, lambda j: j["status"] in ("done", "failed"), "bulk tag finished")
    assert job["status"] == "done" and job["attempts"] == 2, job
    assert {r[0] for r in _canonical(path, tagged)} == set(ids)
    site.stop()
    site.worker = None
    undo = site.shell(setup + """
batch = TagBatch.objects.get()
out = services.bulk_tag_undo(handle=handle, actor=None, batch=batch).pk  # this many: a job too
""")
    site.start_worker()
    job = site.wait_job(undo, lambda j: j["status"] in ("done", "failed"), "undo finished")
    assert job["status"] == "done" and json.loads(job["result"])["untagged"] == N, job
    assert _canonical(path, tagged) == []
