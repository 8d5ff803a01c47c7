"""kb_bench_bridge: imports and the memorygraph bridge on the synthetic graph (default 100,000 memories).

1. import of the synthetic memorygraph file into an empty local client database, through
   the same code as the upload page and `kb_import` (read, plan, write, index), with a
   progress bar (target: under 60 s); "write" ends when every row is in the file, "index"
   is what the read model still needs after that;
2. the first bridge run between that file and the client database (nothing to copy: it
   records the base), then a bridge run with no change on either side (target: under 5 s),
   then one after a single change on the laptop side.
"""
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from tqdm import tqdm

from memories.interchange.bridge import Base, Bridge, base_path
from memories.interchange.imports import plans, readers
from memories.interchange.sides import ClientSide, FileSide
from memories.models import ClientDatabase
from memories.store.canonical import CanonicalStore
from memories.store.registry import close_all, handle_for

from .loader import load_graph
from .synthetic import synthetic_graph

SLUG = "bench-import"


def _clock():
    """(wall, this process's CPU, its exited children's CPU) in seconds."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return (time.perf_counter(), own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime)


def run(*, n, seed, import_only, quiet):
    """The report of one run, written to <data dir>/bench/bridge-results.json (import-results.json
    with `import_only`), returned with that path; `quiet` hides the progress bar."""
    folder = Path(tempfile.mkdtemp(prefix="kb-bench-bridge-"))
    cached = settings.DATA_DIR / "bench" / f"memory-n{n}-seed{seed}.db"
    source = folder / "laptop.db"
    if cached.exists():
        shutil.copy(cached, source)
    else:
        memories, relationships = synthetic_graph(n, seed=seed)
        load_graph(str(source), memories, relationships)
    target = folder / "client.db"
    CanonicalStore(str(target), create=True).close()
    ClientDatabase.objects.filter(slug=SLUG).delete()
    client = ClientDatabase.objects.create(slug=SLUG, name="Import benchmark", path=str(target))
    report = {"n": n}
    try:
        handle = handle_for(client)
        handle.ensure_fresh(apply=True)
        _time_import(handle, source, report, quiet)
        if import_only:
            return report, _write(report, "import-results.json")
        for name in ("bridge_first_s", "bridge_no_change_s", "bridge_no_change_again_s"):
            report[name] = _bridge(handle, source)[0]
        store = CanonicalStore(str(source))
        memory_id = next(iter(store.node_versions()))
        props = store.node(memory_id)
        props["content"] += " (edited on the laptop)"
        with store.transaction():
            store.update_node(props)
        store.close()
        report["bridge_one_change_s"], copied = _bridge(handle, source)
        report["bridge_one_change_copied"] = copied
    finally:
        close_all()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{client.readmodel_path}{suffix}").unlink(missing_ok=True)
        base_path(client, source).unlink(missing_ok=True)
        client.delete()
        shutil.rmtree(folder, ignore_errors=True)
    return report, _write(report, "bridge-results.json")


def _time_import(handle, source, report, quiet):
    """Import `source` into the client database, adding each phase's wall and CPU seconds."""
    side = ClientSide(handle)
    bar = tqdm(total=0, unit="rows", desc="Importing", disable=quiet)
    written = {}

    def progress(done, total):
        bar.total = total
        bar.update(done - bar.n)
        if done >= len(plan.writes) and not written:
            written["at"] = _clock()  # every row in the file (and the read model); indexes to go

    started = _clock()
    incoming = readers.read_path(source, max_bytes=10**12)
    read = _clock()
    plan = plans.plan(incoming, side)
    planned = _clock()
    plans.apply(plan, side, progress)
    bar.close()
    finished = _clock()
    last_row = written.get("at", finished)
    phases = {"read": (started, read), "plan": (read, planned), "write": (planned, last_row),
              "index": (last_row, finished)}
    for name, (a, b) in phases.items():
        report[f"import_{name}_s"] = round(b[0] - a[0], 1)
        report[f"import_{name}_cpu_s"] = round(b[1] - a[1], 1)  # this process's CPU seconds
    report["import_s"] = round(finished[0] - started[0], 1)
    report["import_cpu_s"] = round(finished[1] - started[1], 1)
    # The writer process's CPU (counted once it has exited) and its own figures (bulk.py).
    report["import_writer_cpu_s"] = round(finished[2] - started[2], 1)
    report["import_writer"] = side.writer_info
    report["load_average"] = [round(x, 1) for x in os.getloadavg()]
    report["imported"] = {"memories": len(plan.writes.nodes), "relationships": len(plan.writes.edges)}


def _write(report, name):
    out = settings.DATA_DIR / "bench" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return out


def summary(report, out):
    """What kb_bench_bridge prints, as the texts it writes one after the other."""
    phases = ", ".join(f"{name} {report[f'import_{name}_s']} s ({report[f'import_{name}_cpu_s']} s CPU)"
                       for name in ("read", "plan", "write", "index"))
    imported = report["imported"]
    texts = [
        f"\nImport of {report['n']:,} memories and {imported['relationships']:,} relationships: "
        f"{report['import_s']} s, target < 60 s; {phases}; CPU {report['import_cpu_s']} s here and "
        f"{report['import_writer_cpu_s']} s in the writer process "
        f"(load average {report['load_average']}).\nWriter process: {report['import_writer']}.\n"]
    if "bridge_first_s" not in report:
        return texts + [f"Figures written to {out}"]
    n = report["n"]
    return texts + [
        f"Bridge with {n:,} memories: first run {report['bridge_first_s']} s, no change "
        f"{report['bridge_no_change_s']} s and {report['bridge_no_change_again_s']} s (target < 5 s), "
        f"one change {report['bridge_one_change_s']} s ({report['bridge_one_change_copied']} copied).\n"
        f"Figures written to {out}"]


def _bridge(handle, source):
    store = CanonicalStore(str(source))
    base = Base(base_path(handle.client, source))
    try:
        started = time.perf_counter()
        report = Bridge(local=FileSide(store, str(source)), remote=ClientSide(handle), base=base,
                        client=handle.client).run()
        return round(time.perf_counter() - started, 2), report.to_client["memories"]
    finally:
        base.close()
        store.close()
