"""Benchmark the site on a large synthetic memory graph, through the views and the selectors
(memories/devdata/bench_views.py): search, lists, memory pages, the tag index and the graph pages,
cold and hot, against the performance targets."""
from django.core.management.base import BaseCommand, CommandError

from memories.devdata import bench_views


class Command(BaseCommand):
    help = "Time search, lists, memory pages and the tag index on a synthetic graph of --n memories."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=100_000, help="Memories to generate (default 100000).")
        parser.add_argument("--queries", type=int, default=200, help="Timed requests per kind (default 200).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--keep", action="store_true",
                            help="Keep the memory file in <data dir>/bench/ for later runs, and the `bench` "
                                 "client database with its read model to browse at /c/bench/.")

    def handle(self, *args, n, queries, seed, keep, **options):
        if n < 10 or queries < 1:
            raise CommandError("--n must be at least 10 and --queries at least 1.")
        quiet = options["verbosity"] == 0
        say = (lambda text: None) if quiet else self.stdout.write
        report, out = bench_views.run(n=n, queries=queries, seed=seed, keep=keep, quiet=quiet, say=say)
        self.stdout.write(bench_views.table(report, out))
