"""The full run's algorithms (PageRank from the uniform start, Louvain) in a child process.

Louvain is pure Python and takes most of a minute at 100,000 memories: in the worker's own
process it would hold the GIL, and the analytics thread's steps, so that a write made meanwhile
waited for it. A child process (one at a time, a new one per run, so its memory goes back to the
system when it ends) reads its own snapshot of the read model and returns only the ranks and
communities; the analytics thread keeps stepping meanwhile and adopts them when they come
(``services.analytics_adopt``). Nothing here needs Django: the child imports only this room.
"""
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from django.conf import settings

from memories.store.readmodel import connect
from memories.worker.priority import lower

from .ranks import ranks_full
from .state import load

log = logging.getLogger("memories.graphs")


def full_compute(path, nice=0):
    """In the child: the full run's ranks and communities of the read model at ``path``, and the
    snapshot they were computed from (its log position, generation and fingerprint). It runs at
    nice ``nice`` (KB_WORKER_NICE, passed in: the child has no settings)."""
    lower(nice)
    clock = time.perf_counter()
    conn = connect(path)
    try:
        state = load(conn)
    finally:
        conn.close()
    fingerprint = state.fingerprint()
    ranks_full(state)
    return {"seq": state.seq, "generation": state.generation, "built_at": state.built_at,
            "fingerprint": fingerprint, "pagerank": state.pagerank, "community": state.community,
            "memories": len(state.nodes), "edges": len(state.edges),
            "seconds": round(time.perf_counter() - clock, 2)}


def _end_with(parent):
    """The child's initializer: end it once the worker that started it is gone. A worker killed
    (SIGKILL, the OOM killer) left its child behind: after kb_bench_load stopped its worker (SIGKILL
    after 15 s of SIGTERM), one sat idle for good, holding 480 MB at 100,000 memories."""
    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="end with the worker", daemon=True).start()


class FullRuns:
    """The analytics thread's child processes: at most one full run at a time, for any database."""

    def __init__(self):
        self.pool = None
        self.running = {}  # read-model path -> (future, wall-clock start)

    def busy(self):
        return bool(self.running)

    def submit(self, path, started):
        # The child yields the CPU to web requests (memories/worker/priority.py): 40 s of CPU at 100,000.
        self.running[path] = (self._child(full_compute, path, settings.KB_WORKER_NICE), started)

    def _child(self, function, *args):
        if self.pool is None:
            # spawn, not fork: the worker has threads (sync, jobs), and a forked child would inherit
            # their locks in whatever state they were.
            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                            max_tasks_per_child=1, initializer=_end_with,
                                            initargs=(os.getpid(),))
        return self.pool.submit(function, *args)

    def finished(self, path):
        """Whether ``path``'s run is done and waits to be collected."""
        return path in self.running and self.running[path][0].done()

    def collect(self, path):
        """``(result, started)`` of ``path``'s finished run (result None if it failed), else None."""
        if path not in self.running or not self.running[path][0].done():
            return None
        future, started = self.running.pop(path)
        try:
            return future.result(), started
        except Exception:  # the next due run tries again (a new pool: a killed child breaks it)
            log.exception("the full analytics run of %s failed", path)
            self.close()
            return None, started

    def close(self):
        """Stop at once: a run in progress is dropped (the next start computes again). Without
        ending its child, the worker's exit waited for the run (the executor joins it at exit),
        about a minute at 100,000 memories, and one stopped by SIGKILL meanwhile left it behind."""
        if self.pool is not None:
            # ProcessPoolExecutor has no public way to end its children before Python 3.14.
            for process in list((getattr(self.pool, "_processes", None) or {}).values()):
                process.terminate()
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
            self.running.clear()
