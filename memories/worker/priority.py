"""The worker's heavy work yields the CPU to web requests; what keeps pages fresh does not.

On this project's two-core machine three kinds of background work took the cores from the two web
workers at equal priority while agents wrote: the freshness process's diff of a 100,000-memory file
(2.5-5 s of CPU after each memorygraph commit), the full analytics run (Louvain, about 40 s of CPU
at 100,000) and jobs (imports, exports, bulk tagging). Graph views' p95 under writes was two to five
times their quiet figure (kb_bench_load). Those run at nice KB_WORKER_NICE, so the kernel runs a
ready web request first and gives them what requests leave; on a machine with spare cores that is
all they need.

Nice 5 by default, not more: where readers keep every core busy a task at nice 5 still gets about
a fifth of a core against nice-0 tasks (CFS weights 335 and 1,024), at nice 10 a tenth; one run at
100,000 memories under such load (load average 5-9) with the diffs at nice 10 finished none of them
in three minutes.

Not lowered: the worker's main process (the analytics steps that bring a write into the ranks
within a second, the sync threads) and the freshness process's beacon thread. At nice 10 for the
whole worker, one run at 10,000 memories under saturating readers gave an analytics lag of 30 s
(target 5 s) and a beacon gone stale, so web workers ran every diff themselves (kb_bench_load,
2026-12-02 00:26, load 4-8). Linux sets a nice value per thread (``setpriority`` on a thread id),
which is what ``lower_this_thread`` relies on; elsewhere it lowers nothing.
"""
import logging
import os
import sys
import threading

from django.conf import settings

log = logging.getLogger("memories.worker")


def lower(target, who=0):
    """Set a nice value of ``target`` on process ``who`` (0: this one) or, on Linux, on thread id
    ``who``, unless it already runs at that or lower priority (an operator's own ``nice``)."""
    try:
        if os.getpriority(os.PRIO_PROCESS, who) < target:
            os.setpriority(os.PRIO_PROCESS, who, target)
    except (OSError, AttributeError) as exc:  # not permitted, or no such call on this platform
        log.warning("kb_worker: could not lower a priority to nice %s: %s", target, exc)


def lower_this_thread():
    """The calling thread alone at KB_WORKER_NICE; threads it starts later inherit it. Linux only:
    elsewhere a thread id is no process id, and ``setpriority`` could name another process."""
    if sys.platform.startswith("linux"):
        lower(settings.KB_WORKER_NICE, threading.get_native_id())
