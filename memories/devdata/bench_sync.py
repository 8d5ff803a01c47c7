"""kb_bench_sync: synced client databases on loopback: our write path against the driver's floor.

Starts a real `tursodb --sync-server` (node_modules, installed by `make test` / `make primary`)
on a free port, registers two synced client databases on it (two replicas, as two site
instances would have), and times, side by side in one run:

- driver: pyturso push of one row, pull of one row, and a no-op pull (the floor);
- ours: one write through the services (outbox + overlay), a worker run that drains,
  pushes and verifies it, a worker run on the other replica that pulls and reindexes it,
  and the whole write-to-visible-on-the-other-instance path; a 1,000-change push; a no-op run.
"""
import json
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from memories import services
from memories.forms import ClientDatabaseForm
from memories.models import ClientDatabase
from memories.store.registry import close_all, handle_for
from memories.sync.primary import Primary
from memories.sync.replica import ReplicaSync
from memories.sync.services import synced_client_save

ROOT = Path(settings.BASE_DIR)


def _port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ms(values):
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 1),
            "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1), "count": len(ordered)}


def run(*, rounds):
    """The report of `rounds` rounds, written to <data dir>/bench/sync-results.json (returned with
    that path)."""
    binary = next(iter(sorted((ROOT / "node_modules" / "@tursodatabase").glob("cli-*/tursodb"))), None)
    if binary is None:
        raise CommandError("tursodb is not installed: run `npm install` (make test and make primary do).")
    folder = Path(tempfile.mkdtemp(prefix="kb-bench-sync-"))
    port = _port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(binary), str(folder / "primary.db"), "--sync-server", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clients, syncs = [], []
    try:
        _wait(port)
        for slug, source in (("bench-sync-a", "new"), ("bench-sync-b", "existing")):
            ClientDatabase.objects.filter(slug=slug).delete()
            form = ClientDatabaseForm({"slug": slug, "name": slug, "mode": "synced", "source": source,
                                       "remote_url": url, "sync_interval": "1",
                                       "path": str(folder / f"{slug}.db")})
            if not form.is_valid():
                raise CommandError(str(form.errors))
            clients.append(synced_client_save(client=form.save(commit=False),
                                              schema_at_primary=form.schema_at_primary))
        syncs = [ReplicaSync(c) for c in clients]
        for sync in syncs:
            sync.run()
        report = {"driver": _driver(url, folder, rounds), "ours": _ours(clients, syncs, rounds)}
    finally:
        for sync in syncs:
            sync.close()
        close_all()
        for client in clients:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{client.readmodel_path}{suffix}").unlink(missing_ok=True)
            client.delete()
        server.kill()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)
    out = settings.DATA_DIR / "bench" / "sync-results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return report, out


def table(report, rounds, out):
    """The report as kb_bench_sync prints it."""
    lines = ["", f"Sync on loopback, {rounds} rounds, ms", f"{'':44} {'p50':>8} {'p95':>8}"]
    for side, timings in report.items():
        for name, stats in timings.items():
            lines.append(f"{side + ': ' + name:44} {stats['p50']:8.1f} {stats['p95']:8.1f}")
    lines.append(f"\nFigures written to {out}")
    return "\n".join(lines)


def _wait(port):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise CommandError("tursodb did not start listening")


def _driver(url, folder, rounds):
    import turso.sync

    Primary(url).pipeline([("CREATE TABLE IF NOT EXISTS bench (id TEXT PRIMARY KEY, v TEXT)", ())])
    a = turso.sync.connect(str(folder / "driver-a.db"), remote_url=url)
    b = turso.sync.connect(str(folder / "driver-b.db"), remote_url=url)
    push, pull, noop = [], [], []
    try:
        for n in range(rounds):
            a.execute("INSERT INTO bench VALUES (?, ?)", (f"r{n}", "x" * 200))
            a.commit()
            started = time.perf_counter()
            a.push()
            push.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            b.pull()
            pull.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            b.pull()
            noop.append((time.perf_counter() - started) * 1000)
    finally:
        a.close()
        b.close()
    return {"push 1 row": _ms(push), "pull 1 row": _ms(pull), "no-op pull": _ms(noop)}


def _ours(clients, syncs, rounds):
    writer, reader = handle_for(clients[0]), handle_for(clients[1])
    write, push, pull, end_to_end, noop = [], [], [], [], []
    for n in range(rounds):
        started = time.perf_counter()
        memory_id = services.memory_create(handle=writer, actor=None, fields={
            "type": "solution", "title": f"Bench memory {n}", "content": "x" * 200})
        write.append((time.perf_counter() - started) * 1000)
        clock = time.perf_counter()
        syncs[0].run()
        push.append((time.perf_counter() - clock) * 1000)
        clock = time.perf_counter()
        syncs[1].run()
        pull.append((time.perf_counter() - clock) * 1000)
        if reader.store.node(memory_id) is None:
            raise CommandError("the change did not reach the other replica's index")
        end_to_end.append((time.perf_counter() - started) * 1000)
        clock = time.perf_counter()
        syncs[1].run()
        noop.append((time.perf_counter() - clock) * 1000)
    started = time.perf_counter()
    for n in range(1000):
        services.memory_create(handle=writer, actor=None, fields={
            "type": "problem", "title": f"Bulk {n}", "content": "y" * 200})
    queued = (time.perf_counter() - started) * 1000
    clock = time.perf_counter()
    result = syncs[0].run()
    bulk = (time.perf_counter() - clock) * 1000
    if result.pushed != 1000:
        raise CommandError(f"the 1,000-change run pushed {result.pushed}: {result.error}")
    return {
        "write (outbox + overlay)": _ms(write),
        "run: drain, push, verify, pull": _ms(push),
        "run on other: pull, reindex": _ms(pull),
        "write -> other instance's index": _ms(end_to_end),
        "no-op run": _ms(noop),
        "1,000 writes queued (total)": _ms([queued]),
        "run pushing 1,000 changes": _ms([bulk]),
    }
