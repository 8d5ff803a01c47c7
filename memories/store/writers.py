"""Our processes' write transactions on one canonical file take turns, and say what they committed.

Why: a write through the site claims the read model's stamp over itself (store/freshness.py)
only when it can prove the file changed by its commit alone: ``PRAGMA data_version`` did not
move between its BEGIN IMMEDIATE and the stamp read right after its COMMIT. Two gunicorn
workers (or the worker's jobs) writing the same file used to slip a commit into that gap, so
the claim failed and the next probe diffed the whole file (about 1 s of CPU at 100,000
memories). Taking turns (``flock`` on a lock file) from before BEGIN to after that read closes
the gap for our writers; the memorygraph server takes no turn, and a commit of its in the gap
still spoils the claim, as it must (its commit needs the diff anyway).

Between our commit and our read-model update (a few milliseconds) the file's stamp is ahead
of the read model's, so a process probing then would diff a commit of ours. The lock file
therefore also holds, written under the turn, the commit in flight and the last commits of
ours (``(stamp before, stamp after)``); a probe that finds the gap made of those only waits
for their read-model updates (``pending``). It only ever makes a probe wait, never records a
stamp: an entry lost or torn means a diff, never a change missed, and entries older than
PENDING_S (a writer killed between its commit and its update) are ignored.

``flock`` rather than POSIX ``fcntl`` locks: those are per process and closing any descriptor
of the file drops them (two SQLite libraries in one process miss each other's locks so). The
lock file is ours alone (beside the read model), never the canonical file, and the kernel
drops the turn of a killed process.
"""
import fcntl
import json
import os
import time
from contextlib import contextmanager

WAIT_S = 30.0  # a turn lasts one short transaction, plus the memorygraph server's lock if it holds it
PENDING_S = 10.0  # a commit of ours whose read-model update has not come within this is taken as lost
KEEP = 32  # commits of ours kept in the lock file
SIZE = 4096  # the lock file's state, written whole in one write
_POLL_S = (0.0005, 0.001, 0.002, 0.005)


class WriterLock:
    """One descriptor of a lock file, opened on first use (0600: it lives in KB_DATA_DIR)."""

    def __init__(self, path):
        self.path = str(path)
        self._fd = None

    def _descriptor(self):
        if self._fd is None:
            os.makedirs(os.path.dirname(self.path) or ".", mode=0o700, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    def acquire(self, what):
        fd = self._descriptor()
        deadline = time.monotonic() + WAIT_S
        for attempt in range(1 << 30):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    from .canonical import StoreBusy

                    raise StoreBusy(f"The memory file {what} is busy (our other writers held it "
                                    f"for {WAIT_S:.0f} s); try again.") from None
                time.sleep(_POLL_S[min(attempt, len(_POLL_S) - 1)])
        self._write(time.time())

    def release(self, commit=None):
        """End the turn; ``commit``: (stamp before, stamp after) of the commit it made alone."""
        try:
            self._write(None, commit)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def forget(self, commit):
        """A commit of ours whose read-model update failed (its lock timed out): probes must diff
        it at once rather than wait PENDING_S for an update that will never come. Without the
        turn: this process's threads share one descriptor, whose flock another thread may hold
        (taking and dropping it here would drop theirs); a state another process writes at the
        same time can lose an entry, which means a diff, never a change missed (above)."""
        state = self._read()
        self._write(state.get("inflight"), drop=tuple(commit))

    def _write(self, inflight, commit=None, drop=None):
        now = time.time()
        state = self._read()
        commits = [c for c in state.get("commits", []) if now - c[2] <= PENDING_S
                   and tuple(c[:2]) != drop][-(KEEP - 1):]
        if commit:
            commits.append([commit[0], commit[1], now])
        text = json.dumps({"inflight": inflight, "commits": commits}).encode()
        os.pwrite(self._fd, text.ljust(SIZE), 0)

    def _read(self):
        try:
            state = json.loads(os.pread(self._descriptor(), SIZE, 0) or b"{}")
        except (OSError, ValueError):  # torn by a write in progress, or none yet: nothing known
            return {}
        return state if isinstance(state, dict) else {}

    def pending(self):
        """What our writers have in flight: (a commit in progress, {stamp before: stamp after}
        of recent commits), each only while younger than PENDING_S."""
        state, now = self._read(), time.time()
        inflight = state.get("inflight")
        busy = isinstance(inflight, (int, float)) and now - inflight <= PENDING_S
        try:
            commits = {c[0]: c[1] for c in state.get("commits", []) if now - c[2] <= PENDING_S}
        except (TypeError, IndexError, KeyError):
            commits = {}
        return busy, commits

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@contextmanager
def writer_turn(lock, what):
    """Hold ``lock`` (a WriterLock, or None for no turn-taking) for the block, which may set
    ``turn["commit"]`` to the commit it made alone, for probes to wait for its update."""
    turn = {}
    if lock is None:
        yield turn
        return
    lock.acquire(what)
    try:
        yield turn
    finally:
        lock.release(turn.get("commit"))
