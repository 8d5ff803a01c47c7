"""The freshness process: other writers' commits to local client databases, applied once for all.

``manage.py kb_freshness`` probes every local client database's canonical file twice a second
(``PRAGMA data_version``, then the change stamp: microseconds when nothing moved) and applies
the commits of other writers (the memorygraph server, the bridge, another site) by the
``(id, version)`` diff, keeping the beacon fresh while it does so (memories/store/freshness.py);
web workers meanwhile only probe. ``kb_worker`` starts it as a child process and restarts it
when it dies (``FreshnessProcess``), so ``make run`` and docker-compose need no extra step.

Why a process and not a thread of the worker: the diff at 100,000 memories is about 1 s of
CPU, and libsql holds the GIL while it reads. In a thread beside the analytics computation
(GIL-bound for most of a minute at that size) one diff took many seconds, and its read
snapshot of the file, which holds the memorygraph server's commits back, lasted as long
(measured, README "While agents write"). A process of its own has a GIL of its own. A
subprocess running a management command rather than multiprocessing: it is the same command
an operator can run, stop or watch by itself, it starts from a clean interpreter (no
threads or open SQLite connections inherited from the worker), and the worker's
supervision is a ``poll()``.
"""
import logging
import os
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connections

from memories.models import ClientDatabase
from memories.store import freshness
from memories.store.canonical import StoreError
from memories.store.registry import handle_for

from .priority import lower_this_thread

log = logging.getLogger("memories.worker")

TICK_S = 0.5  # how often the canonical files are probed (other writers' changes show within it)
BEAT_S = 1.0  # how often the beacon is touched while the loop makes progress
STUCK_S = 60.0  # one database's pass taking longer than this: web workers apply commits themselves
LIST_S = 2.0  # how often the list of local client databases is read again
RESTART_S = (0.0, 1.0, 5.0, 10.0)  # waits before restarting a freshness process that died, in turn
STOP_S = 10.0  # how long a stopping freshness process may take before it is killed


def local_clients(slug=None):
    clients = ClientDatabase.objects.filter(archived=False, mode=ClientDatabase.MODE_LOCAL)
    return list(clients.filter(slug=slug) if slug else clients)


def apply_once(client):
    """Apply other writers' commits to one client database's read model. One whose read model
    is not built yet is left to whoever builds it (its first request, rebuild_index): a
    rebuild is long work of its own, and the beacon would go stale meanwhile."""
    handle = handle_for(client)
    try:
        if handle.readmodel.is_built(client.path):
            handle.ensure_fresh(apply=True)
    except StoreError:
        pass  # the site shows the file's error itself


def _beat(stop, progress):
    """The beacon, touched every second while the loop made progress within STUCK_S: a diff
    that takes long under load (several seconds at 100,000 memories on a busy machine) must
    not send every web worker diffing too, but a loop stuck for good must let them take over.
    A thread of this process, which has nothing else to share its GIL with: the diff reads
    in short statements, between which it runs."""
    while not stop.wait(BEAT_S):
        if time.monotonic() - progress[0] < STUCK_S:
            freshness.beacon_touch()


def run(stop, *, slug=None, parent=None):
    """Until ``stop`` is set, or the process ``parent`` (kb_worker) is gone: never outlive it."""
    freshness.ROLE = "freshness"
    clients, listed_at, progress = [], float("-inf"), [time.monotonic()]
    freshness.beacon_touch()
    threading.Thread(target=_beat, args=(stop, progress), name="kb_freshness-beacon", daemon=True).start()
    lower_this_thread()  # the diffs yield to web requests; the beacon, started before, does not
    try:
        while not stop.is_set():
            if parent and os.getppid() != parent:
                log.warning("kb_freshness: kb_worker (pid %s) is gone; stopping", parent)
                return
            if time.monotonic() - listed_at > LIST_S:
                close_old_connections()
                clients, listed_at = local_clients(slug), time.monotonic()
            for client in clients:
                progress[0] = time.monotonic()
                try:
                    apply_once(client)
                except Exception:  # one database's failure must not stop the others'
                    log.exception("%s: applying other writers' commits failed", client.slug)
            progress[0] = time.monotonic()
            stop.wait(TICK_S)
    finally:
        stop.set()  # the beacon's thread too: a stopping process leaves the beacon to go stale
        connections.close_all()


class FreshnessProcess:
    """kb_worker's child running ``manage.py kb_freshness``: started, watched, restarted, stopped."""

    def __init__(self, stdout, slug=None):
        self.stdout, self.slug = stdout, slug
        self.proc, self.restarts, self._restart_at = None, 0, 0.0

    def command(self):
        args = [sys.executable, str(settings.BASE_DIR / "manage.py"), "kb_freshness"]
        return args + ["--parent", str(os.getpid())] + (["--client", self.slug] if self.slug else [])

    def start(self):
        # The worker's own data dir, even where settings were moved after start (tests).
        env = {**os.environ, "KB_DATA_DIR": str(settings.DATA_DIR)}
        self.proc = subprocess.Popen(self.command(), cwd=settings.BASE_DIR, env=env)
        self.stdout.write(f"kb_worker: freshness process {self.proc.pid} applies other writers' commits "
                          f"every {TICK_S} s")

    def check(self):
        """Restart a freshness process that died, after a wait that grows with each restart."""
        if self.proc is None or self.proc.poll() is None:
            return
        now = time.monotonic()
        if not self._restart_at:
            wait = RESTART_S[min(self.restarts, len(RESTART_S) - 1)]
            self.stdout.write(f"kb_worker: freshness process {self.proc.pid} exited ({self.proc.returncode});"
                              f" restarting in {wait:.0f} s (web workers apply commits meanwhile)")
            self._restart_at = now + wait
        if now >= self._restart_at:
            self.restarts += 1
            self._restart_at = 0.0
            self.start()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_S)
