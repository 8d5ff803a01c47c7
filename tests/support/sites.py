"""A real site in a temporary KB_DATA_DIR (not the test database), driven through `manage.py shell`
and a real `manage.py kb_worker`, with its job rows read straight from its SQLite file."""
import json
import os
import signal
import sqlite3
import subprocess
import time

from memories.devdata.loader import load_graph
from memories.devdata.synthetic import synthetic_graph
from tests.support.paths import PYTHON, ROOT

N = 4000


class Site:
    def __init__(self, tmp_path):
        self.dir = tmp_path / "site"
        self.env = {**os.environ, "KB_DATA_DIR": str(self.dir), "KB_SECRET_KEY": "test-worker-crash",
                    "DJANGO_SETTINGS_MODULE": "kbsite.settings", "KB_JOB_STALE_S": "5"}
        for name in ("KB_PRIMARY_URL", "KB_MEMORY_DB"):
            self.env.pop(name, None)
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True,
            timeout=120,
        )
        self.worker = None

    def shell(self, code):
        """Run code in the site's Django; it sets `out`, printed back as JSON."""
        script = f"import json\nout = None\n{code}\nprint('OUT=' + json.dumps(out))"
        done = subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=self.env, capture_output=True,
            text=True, timeout=180,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.rsplit("OUT=", 1)[1])

    def upload(self, team_file, source):
        """Client database `team` on ``team_file`` and ``source`` uploaded for import: the setup code
        every later shell call starts with, and the id of the upload's preview job."""
        setup = f"""
from django.core.files.uploadedfile import SimpleUploadedFile
from memories import tagging
from memories.interchange.imports import runs
from memories.models import ClientDatabase, ImportJob
from memories.store.registry import handle_for
from memories.worker.models import Job
client, _ = ClientDatabase.objects.get_or_create(
    slug="team", defaults=dict(name="Team", path={str(team_file)!r}))
handle = handle_for(client)
handle.ensure_fresh()
"""
        preview = self.shell(
            setup
            + f"""
runs.import_upload(handle=handle, actor=None,
                       upload=SimpleUploadedFile("big.db", open({str(source)!r}, "rb").read()))
out = Job.objects.get(kind="preview").pk
"""
        )
        return setup, preview

    def job(self, job_id):
        with sqlite3.connect(self.dir / "kbsite.sqlite3", timeout=10) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM worker_job WHERE id = ?", (job_id,)).fetchone()
        return dict(row)

    def start_worker(self):
        log = open(self.dir / "worker.log", "ab")
        self.worker = subprocess.Popen(
            [PYTHON, "manage.py", "kb_worker"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
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


def graph_file(path, n):
    memories, relationships = synthetic_graph(n, seed=5, edges_per_memory=1, tags_per_memory=2)
    load_graph(str(path), memories, relationships)
    return [m["id"] for m in memories]


def team_setup(path):
    """Shell lines giving the site's `team` client database on ``path`` and its fresh handle."""
    return f"""
from memories import tagging
from memories.interchange.imports import runs
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
    return site.shell(
        setup
        + f"""
batch, job = tagging.bulk_tag(handle=handle, actor=None, tag={tag!r},
                               memory_ids=json.load(open({str(ids_file)!r})), selection="q=all")
out = job.pk
"""
    )


def canonical_rows(path, sql):
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()
