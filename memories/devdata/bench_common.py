"""What the benchmarks share: percentiles, clocks, the synthetic file they keep, and timing a
batch of requests through the views three ways (kb_bench's cold view, bare call, hot view)."""
import math
import os
import statistics
import time

from django.conf import settings
from django.core.management.base import CommandError

from memories import selectors
from memories.store import cache

from .loader import load_graph
from .synthetic import synthetic_graph

USERNAME = "kb-bench"


def stats(values):
    """p50, p95, max and count of a list of milliseconds."""
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[math.ceil(0.95 * len(ordered)) - 1], 2),
        "max": round(ordered[-1], 2),
        "count": len(ordered),
    }


def timed(call, rm=None):
    """Milliseconds call() takes; with rm, after emptying the result cache (but the counts)."""
    if rm is not None:
        cache.clear()
        selectors.graph_counts(rm=rm)
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def clocked(into, call):
    """call(), appending the milliseconds it took to the list into."""
    started = time.perf_counter()
    value = call()
    into.append((time.perf_counter() - started) * 1000)
    return value


def loadavg():
    return [round(v, 2) for v in os.getloadavg()]


def get(web, url):
    """GET url with the test client `web`; anything but a 200 stops the benchmark."""
    response = web.get(url)
    if response.status_code != 200:
        raise CommandError(f"GET {url} answered {response.status_code}; the benchmark needs 200s.")


def time_all(web, rm, calls, raw, kinds=None):
    """Time each (url, arg) call through the view and bare, then through the view again
    with the result cache (memories.cache) warm.

    The first two are "cold": the result cache is emptied before each call, except for
    the site-wide counts every page shares, so they show what a new query costs. SQLite's
    own page cache is warm for all three: each distinct call runs once untimed first.
    """
    distinct = dict(calls)
    for url in distinct:
        get(web, url)
    view_ms = [timed(lambda: get(web, url), rm) for url, _ in calls]
    raw_ms = [timed(lambda: raw(arg), rm) for _, arg in calls]
    for url in distinct:
        get(web, url)
    hot_ms = [timed(lambda: get(web, url)) for url, _ in calls]
    result = {"view": stats(view_ms), "raw": stats(raw_ms), "hot": stats(hot_ms)}
    if kinds:
        result["by_kind"] = {
            kind: {key: stats([v for k, v in zip(kinds, values) if k == kind])
                   for key, values in (("view", view_ms), ("raw", raw_ms), ("hot", hot_ms))}
            | {"example": next(url for k, (url, _) in zip(kinds, calls) if k == kind)}
            for kind in dict.fromkeys(kinds)
        }
    return result


def kept_file(n, seed, say):
    """The synthetic file kb_bench --keep keeps, <data dir>/bench/memory-n<n>-seed<seed>.db,
    made and kept there when missing."""
    bench_dir = settings.DATA_DIR / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    path = bench_dir / f"memory-n{n}-seed{seed}.db"
    if not path.exists():
        say(f"Generating {n:,} synthetic memories into {path} (kept for later runs) ...")
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        load_graph(str(partial), *synthetic_graph(n, seed=seed))
        partial.rename(path)
    return path
