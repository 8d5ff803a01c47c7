"""The full runs' child process never outlives the worker that started it.

A full run takes most of a minute at 100,000 memories (graphs/analytics/background.py). A worker
stopping meanwhile (SIGTERM: a deploy, Ctrl-C of `make run`) ends its child at once instead of
waiting the run out; a worker killed (SIGKILL) leaves a child that ends itself within seconds.
The "run" here is a child sleeping, through the same pool and initializer as a real one.
"""
import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from graphs.analytics.background import FullRuns
from tests.support.instances import wait_until
from tests.support.paths import PYTHON, ROOT

pytestmark = pytest.mark.e2e  # real processes


def _gone(pid):
    """The process has ended (a zombie waiting for its parent counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _started(pid):
    """The child's initializer has run: its watch thread is its second thread."""
    try:
        return len(os.listdir(f"/proc/{pid}/task")) >= 2
    except OSError:
        return False


def test_closing_ends_a_run_in_progress_at_once():
    fulls = FullRuns()
    future = fulls._child(time.sleep, 120)
    (child,) = fulls.pool._processes.values()
    wait_until(lambda: _started(child.pid), 60, what="the child to start")
    started = time.monotonic()
    fulls.close()
    child.join(10)
    assert child.exitcode is not None, "the child still runs after close()"
    assert time.monotonic() - started < 10
    assert fulls.pool is None and not fulls.running
    wait_until(future.done, 10, what="the dropped run's future to end")


def test_a_child_ends_itself_when_its_worker_is_killed(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbsite.settings")
        if __name__ == "__main__":  # the spawned child imports this file as its main module
            import django
            django.setup()
            from graphs.analytics.background import FullRuns
            fulls = FullRuns()
            fulls._child(time.sleep, 120)
            (child,) = fulls.pool._processes.values()
            print(child.pid, flush=True)
            time.sleep(120)
    """))
    worker = subprocess.Popen([PYTHON, str(script)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "KB_DATA_DIR": str(tmp_path / "data")})
    try:
        child = int(worker.stdout.readline())
        wait_until(lambda: _started(child), 60, what="the child to start")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        wait_until(lambda: _gone(child), 10, what="the orphaned child to end")
    finally:
        worker.kill()
        worker.wait()
        worker.stdout.close()
