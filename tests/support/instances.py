"""Site instances as they run in production, without Docker: the commands of docker-compose.yml.

Each instance has its own KB_DATA_DIR (Django database, read models, replica) and runs
`manage.py migrate`, `manage.py kb_bootstrap` (which registers the synced client database
from KB_PRIMARY_URL), `manage.py kb_worker` and gunicorn, as the compose services do.
"""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.paths import PYTHON, ROOT
from tests.support.turso_server import free_port, wait_for_port

GUNICORN = str(Path(PYTHON).parent / "gunicorn")


def edit_form(memory, version, **fields):
    """The edit form's fields for a memory as its JSON twin gives it, at ``version``, with
    ``fields`` changed."""
    return {"type": memory["type"], "title": memory["title"], "content": memory["content"],
            "tags": ",".join(memory["tags"]), "importance": "0.5", "confidence": "0.8",
            "updated_at": version, **fields}


class Instance:
    def __init__(self, folder, name, primary_url, *, interval="1", env=None):
        self.name = name
        self.dir = Path(folder) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.env = {**os.environ, "KB_DATA_DIR": str(self.dir / "data"), "KB_PRIMARY_URL": primary_url,
                    "KB_PRIMARY_SLUG": "team", "KB_PRIMARY_INTERVAL": interval, "KB_PAGE_SIZE": "500",
                    "KB_SECRET_KEY": f"test-{name}", "DJANGO_SETTINGS_MODULE": "kbsite.settings"}
        self.env.pop("KB_SYNC_FAULT", None)
        self.env.update(env or {})
        self.worker = self.web = None
        self.http = None

    def manage(self, *args, check=True):
        return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=check,
                              capture_output=True, text=True, timeout=120)

    def setup(self):
        self.manage("migrate", "--noinput", "-v0")
        result = self.manage("kb_bootstrap", "--url", self.url)
        assert "Synced client database 'team'" in result.stdout, result.stdout + result.stderr
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _log(self, what):
        return open(self.dir / f"{what}.log", "ab")

    def start_worker(self, **env):
        with self._log("worker") as log:
            self.worker = subprocess.Popen(
                [PYTHON, "manage.py", "kb_worker"], cwd=ROOT, env={**self.env, **env}, stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self.worker

    def stop_worker(self, sig=signal.SIGTERM):
        if self.worker and self.worker.poll() is None:
            self.worker.send_signal(sig)
            self.worker.wait(timeout=30)
        self.worker = None

    def start_web(self):
        with self._log("web") as log:
            self.web = subprocess.Popen(
                [
                    GUNICORN, "kbsite.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
                    "--threads", "4",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, proc=self.web)
        self.login()
        return self

    def start(self):
        self.start_worker()
        return self.start_web()

    def stop(self):
        self.stop_worker()
        if self.web and self.web.poll() is None:
            self.web.terminate()
            self.web.wait(timeout=30)
        if self.http:
            self.http.close()

    def login(self):
        password = (self.dir / "data" / "admin-password.txt").read_text().strip()
        self.http = httpx.Client(base_url=self.url, timeout=10, follow_redirects=False)
        page = self.http.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.http.post(
            "/accounts/login/", data={"username": "admin", "password": password, "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302, response.text[:300]

    def _post(self, url, data):
        token = self.http.cookies.get("csrftoken")
        return self.http.post(
            url, data={**data, "csrfmiddlewaretoken": token}, headers={"X-CSRFToken": token}
        )

    def create(self, title, **fields):
        response = self._post(
            "/c/team/memories/new/",
            {
                "type": "solution", "title": title, "content": f"{title}: body", "tags": "e2e",
                "importance": "0.5", "confidence": "0.8", **fields,
            },
        )
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"].rstrip("/").split("/")[-1]

    def edit(self, memory_id, **fields):
        current = self.http.get(f"/c/team/memories/{memory_id}/?format=json").json()["memory"]
        response = self._post(f"/c/team/memories/{memory_id}/edit/",
                              edit_form(current, current["edit_version"], **fields))
        assert response.status_code == 302, response.text[:500]

    def relate(self, from_id, to_id, rel_type="SOLVES"):
        response = self._post(
            f"/c/team/memories/{from_id}/relationships/new/",
            {
                "other": to_id, "direction": "out", "rel_type": rel_type, "strength": "0.8",
                "confidence": "0.9",
            },
        )
        assert response.status_code == 302, response.text[:500]

    def memories(self):
        """{id: updated_at} of every memory, through the JSON twin of the list."""
        data = self.http.get("/c/team/memories/?format=json").json()
        assert data["total"] == len(data["items"]), "raise KB_PAGE_SIZE for this test"
        return {item["id"]: item["updated_at"] for item in data["items"]}

    def badge(self):
        """The freshness badge, or level None while the page cannot give one yet (the worker's
        first run has not indexed the replica: a 503 with the reason)."""
        answer = self.http.get("/c/team/freshness/?format=json").json()
        return {"level": None, **answer}


def wait_until(check, timeout, step=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s (last: {value!r})")
        time.sleep(step)


def cut_down(path, data, *, nodes=(), edges=(), strength=None):
    """Write an exported memorygraph file (bytes) to path, cut down to the given rows (the edges'
    strength changed when given): what another team member's own file would bring back."""
    import sqlite3

    path.write_bytes(data)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(f"DELETE FROM nodes WHERE id NOT IN ({','.join('?' * len(nodes))})", list(nodes))
        conn.execute(f"DELETE FROM relationships WHERE id NOT IN ({','.join('?' * len(edges))})", list(edges))
        if strength is not None:
            conn.execute(
                "UPDATE relationships SET properties = json_set(properties, '$.strength', ?)", (strength,)
            )
    conn.close()
    return path
