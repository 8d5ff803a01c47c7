"""The load benchmark (``manage.py kb_bench_load``): the site as `make run` serves it, while
agents write.

On a copy of the synthetic graph of --n memories, in a data dir of its own: gunicorn with 2
workers x 4 threads and the worker process (``kb_worker``, or ``kb_sync`` before it existed),
a few client threads requesting graph 2-hop neighbourhoods, the overview and searches without
pause, one writer creating or editing a memory through the site every 2 s, and the real
memorygraph package writing a memory and a relationship into the file every 5 s, as its
server does. Measured over a fixed window after a warm-up: each view's p50/p95, the web
workers' peak RSS and CPU seconds per 1,000 requests, the worker's CPU and peak RSS, the
analytics lag (write -> a rank row for the new memory in the read model) and how many
(id, version) diffs all processes together ran for the file's writes.
"""
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands

from .loadprocs import MEMORYGRAPH_WRITER, Site, write_ids
from .loadrun import Load

USERNAME = "kb-load"
GUNICORN = ["--workers", "2", "--threads", "4", "--graceful-timeout", "5", "--timeout", "120"]


def run(*, source, n, duration, warmup, clients, site_every, file_every, lag_wait, say, worker_args=()):
    """Run the situation on a copy of ``source``; returns the report (see ``table``)."""
    workdir = Path(tempfile.mkdtemp(prefix="load-", dir=source.parent))
    procs = []
    try:
        report = {"n": n, "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "duration_s": duration,
                  "clients": clients, "site_every_s": site_every, "file_every_s": file_every,
                  "loadavg_start": os.getloadavg(), "analytics_interval": settings.KB_ANALYTICS_INTERVAL}
        memory_file = workdir / "memory.db"
        shutil.copyfile(source, memory_file)
        password = secrets.token_urlsafe(16)
        env = {**os.environ, "KB_DATA_DIR": str(workdir / "data"), "KB_MEMORY_DB": str(memory_file),
               "KB_SECRET_KEY": secrets.token_urlsafe(40), "KB_LOG_LEVEL": "INFO",
               "DJANGO_SETTINGS_MODULE": "kbsite.settings"}
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        say("Indexing the copy and computing its analytics (as a first start does) ...")
        # "--prepare=" with the password: a token may start with "-", which argparse reads as an option.
        prepared = json.loads(subprocess.run(
            [*manage, "kb_bench_load", f"--prepare={password}"], env=env, check=True, capture_output=True,
            text=True).stdout.strip().splitlines()[-1])
        report["prepare"] = prepared
        ids = _sample_ids(memory_file)
        write_ids(workdir / "ids.json", ids)
        worker_cmd = "kb_worker" if "kb_worker" in get_commands() else "kb_sync"
        report["worker_command"] = " ".join([worker_cmd, *worker_args])
        port = _free_port()
        logs = open(workdir / "processes.log", "w")
        worker = _start(procs, [*manage, worker_cmd, *worker_args], env, logs)
        web = _start(procs, [str(Path(sys.executable).parent / "gunicorn"), "kbsite.wsgi", "--bind",
                             f"127.0.0.1:{port}", *GUNICORN], env, logs, cwd=settings.BASE_DIR)
        _wait_for_port(port, web)
        cookies = _login(port, password)
        writer = _start(procs, [sys.executable, "-c", MEMORYGRAPH_WRITER, str(memory_file), str(file_every),
                                str(workdir / "ids.json")], env, subprocess.PIPE)
        # memorygraph's backend loads the whole file into networkx first (a minute at 100,000).
        ready = json.loads(writer.stdout.readline() or "{}")
        if "ready" not in ready:
            raise RuntimeError("the memorygraph writer did not start")
        say(f"Serving on 127.0.0.1:{port} with {worker_cmd}; "
            f"{warmup} s warm-up, then {duration} s measured ...")
        load = Load(port, cookies, ids, Path(prepared["readmodel"]), web, worker, memory_file)
        report.update(load.run(writer, duration=duration, warmup=warmup, clients=clients,
                               site_every=site_every, lag_wait=lag_wait))
        report["loadavg_end"] = os.getloadavg()
        return report
    finally:
        for proc in reversed(procs):
            _stop(proc)
        if (workdir / "processes.log").exists():  # the worker's and gunicorn's own account of the run
            shutil.copyfile(workdir / "processes.log", source.parent / f"load-n{n}.log")
        shutil.rmtree(workdir, ignore_errors=True)


