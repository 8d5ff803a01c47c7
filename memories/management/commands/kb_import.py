"""Import a file into a client database: a memorygraph memory.db or JSON export, claude-flow's
.swarm/memory.db, or an mcp-turso knowledge_base database (or a zip holding one).

    manage.py kb_import --client team path/to/memory.db            # preview, then import
    manage.py kb_import --client team path/to/export.json --dry-run
"""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from tqdm import tqdm

from memories.interchange.imports import plans, readers, refusals
from memories.interchange.sides import ClientSide
from memories.store.canonical import StoreError
from memories.store.registry import get_client, handle_for


class Command(BaseCommand):
    help = "Import memories from a file into a client database (shows the preview first)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--client", required=True)
        parser.add_argument("--dry-run", action="store_true", help="Only show what would be imported.")

    def handle(self, *args, file, client, dry_run, **options):
        path = Path(file).expanduser()
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            handle = handle_for(get_client(client))
            handle.ensure_fresh(apply=True)
            incoming = readers.read_path(path, max_bytes=settings.KB_UPLOAD_MAX_BYTES)
            side = ClientSide(handle)
            plan = plans.plan(incoming, side)
        except (refusals.ImportRefused, StoreError, Http404) as exc:
            raise CommandError(str(exc)) from exc
        c = plan.counts
        self.stdout.write(f"{plan.source}: {c['new']} new, {c['changed']} changed, "
                          f"{c['identical']} identical, {c['older']} older than ours (kept), "
                          f"{c['invalid']} invalid; relationships: "
                          f"{c['relationships_new']} new, {c['relationships_changed']} changed, "
                          f"{c['relationships_identical']} identical.")
        for what, reason in plan.invalid[:20]:
            self.stdout.write(f"  invalid {what}: {reason}")
        if dry_run:
            return
        bar = tqdm(total=len(plan.writes), unit="rows", desc="Importing", disable=options["verbosity"] == 0)
        def progress(done, total):
            bar.total = total  # a big import into a local database also reindexes it
            bar.update(done - bar.n)

        result = plans.apply(plan, side, progress=progress)
        bar.close()
        self.stdout.write(f"Imported {result['memories']} memories "
                          f"and {result['relationships']} relationships.")
