"""Time first searches alone, by kind, on the cached synthetic graph, reusing its read model
(memories/devdata/bench_search.py): the JSON view with the result cache emptied before each
call, beside the bare FTS5 query, on the file a `kb_bench --keep` run left."""
from django.core.management.base import BaseCommand

from memories.devdata import bench_search


class Command(BaseCommand):
    help = "Time first searches by kind (JSON view and bare FTS5 query) on the cached synthetic graph."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=100_000,
                            help="Memories of the cached file (default 100000).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--queries", type=int, default=80, help="Timed searches in all (default 80).")
        parser.add_argument("--kinds", default="",
                            help="Only these kinds, comma-separated (e.g. prefix,typo).")

    def handle(self, *args, n, seed, queries, kinds, **options):
        report, out = bench_search.run(n=n, seed=seed, queries=queries, kinds=kinds)
        self.stdout.write(bench_search.table(report, out))
