"""Progress callbacks for long work, shared by the web, the sync worker and commands."""
import time


def throttled(report, every_s):
    """A progress(done, total) that passes on at most one call per every_s seconds, and the last."""
    last = [float("-inf")]

    def progress(done, total):
        now = time.monotonic()
        if now - last[0] >= every_s or done == total:
            last[0] = now
            report(done, total)

    return progress
