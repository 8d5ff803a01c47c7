"""The site under agents' writes: gunicorn (2 x 4 threads), the worker, readers and writers
(memories/devdata/loadbench.py). Reuses or makes the synthetic file in <data dir>/bench/."""
import argparse
import json
import time

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from graphs.analytics.services import analytics_run
from memories.devdata import loadbench
from memories.devdata.bench_common import kept_file
from memories.models import Membership
from memories.store.registry import ensure_default_client, handle_for


class Command(BaseCommand):
    help = "Serve a synthetic graph of --n memories as `make run` does and time views while agents write."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=10_000, help="Memories (default 10000).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--duration", type=float, default=90, help="Seconds measured (default 90).")
        parser.add_argument("--warmup", type=float, default=5, help="Seconds before measuring (default 5).")
        parser.add_argument("--clients", type=int, default=3, help="Reading client threads (default 3).")
        parser.add_argument("--site-every", type=float, default=2, help="Seconds between site writes (2).")
        parser.add_argument("--file-every", type=float, default=5,
                            help="Seconds between memorygraph writes into the file (5).")
        parser.add_argument("--lag-wait", type=float, default=120,
                            help="Seconds to wait after the window for the last writes' ranks (120).")
        parser.add_argument("--no-freshness", action="store_true",
                            help="Run the worker without its freshness process "
                                 "(web workers diff, as before).")
        # Internal: the run's setup.
        parser.add_argument("--prepare", metavar="PASSWORD", help=argparse.SUPPRESS)

    def handle(self, *args, n, seed, duration, warmup, clients, site_every, file_every, lag_wait, prepare,
               no_freshness=False, **options):
        if prepare:
            return self._prepare(prepare)
        if n < 10 or duration <= 0 or clients < 1:
            raise CommandError("--n must be at least 10, --duration positive and --clients at least 1.")
        quiet = options["verbosity"] == 0
        say = (lambda text: None) if quiet else (lambda text: self.stderr.write(text))
        source = kept_file(n, seed, say)
        report = loadbench.run(source=source, n=n, duration=duration, warmup=warmup, clients=clients,
                               site_every=site_every, file_every=file_every, lag_wait=lag_wait, say=say,
                               worker_args=["--no-freshness"] if no_freshness else [])
        out = source.parent / f"load-n{n}{'-no-freshness' if no_freshness else ''}.json"
        out.write_text(json.dumps(report, indent=2) + "\n")
        self.stdout.write(loadbench.table(report) + f"\n\n(full report: {out})\n")

    def _prepare(self, password):
        """In the run's own data dir: Django's tables, the reader, the index and first analytics."""
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        client = ensure_default_client()
        user = get_user_model().objects.create_user(loadbench.USERNAME, password=password)
        Membership.objects.create(user=user, client=client, role=Membership.EDITOR)
        handle = handle_for(client)
        rebuild = handle.rebuild()
        analytics = analytics_run(rm=handle.readmodel)
        self.stdout.write(json.dumps({"readmodel": str(client.readmodel_path),
                                      "rebuild_s": rebuild["seconds"], "analytics_s": analytics["seconds"],
                                      "seconds": round(time.perf_counter() - started, 1)}))