def _sample_ids(path, limit=2000):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute(
            "SELECT id FROM nodes WHERE label = 'Memory' ORDER BY random() LIMIT ?", (limit,))]
    finally:
        conn.close()


def _start(procs, args, env, out, cwd=None):
    proc = subprocess.Popen(args, env=env, cwd=cwd or settings.BASE_DIR, stdout=out,
                            stderr=subprocess.STDOUT if out is not subprocess.PIPE else subprocess.DEVNULL,
                            text=True)
    procs.append(proc)
    return proc


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited at start (see its log)")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not listen on {port} within {timeout} s")


def _login(port, password):
    site = Site(port)
    try:
        site.login(USERNAME, password)
        return site.cookies
    finally:
        site.close()


def table(report):
    """The report as markdown."""
    lines = [f"Load benchmark, {report['n']:,} memories, {report['at']}, {report['duration_s']} s measured, "
             f"{report['clients']} client threads, worker `{report['worker_command']}`, "
             f"KB_ANALYTICS_INTERVAL={report['analytics_interval']}, load average "
             f"{report['loadavg_start'][0]:.2f} -> {report['loadavg_end'][0]:.2f}", "",
             "| view | requests | p50 ms | p95 ms | max ms | not 200 |", "|---|---|---|---|---|---|"]
    for view, s in report["views"].items():
        lines.append(f"| {view} | {s['n']} | {s.get('p50', '-')} | {s.get('p95', '-')} | {s.get('max', '-')} "
                     f"| {s['not_200']} |")
    lines += ["", "| measure | value |", "|---|---|"]
    web = [v for k, v in report["peak_rss_mb"].items() if k.startswith("web")]
    worker = [v for k, v in report["peak_rss_mb"].items() if k.startswith("worker")]
    lines.append(f"| web workers' peak RSS (VmHWM) | {', '.join(f'{v} MB' for v in web)} |")
    web_cpu = ", ".join(f"{v} s" for v in report["web_cpu_s"].values())
    lines.append(f"| web workers' CPU in the window | {web_cpu} |")
    lines.append(f"| web CPU seconds per 1,000 requests | {report['cpu_s_per_1000_requests']} |")
    lines.append(f"| worker CPU in the window / peak RSS | {sum(report['worker_cpu_s'].values()):.1f} s / "
                 f"{', '.join(f'{v} MB' for v in worker)} |")
    if "full_runs_cpu_s" in report:
        full = [v for k, v in report["peak_rss_mb"].items() if k.startswith("analytics")]
        lines.append(f"| analytics full runs (the worker's child processes): CPU in the window / peak RSS | "
                     f"{report['full_runs_cpu_s']:.1f} s / {max(full, default=0)} MB |")
    w = report["writes"]
    lines.append(f"| writes: site creates / edits / failed, memorygraph file "
                 f"| {w['site create']} / {w['site edit']} / {w['site failed']}, {w['file']} |")
    theirs = w["file commits"] - w["site create"] - w["site edit"]
    lines.append(f"| (id, version) diffs, all processes | {report['diffs']}, "
                 f"for {theirs} commits of memorygraph (of {w['file commits']} to the file) |")
    if "diffs_by" in report:
        by = report["diffs_by"]
        fresh = report["freshness_cpu_s"]
        lines.append(f"| diffs by web workers / the worker / its freshness process | {by[' web']} / "
                     f"{by[' worker']} / {by[' freshness']} |")
        lines.append(f"| freshness process CPU in the window | "
                     f"{', '.join(f'{v} s' for v in fresh.values()) or 'none running'} |")
        lines.append(f"| slowest requests (ms) | {', '.join(str(ms) for ms in report['slowest_ms'])} |")
    if report.get("site_failures"):
        lines.append(f"| why site writes failed | {'; '.join(report['site_failures'])} |")
    for kind, s in report["analytics_lag_s"].items():
        label = "site write" if kind == "site" else "memorygraph write"
        value = f"p50 {s['p50']} s, max {s['max']} s (n={s['n']})" if s["n"] else "none seen"
        lines.append(f"| analytics lag after a {label} | {value} |")
    if report["lag_missing"]:
        lines.append(f"| writes without ranks after {report['lag_wait_s']} s more "
                     f"| {report['lag_missing']} |")
    return "\n".join(lines)
