"""When the full run is due: the debounce between two full runs while writes keep coming.

Pure reads of the stored ranks' RowSet, apart from the runs themselves (``services.py``), which
ask ``analytics_due`` before each full run.
"""
import time
from dataclasses import replace

from .selectors import sets

# KB_ANALYTICS_INTERVAL "auto": wait AUTO_FACTOR times as long as the last computation took, so
# the worker computes at most about half the time while writes keep coming, and a small graph's
# ranks follow within seconds (measured: kb_bench_load); within these bounds.
AUTO_FACTOR, AUTO_MIN_S, AUTO_MAX_S = 2.0, 1.0, 30.0


def debounce_seconds(interval, ranks):
    """Seconds between the starts of two computations while writes keep coming."""
    if interval != "auto":
        return float(interval)
    return min(AUTO_MAX_S, max(AUTO_MIN_S, AUTO_FACTOR * ranks.seconds))


def analytics_due(*, rm, interval, now=None):
    """Whether the full run is due: the read model changed since the last full run, and that
    run started at least ``interval`` seconds ago (``"auto"``: see debounce_seconds). So while
    writes keep coming the full run comes at most once per interval (the steps follow each
    change meanwhile), and the first change after a quiet spell is computed at once."""
    ranks = sets(rm).get("ranks")
    if ranks is None:
        return True
    full = last_full(ranks)
    if full.generation == rm.changed_at():
        return False
    return (time.time() if now is None else now) - full.started_at >= debounce_seconds(interval, full)


def last_full(ranks):
    """The ranks' RowSet as the last full run stored it (steps since then keep its record)."""
    full = ranks.detail.get("full")
    if not full:
        return ranks
    return replace(ranks, generation=full["generation"], started_at=full["started_at"],
                   seconds=full["seconds"])
