"""The worker's processes yield the CPU to web requests.

Everything the worker does (diffs of other writers' commits, analytics steps and full runs, imports,
exports, syncs) is long work nobody waits on within a request, while a page is. On this project's
two-core machine the freshness process's diff of a 100,000-memory file (2.5-5 s of CPU after each
memorygraph commit) and the analytics took the cores from the two web workers at equal priority:
graph views' p95 under writes was two to five times their quiet figure (kb_bench_load). A higher
nice value lets the kernel run a ready web request first and gives the worker the rest, which on a
machine with spare cores is all it needs. The freshness process and the analytics child inherit it.
"""
import logging
import os

from django.conf import settings

log = logging.getLogger("memories.worker")


def yield_to_web():
    """Set this process's nice value to KB_WORKER_NICE, unless it already runs at that or lower
    priority (a second call, a child started by kb_worker, an operator's own ``nice``)."""
    target = settings.KB_WORKER_NICE
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < target:
            os.setpriority(os.PRIO_PROCESS, 0, target)
    except (OSError, AttributeError) as exc:  # not permitted, or no such call on this platform
        log.warning("kb_worker: could not lower its priority to nice %s: %s", target, exc)
