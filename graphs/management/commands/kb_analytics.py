"""Compute a client database's graph analytics once, now (the worker does it after changes).

    manage.py kb_analytics --client default
"""
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from graphs.analytics.services import analytics_run
from memories.store.canonical import StoreError
from memories.store.registry import get_client, handle_for


class Command(BaseCommand):
    help = ("Compute PageRank, communities, degrees and the causal views of a client database's graph "
            "into its read model, whether or not it changed.")

    def add_arguments(self, parser):
        parser.add_argument("--client", default="default", help="Client database slug (default: default).")

    def handle(self, *args, client, **options):
        try:
            handle = handle_for(get_client(client))
            rm = handle.ensure_fresh(apply=True)
        except (Http404, StoreError) as exc:
            raise CommandError(str(exc)) from exc
        result = analytics_run(rm=rm)
        how = "unchanged graph, retagged" if result["retagged"] else f"{result['communities']:,} communities"
        self.stdout.write(f"{client}: analytics of {result['memories']:,} memories and {result['edges']:,} "
                          f"relationships in {result['seconds']} s ({how}).")
