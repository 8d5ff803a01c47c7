"""Time imports and the memorygraph bridge on the synthetic graph (memories/devdata/bench_bridge.py):
the import of the synthetic file into an empty client database by phase, then bridge runs with no
change and with one."""
from django.core.management.base import BaseCommand

from memories.devdata import bench_bridge


class Command(BaseCommand):
    help = "Time the import of the synthetic memorygraph file and no-change bridge runs."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--import-only", action="store_true",
                            help="time the import alone (figures in import-results.json)")

    def handle(self, *args, n, seed, import_only, **options):
        report, out = bench_bridge.run(n=n, seed=seed, import_only=import_only,
                                       quiet=options["verbosity"] == 0)
        for text in bench_bridge.summary(report, out):
            self.stdout.write(text)
