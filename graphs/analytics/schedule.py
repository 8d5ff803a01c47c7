"""When analytics run: the debounce between two full runs, and the pace of the steps, while
writes keep coming.

``analytics_due`` is a pure read of the stored ranks' RowSet, which the runs (``services.py``) ask
before each full run. ``StepPace`` is the worker's own clock of the steps (it lives as long as the
upkeep thread).
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
    return _paced(interval, ranks.seconds, AUTO_FACTOR, AUTO_MIN_S, AUTO_MAX_S)


def _paced(interval, seconds, factor, low, high):
    """``interval`` seconds, or with "auto" ``factor`` times ``seconds`` within [low, high]."""
    if interval != "auto":
        return float(interval)
    return min(high, max(low, factor * seconds))


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


# KB_ANALYTICS_STEP_INTERVAL "auto": after a step that took s seconds, the next one may start
# STEP_FACTOR * s seconds after it started, at most STEP_MAX_S. A step at 10,000 memories takes
# about 0.1 s, so it waits about half a second (kb_bench_load at 10,000: write -> ranks p50 2-3 s,
# max 4 s); at 100,000 one PageRank step over 400,000 edges takes 0.8-2.6 s, and stepping after
# every write took 30 s of the worker's CPU in kb_bench_load's 60 s window (2026-12-02 01:11)
# while the web workers' requests queued behind it. Paced, the steps take at most about
# 1 / STEP_FACTOR of a core, and one step takes in every change made since the last.
STEP_FACTOR, STEP_MAX_S = 5.0, 20.0


class StepPace:
    """When the next step of each read model may start: at once after a quiet spell, else once
    ``interval`` seconds (``"auto"``: see STEP_FACTOR) have passed since the last step began."""

    def __init__(self, interval):
        self.interval = interval
        self.last = {}  # read-model path -> (monotonic start, seconds) of its last step

    def wait_seconds(self, seconds):
        return _paced(self.interval, seconds, STEP_FACTOR, 0.0, STEP_MAX_S)

    def due(self, path, now=None):
        if path not in self.last:
            return True
        started, seconds = self.last[path]
        return (time.monotonic() if now is None else now) - started >= self.wait_seconds(seconds)

    def stepped(self, path, started, seconds):
        """Record a step of ``path`` that began at ``started`` (monotonic) and took ``seconds``."""
        self.last[path] = (started, seconds)
