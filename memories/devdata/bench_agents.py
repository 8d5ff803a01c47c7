"""kb_bench_agents: agents writing the team graph through the memorygraph cloud API, against
gunicorn (2 workers).

Builds (or reuses, with --keep) a synthetic memorygraph file of --n memories, prepares a site for it
as `make run` does (its own KB_DATA_DIR: migrate, kb_bootstrap, one write key per agent with
kb_api_key), starts gunicorn with 2 workers, and times, in one run:

- raw: commits of one memory row each to the same file, with the same driver and nothing else
  (no HTTP, no validation, no read model, no audit): the floor our write path stands on;
- store: --agents concurrent agents each POSTing --ops memories (/memories), as memorygraph does;
- recall: the same agents each POSTing --ops recall questions (/search/recall);
- paced: the same agents again, each storing and then recalling --paced-ops times at one request
  every --paced-every seconds (8 agents at 0.5 s: 16 requests a second, far above agents that
  write every few seconds). The two phases above run closed-loop: each agent sends its next
  request the moment its last is answered, so they measure capacity (writes/s), and their
  latencies are mostly queueing (Little's law: 8 agents at 145 stores/s wait 55 ms on average).
  This phase is the latency an agent sees while the team's other agents keep writing.

Beside the latencies it reports the commits the stores took (the file's change counter: fewer than
the stores when concurrent writes were committed together) and the web workers' CPU seconds per
phase, the figure to compare while other work loads the machine. At the end every row is counted:
memories = the file's start + raw + stored, nothing lost or doubled.
"""
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import libsql_experimental as libsql
from django.conf import settings

from memories.format import new_id
from memories.properties import memory_properties
from memories.store import sql

from .loader import load_graph
from .synthetic import synthetic_graph
from .synthetic_text import DOMAIN_WORDS

ROOT = Path(settings.BASE_DIR)


def _ms(values):
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 1), "max": round(ordered[-1], 1), "count": len(ordered),
            "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1)}


def _port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*, n, agents, ops, raw, workers, keep, say, paced_ops=40, paced_every=0.5):
    """The report of one run, in a folder of its own that is removed afterwards; `say` takes
    progress lines."""
    folder = Path(tempfile.mkdtemp(prefix="kb-bench-agents-"))
    try:
        return _run(folder, n, agents, ops, raw, keep, workers, say, (paced_ops, paced_every))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def dumps(data):
    return json.dumps(data, indent=2)


def _graph(folder, n, keep, say):
    kept = settings.DATA_DIR / "bench" / f"memory-n{n}-seed1.db"
    path = folder / "team.db"
    if kept.exists():
        shutil.copy(kept, path)
        return path
    started = time.perf_counter()
    memories, relationships = synthetic_graph(n, seed=1)
    load_graph(str(path), memories, relationships)
    say(f"Wrote {n:,} memories and {len(relationships):,} relationships in "
        f"{time.perf_counter() - started:.0f} s")
    if keep:
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, kept)
    return path


