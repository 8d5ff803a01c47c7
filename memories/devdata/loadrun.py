"""One load run's parties in the benchmark process: reading clients, the site writer, the
lag watcher and the sampler of the site's processes (memories/devdata/loadbench.py)."""
import json
import random
import sqlite3
import statistics
import threading
import time
from urllib.parse import urlencode

from ..store.rows import marks
from .loadprocs import Site, children, command_line, cpu_seconds, memory_id_from, memory_kb
from .synthetic_text import ACRONYMS, DOMAIN_WORDS

SLUG = "default"
VIEWS = ("graph 2-hop", "overview", "search")


def _stats(values):
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 1),
            "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
            "max": round(ordered[-1], 1)}


class Load:
    """The client threads, the site writer, the lag watcher and the process sampler of one run."""

    def __init__(self, port, cookies, ids, readmodel, web, worker, memory_file):
        self.port, self.cookies, self.ids, self.readmodel = port, cookies, ids, readmodel
        self.memory_file = memory_file
        self.web, self.worker = web, worker
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.samples = []  # (view, ms, status) inside the window
        self.window = (float("inf"), float("inf"))
        self.pending, self.lags, self.writes = {}, [], {"site create": 0, "site edit": 0, "file": 0,
                                                        "site failed": 0}
        self.peak = {}
        self.failures = []  # why site writes failed, for the report

    def run(self, writer, *, duration, warmup, clients, site_every, lag_wait):
        start = time.monotonic() + warmup
        self.window = (start, start + duration)
        threads = [threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(clients)]
        threads += [threading.Thread(target=self._site_writer, args=(site_every,), daemon=True),
                    threading.Thread(target=self._file_writes, args=(writer,), daemon=True),
                    threading.Thread(target=self._watch_lags, daemon=True),
                    threading.Thread(target=self._sample, daemon=True)]
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, start - time.monotonic()))
        cpu_start, diffs_start, commits_start = self._cpu(), self._diffs(), self._counter()
        writes_start = dict(self.writes)
        time.sleep(max(0.0, self.window[1] - time.monotonic()))
        cpu_end, diffs_end, commits_end = self._cpu(), self._diffs(), self._counter()
        writes = {key: value - writes_start[key] for key, value in self.writes.items()}
        writes["file commits"] = commits_end - commits_start
        self.writing_done = True
        deadline = time.monotonic() + lag_wait
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.5)
        self.stop.set()
        diffs = {key: diffs_end[key] - diffs_start[key] for key in diffs_end}
        return self._report(cpu_start, cpu_end, diffs, writes, lag_wait)

    writing_done = False

    def _in_window(self, t):
        return self.window[0] <= t < self.window[1]

    def _client(self, index):
        rng = random.Random(index)
        site = Site(self.port, self.cookies)
        words = list(DOMAIN_WORDS[:60])
        step = index
        while not self.stop.is_set() and not self.writing_done:
            view = VIEWS[step % len(VIEWS)]
            step += 1
            if view == "graph 2-hop":
                path = f"/c/{SLUG}/graph/?memory={rng.choice(self.ids)}&depth=2"
            elif view == "overview":
                path = f"/c/{SLUG}/graph/?view=overview"
            else:
                kind = rng.randrange(4)
                q = (rng.choice(words) if kind == 0 else rng.choice(ACRONYMS) if kind == 1
                     else f'"{rng.choice(words)} {rng.choice(words)}"' if kind == 2
                     else rng.choice(words)[:4] + "*")
                path = f"/c/{SLUG}/search/?{urlencode({'q': q})}"
            started = time.monotonic()
            try:
                status = site.get(path)[0]
            except OSError:
                status = 0
            if self._in_window(started):
                with self.lock:
                    self.samples.append((view, (time.monotonic() - started) * 1000, status))
        site.close()

    def _site_writer(self, every):
        rng = random.Random(99)
        site = Site(self.port, self.cookies)
        count = 0
        while not self.stop.wait(every) and not self.writing_done:
            count += 1
            try:
                if count % 2:
                    self._site_create(site, count)
                else:
                    self._site_edit(site, rng.choice(self.ids), count)
            except (OSError, ValueError, KeyError) as exc:
                self.writes["site failed"] += 1
                self.failures.append(f"{type(exc).__name__}: {exc}"[:200])
        site.close()

    def _site_create(self, site, count):
        status, headers, _ = site.post(f"/c/{SLUG}/memories/new/", {
            "type": "general", "title": f"Site note {count}: pool sizing under load",
            "content": "Written through the site by the load benchmark.", "tags": "bench",
            "importance": "0.5", "confidence": "0.8"})
        memory_id = memory_id_from(headers.get("Location"))
        if status != 302 or not memory_id:
            raise ValueError(f"create answered {status}")
        self.writes["site create"] += 1
        with self.lock:
            self.pending[memory_id] = ("site", time.time())

    def _site_edit(self, site, memory_id, count):
        status, _, body = site.get(f"/c/{SLUG}/memories/{memory_id}/?format=json")
        memory = json.loads(body)["memory"]
        status, _, _ = site.post(f"/c/{SLUG}/memories/{memory_id}/edit/", {
            "type": memory["type"], "title": f"{memory['title'][:150]} (edit {count})",
            "content": memory.get("content") or "x", "summary": memory.get("summary") or "",
            "tags": ", ".join(memory.get("tags") or []), "importance": memory["importance"],
            "confidence": memory.get("confidence", 0.8), "updated_at": memory["edit_version"]})
        if status != 302:
            raise ValueError(f"edit answered {status}")
        self.writes["site edit"] += 1

    def _file_writes(self, writer):
        for line in writer.stdout:
            item = json.loads(line)
            if "id" in item and not self.writing_done:
                self.writes["file"] += 1
                with self.lock:
                    self.pending[item["id"]] = ("file", item["at"])

    def _watch_lags(self):
        conn = sqlite3.connect(f"file:{self.readmodel}?mode=ro", uri=True, timeout=30)
        try:
            while not self.stop.wait(0.2):
                with self.lock:
                    waiting = dict(self.pending)
                if not waiting:
                    continue
                found = {r[0] for r in conn.execute(
                    f"SELECT memory_id FROM graph_rank WHERE memory_id IN ({marks(len(waiting))})",
                    list(waiting))}
                now = time.time()
                with self.lock:
                    for memory_id in found:
                        kind, at = self.pending.pop(memory_id)
                        self.lags.append((kind, now - at))
        finally:
            conn.close()

    def _meta(self, key):
        conn = sqlite3.connect(f"file:{self.readmodel}?mode=ro", uri=True, timeout=30)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row and row[0]
        finally:
            conn.close()

    def _diffs(self):
        """Diffs so far: all processes', and by kind of process (meta "diffs <role>")."""
        return {key: int(self._meta("diffs" + key) or 0) for key in ("", " web", " worker", " freshness")}

    def _counter(self):
        """The file's change counter: one more per commit, ours and memorygraph's (rollback journal).
        Read from this process, which holds no SQLite lock on the file, so opening it is harmless."""
        with open(self.memory_file, "rb") as handle:
            return int.from_bytes(handle.read(28)[24:28], "big")

    def _pids(self):
        # kb_worker's children: its freshness process (kb_freshness) and, while one runs, an analytics
        # full run (graphs/analytics/background.py) with multiprocessing's resource tracker.
        kids = children(self.worker.pid)
        fresh = [pid for pid in kids if "kb_freshness" in command_line(pid)]
        return {"web": children(self.web.pid), "worker": [self.worker.pid], "freshness": fresh,
                "analytics": [pid for pid in kids if pid not in fresh]}

    def _cpu(self):
        cpu = {role: {pid: cpu_seconds(pid) for pid in pids} for role, pids in self._pids().items()}
        # The full runs' child processes end within the window: their CPU is the worker's ended children's.
        cpu["full runs"] = {self.worker.pid: cpu_seconds(self.worker.pid, ended_children=True)}
        return cpu

    @staticmethod
    def _full_runs_cpu(cpu_start, cpu_end, ended):
        """The full runs' CPU in the window: children that ended in it (all their CPU, less what
        they had spent before it) and those still running at its end (what they spent in it). A
        run still going at the end used to count nothing while it took a core from the web."""
        before, alive = cpu_start["analytics"], cpu_end["analytics"]
        total = sum(ended.values())
        total += sum(cpu - (before.get(pid) or 0) for pid, cpu in alive.items() if cpu is not None)
        total -= sum(cpu for pid, cpu in before.items() if cpu is not None and alive.get(pid) is None)
        return round(total, 1)

    def _sample(self):
        while not self.stop.wait(0.5):
            for role, pids in self._pids().items():
                for pid in pids:
                    kb = memory_kb(pid)
                    if kb:
                        seen = self.peak.setdefault((role, pid), {"rss": 0, "hwm": 0})
                        seen["rss"] = max(seen["rss"], kb.get("rss", 0))
                        seen["hwm"] = max(seen["hwm"], kb.get("hwm", 0))

    def _report(self, cpu_start, cpu_end, diffs, writes, lag_wait):
        views = {}
        for view in VIEWS:
            times = [ms for v, ms, status in self.samples if v == view]
            bad = sum(1 for v, _, status in self.samples if v == view and status != 200)
            views[view] = {**_stats(times), "not_200": bad}
        requests = len(self.samples)

        def spent(role):
            return {pid: round(cpu_end[role][pid] - cpu_start[role][pid], 1) for pid in cpu_end[role]
                    if cpu_start[role].get(pid) is not None and cpu_end[role][pid] is not None}

        web_cpu, worker_cpu, freshness_cpu = spent("web"), spent("worker"), spent("freshness")
        slowest = sorted((ms for _, ms, _ in self.samples), reverse=True)[:5]
        mb = {f"{role} {pid}": round(v["hwm"] / 1024, 1) for (role, pid), v in self.peak.items()}
        lags = {kind: _stats([lag for k, lag in self.lags if k == kind]) for kind in ("site", "file")}
        return {"views": views, "requests": requests, "web_cpu_s": web_cpu, "worker_cpu_s": worker_cpu,
                "full_runs_cpu_s": self._full_runs_cpu(cpu_start, cpu_end, spent("full runs")),
                "cpu_s_per_1000_requests": round(1000 * sum(web_cpu.values()) / max(requests, 1), 1),
                "peak_rss_mb": mb, "web_pids_seen": len([k for k in self.peak if k[0] == "web"]),
                "analytics_lag_s": lags, "lag_missing": len(self.pending), "lag_wait_s": lag_wait,
                "writes": writes, "diffs": diffs.pop(""), "diffs_by": diffs, "freshness_cpu_s": freshness_cpu,
                "slowest_ms": [round(ms) for ms in slowest], "site_failures": self.failures}
