"""Bridge a developer's memorygraph file with a client database, both ways.

    manage.py memorygraph_bridge --client team --file ~/.memorygraph/memory.db
    manage.py memorygraph_bridge --client team --file ~/.memorygraph/memory.db --every 300

Run it from cron or a systemd timer (see the README), or with --every to loop. The
memorygraph server may keep using the file: every write is a short transaction.
"""
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from memories.interchange.bridge import Base, Bridge, base_path
from memories.interchange.sides import ClientSide, FileSide
from memories.store.canonical import CanonicalStore, StoreError
from memories.store.registry import get_client, handle_for


class Command(BaseCommand):
    help = ("Bridge a memorygraph file (a laptop's ~/.memorygraph/memory.db) with a client database, "
            "both ways.")

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="Slug of the client database.")
        parser.add_argument("--file", required=True, help="The memorygraph SQLite file.")
        parser.add_argument("--every", type=float, help="Run again every so many seconds, until stopped.")

    def handle(self, *args, client, file, every=None, **options):
        path = Path(file).expanduser()
        try:
            database = get_client(client)
        except Exception as exc:
            raise CommandError(str(exc)) from exc
        while True:
            try:
                report = self._once(database, path, quiet=options["verbosity"] == 0)
            except StoreError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self._summary(report))
            if not every:
                return
            time.sleep(every)

    def _once(self, database, path, *, quiet):
        if not path.exists():
            raise StoreError(f"The memorygraph file {path} does not exist.")
        handle = handle_for(database)
        handle.ensure_fresh(apply=True)
        store = CanonicalStore(str(path))
        base = Base(base_path(database, path))
        bar = tqdm(total=0, unit="rows", desc="Bridging", disable=quiet)

        def progress(done, total):
            bar.total = max(bar.total or 0, total)
            bar.update(max(done - bar.n, 0))

        try:
            return Bridge(local=FileSide(store, str(path)), remote=ClientSide(handle), base=base,
                          client=database).run(progress)
        finally:
            bar.close()
            base.close()
            store.close()

    @staticmethod
    def _summary(report):
        c, f = report.to_client, report.to_file
        lines = [f"To the client database: {c['memories']} memories, {c['relationships']} relationships, "
                 f"{c['deleted']} deletions. To the file: {f['memories']} memories, {f['relationships']} "
                 f"relationships, {f['deleted']} deletions. {len(report.conflicts)} conflicts (newer kept, "
                 f"the other in the audit log). {report.seconds:.2f} s."]
        lines += [f"skipped {s}" for s in report.skipped[:20]]
        return "\n".join(lines)