def _run(folder, n, agents, ops, raw, keep, workers, say, paced):
    path = _graph(folder, n, keep, say)
    port = _port()
    env = {**os.environ, "KB_DATA_DIR": str(folder / "data"), "KB_MEMORY_DB": str(path),
           "KB_SECRET_KEY": "bench", "KB_API_WRITES_PER_MIN": "1000000",
           "KB_API_READS_PER_MIN": "1000000",
           "DJANGO_SETTINGS_MODULE": "kbsite.settings"}
    env.pop("KB_PRIMARY_URL", None)

    def manage(*argv):
        return subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=env, check=True,
                              capture_output=True, text=True, timeout=1800).stdout

    started = time.perf_counter()
    manage("migrate", "--noinput", "-v0")
    manage("kb_bootstrap", "--url", f"http://127.0.0.1:{port}")  # builds the read model of the file
    say(f"Site ready (read model of {n:,} memories built) in {time.perf_counter() - started:.0f} s")
    keys = [manage("kb_api_key", "--client", "default", "--role", "write", "--name", f"agent {i}").strip()
            for i in range(agents)]
    before = _count(path)
    raw_rate = _raw_commits(path, raw, say)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    log = open(folder / "web.log", "wb")
    web = subprocess.Popen([gunicorn, "kbsite.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                            "--threads", "4"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/c/default/api/memorygraph"
    try:
        _wait(base, keys[0])
        index = folder / "data" / "index" / "default.sqlite3"
        cpu, commits, diffs = _cpu_seconds(web.pid), _commits(path), _diffs(index)
        store = _agents(base, keys, ops, _store)
        store_cpu, store_commits = _cpu_seconds(web.pid) - cpu, _commits(path) - commits
        cpu = _cpu_seconds(web.pid)
        recall = _agents(base, keys, ops, _recall)
        recall_cpu = _cpu_seconds(web.pid) - cpu
        paced_store = _agents(base, keys, paced[0], _store, every=paced[1], first=ops)
        paced_recall = _agents(base, keys, paced[0], _recall, every=paced[1], first=ops)
        diffs = _diffs(index) - diffs
    finally:
        web.terminate()
        web.wait(timeout=30)
        log.close()
    after = _count(path)
    closed_ids = store.pop("ids")
    stored_ids = closed_ids + paced_store.pop("ids")
    report = {
        "memories_at_start": before, "agents": agents, "ops_per_agent": ops,
        "gunicorn": f"{workers} workers x 4 threads",
        "raw_commits_per_s": round(raw_rate, 1),
        "store_ms": store["latency"], "store_writes_per_s": store["per_s"],
        "store_errors": store["errors"],
        "recall_ms": recall["latency"], "recall_per_s": recall["per_s"],
        "recall_errors": recall["errors"],
        "writes_vs_raw": round(store["per_s"] / raw_rate, 2),
        # Each agent one request every paced_every seconds: the latency with the machine not saturated.
        "paced": {"ops_per_agent": paced[0], "every_s": paced[1],
                  "requests_per_s": round(agents / paced[1], 1),
                  "store_ms": paced_store["latency"], "store_errors": paced_store["errors"],
                  "recall_ms": paced_recall["latency"], "recall_errors": paced_recall["errors"]},
        # Commits to the file while the agents stored: fewer than stores when writes were grouped.
        "store_commits": store_commits,
        "stores_per_commit": round(len(closed_ids) / max(store_commits, 1), 2),
        # Read-model diffs (a worker applying commits it did not claim, store/freshness.py):
        # ideally none, as every commit here is the site's own.
        "readmodel_diffs": diffs,
        # CPU seconds of the web workers per phase: comparable across runs on a busy machine.
        "web_cpu_s": {"store": round(store_cpu, 1), "recall": round(recall_cpu, 1)},
        "web_cpu_ms_per_request": {"store": round(1000 * store_cpu / max(ops * agents, 1), 1),
                                   "recall": round(1000 * recall_cpu / max(ops * agents, 1), 1)},
        "memories_at_end": after, "expected_at_end": before + raw + len(stored_ids),
        "stored_distinct": len(set(stored_ids)),
    }
    # A store that timed out may still have been written: then the count is higher, and said so.
    report["nothing_lost_or_doubled"] = (after == report["expected_at_end"]
                                         and report["stored_distinct"] == len(stored_ids))
    say(dumps(report))
    return report


def _raw_commits(path, count, say):
    """One memory row per commit, with libsql-experimental on the same file: the driver's floor."""
    conn = libsql.connect(str(path))
    conn.execute("PRAGMA busy_timeout=5000")
    started = time.perf_counter()
    for i in range(count):
        props = memory_properties({"id": new_id(), "type": "general", "title": f"raw commit {i}",
                                   "content": "timed raw insert", "tags": ["bench"]})
        conn.execute(sql.NODE_INSERT, (props["id"], json.dumps(props)))
        conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    say(f"Raw: {count} commits in {elapsed:.2f} s ({count / elapsed:.0f}/s)")
    return count / elapsed


def _agents(base, keys, ops, action, *, every=None, first=0):
    """Each agent (a thread of its own) does ``ops`` actions, numbered from ``first``: closed-loop,
    or with ``every`` one every that many seconds (the agents' starts spread over one interval;
    an agent behind its schedule sends at once)."""
    results = [None] * len(keys)
    began = time.perf_counter()

    def work(i):
        rng = random.Random(i + 1000 * first)
        with httpx.Client(base_url=base, headers={"X-API-Key": keys[i]}, timeout=30) as client:
            times, errors, ids = [], 0, []
            for op in range(first, first + ops):
                if every is not None:
                    due = began + every * ((op - first) + i / len(keys))
                    time.sleep(max(0.0, due - time.perf_counter()))
                t = time.perf_counter()
                try:
                    ok, value = action(client, rng, i, op)
                except httpx.HTTPError:
                    ok, value = False, None  # a timeout counts as an error, its time as a latency
                times.append((time.perf_counter() - t) * 1000)
                if ok:
                    ids.append(value)
                else:
                    errors += 1
            results[i] = (times, errors, ids)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(keys))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    times = [t for r in results for t in r[0]]
    return {"latency": _ms(times), "per_s": round(len(times) / elapsed, 1),
            "errors": sum(r[1] for r in results), "ids": [x for r in results for x in r[2]]}


def _store(client, rng, agent, op):
    words = rng.sample(DOMAIN_WORDS, 4)
    response = client.post("/memories", json={
        "id": new_id(), "type": rng.choice(["solution", "problem", "general"]),
        "title": f"Agent {agent} note {op}: {' '.join(words[:2])}", "content": " ".join(words) * 5,
        "tags": ["bench", f"agent-{agent}"], "importance": 0.5, "context": {"project_path": "/srv/bench"}})
    return response.status_code == 201, response.json().get("id") if response.status_code == 201 else None


def _recall(client, rng, agent, op):
    words = rng.sample(DOMAIN_WORDS, 3)
    question = f"how did we handle {' '.join(words)}"
    response = client.post("/search/recall", json={"query": question, "limit": 10})
    return response.status_code == 200, None


def _wait(base, key):
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", headers={"X-API-Key": key}, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /health")


def _commits(path):
    """The file's change counter (SQLite header bytes 24-27): one step per commit in the
    rollback-journal mode memorygraph keeps the file in. Read while no connection of this
    process has the file open, so closing this descriptor drops no lock of ours."""
    with open(path, "rb") as f:
        return int.from_bytes(f.read(28)[24:28], "big")


def _diffs(index):
    conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'diffs'").fetchone()
    finally:
        conn.close()
    return int(row[0]) if row else 0


def _cpu_seconds(pid):
    """User + system CPU seconds of gunicorn's master and its workers (Linux /proc)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _count(path):
    conn = libsql.connect(str(path))
    n = conn.execute("SELECT count(*) FROM nodes WHERE label = 'Memory'").fetchone()[0]
    conn.close()
    return n
