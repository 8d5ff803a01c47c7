"""kb_bench_diff: how long another writer's commits wait while a freshness diff runs, the diff
in one snapshot of the file (as before) against the diff in pages (store/freshness.py).

On a copy of the synthetic file kb_bench_load uses (<data dir>/bench/memory-n<N>-seed1.db, made
there when missing): a writer process (stdlib sqlite3 with memorygraph's busy timeout, one small
commit every 10 ms) runs while this process diffs the read model against the file without pause,
each way in turn, twice; each round is one line of each way's diff time and CPU and the writer's
commit waits.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from memories.store.canonical import CanonicalStore
from memories.store.readmodel import ReadModel

from .bench_common import kept_file

WRITER = r"""
import json, sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=5)
waits, end = [], time.time() + float(sys.argv[2])
while time.time() < end:
    started = time.perf_counter()
    conn.execute("UPDATE nodes SET updated_at = CURRENT_TIMESTAMP WHERE rowid = 1")
    conn.commit()
    waits.append(time.perf_counter() - started)
    time.sleep(0.01)
waits.sort()
print(json.dumps({"commits": len(waits), "wait_p99_ms": round(1000 * waits[int(0.99 * len(waits))], 1),
                  "wait_max_ms": round(1000 * waits[-1], 1)}))
"""


def run(*, n, seconds, say, line):
    """Two rounds of each way, `seconds` of diffs each; `line` takes each round's line as it ends,
    `say` the progress of making the synthetic file."""
    source = kept_file(n, 1, say)
    work = Path(tempfile.mkdtemp(prefix="diff-", dir=source.parent))
    try:
        shutil.copyfile(source, work / "memory.db")
        store, rm = CanonicalStore(str(work / "memory.db")), ReadModel(work / "readmodel.sqlite3")
        rm.rebuild(store)
        for way in ("snapshot", "pages") * 2:
            line(_round(store, rm, way, seconds, work / "memory.db"))
        store.close()
        rm.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _round(store, rm, way, seconds, path):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(seconds + 2)],
                              stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    runs, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        wall, cpu = time.perf_counter(), time.process_time()
        if way == "snapshot":
            with store.snapshot():
                rm.diff_versions(store)
        else:
            rm.diff_versions(store, paged=True)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    seen = json.loads(writer.communicate(timeout=60)[0])
    walls, cpus = sorted(r[0] for r in runs), sorted(r[1] for r in runs)
    return (f"{way:8}: {len(runs)} diffs, median {walls[len(walls) // 2]:.2f} s "
            f"({cpus[len(cpus) // 2]:.2f} s CPU); the writer's {seen['commits']} commits waited "
            f"p99 {seen['wait_p99_ms']} ms, "
            f"max {seen['wait_max_ms']} ms (load average {os.getloadavg()[0]:.1f})")
