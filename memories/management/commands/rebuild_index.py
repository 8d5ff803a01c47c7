from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from tqdm import tqdm

from memories.store.canonical import StoreError
from memories.store.registry import get_client, handle_for


class Command(BaseCommand):
    help = "Rebuild a client database's read model (search index, facets, edges) from its memorygraph file."

    def add_arguments(self, parser):
        parser.add_argument("--client", default="default", help="Client database slug (default: default).")

    def handle(self, *args, client, **options):
        try:
            handle = handle_for(get_client(client))
        except Http404 as exc:
            raise CommandError(str(exc)) from exc
        bar = tqdm(total=0, unit="memories", desc=f"Indexing {client}", disable=options["verbosity"] == 0)

        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)

        try:
            result = handle.rebuild(progress=progress)
        except StoreError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(f"Indexed {result['memories']:,} memories in {result['seconds']} s.")
