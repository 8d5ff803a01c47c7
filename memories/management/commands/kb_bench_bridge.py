"""Time imports and the memorygraph bridge on the synthetic graph (default 100,000 memories).

1. import of the synthetic memorygraph file into an empty local client database, through
   the same code as the upload page and `kb_import` (read, plan, write, index), with a
   progress bar (target: under 60 s); "write" ends when every row is in the file, "index"
   is what the read model still needs after that;
2. the first bridge run between that file and the client database (nothing to copy: it
   records the base), then a bridge run with no change on either side (target: under 5 s),
   then one after a single change on the laptop side.
"""
import json
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from memories import imports
from memories.bridge import Base, Bridge, base_path
from memories.connector import CanonicalStore
from memories.loader import load_graph
from memories.models import ClientDatabase
from memories.registry import close_all, handle_for
from memories.sides import ClientSide, FileSide
from memories.synthetic import synthetic_graph

SLUG = "bench-import"


class Command(BaseCommand):
    help = "Time the import of the synthetic memorygraph file and no-change bridge runs."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, n, seed, **options):
        quiet = options["verbosity"] == 0
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
            side = ClientSide(handle)
            bar = tqdm(total=0, unit="rows", desc="Importing", disable=quiet)
            written = {}

            def progress(done, total):
                bar.total = total
                bar.update(done - bar.n)
                if done >= len(plan.writes) and not written:
                    written["at"] = time.perf_counter()  # every row is in the file; the index finishes

            started = time.perf_counter()
            incoming = imports.read_path(source, max_bytes=10**12)
            report["import_read_s"] = round(time.perf_counter() - started, 1)
            plan = imports.plan(incoming, side)
            report["import_plan_s"] = round(time.perf_counter() - started - report["import_read_s"], 1)
            applying = time.perf_counter()
            imports.apply(plan, side, progress)
            bar.close()
            finished = time.perf_counter()
            report["import_s"] = round(finished - started, 1)
            report["import_write_s"] = round(written.get("at", finished) - applying, 1)
            report["import_index_s"] = round(finished - written.get("at", finished), 1)
            report["imported"] = {"memories": len(plan.writes.nodes), "relationships": len(plan.writes.edges)}
            for name in ("bridge_first_s", "bridge_no_change_s", "bridge_no_change_again_s"):
                report[name] = self._bridge(handle, source)[0]
            store = CanonicalStore(str(source))
            memory_id = next(iter(store.node_versions()))
            props = store.node(memory_id)
            props["content"] += " (edited on the laptop)"
            with store.transaction():
                store.update_node(props)
            store.close()
            report["bridge_one_change_s"], copied = self._bridge(handle, source)
            report["bridge_one_change_copied"] = copied
        finally:
            close_all()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{client.readmodel_path}{suffix}").unlink(missing_ok=True)
            base_path(client, source).unlink(missing_ok=True)
            client.delete()
            shutil.rmtree(folder, ignore_errors=True)
        out = settings.DATA_DIR / "bench" / "bridge-results.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        self.stdout.write(
            f"\nImport of {n:,} memories and {report['imported']['relationships']:,} relationships: "
            f"{report['import_s']} s (read {report['import_read_s']} s, plan {report['import_plan_s']} s, "
            f"write {report['import_write_s']} s, then index {report['import_index_s']} s; target < 60 s).\n"
            f"Bridge with {n:,} memories: first run {report['bridge_first_s']} s, no change "
            f"{report['bridge_no_change_s']} s and {report['bridge_no_change_again_s']} s (target < 5 s), one change "
            f"{report['bridge_one_change_s']} s ({report['bridge_one_change_copied']} copied).\n"
            f"Figures written to {out}")

    @staticmethod
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
