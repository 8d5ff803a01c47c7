"""`manage.py kb_bench_diff`: how long another writer's commits wait while a freshness diff runs,
in one snapshot of the file against in pages (memories/devdata/bench_diff.py)."""
from django.core.management.base import BaseCommand

from memories.devdata import bench_diff


class Command(BaseCommand):
    help = "Time another writer's commit waits during a freshness diff: one snapshot against pages."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=20_000, help="Memories (default 20000).")
        parser.add_argument("--seconds", type=float, default=4,
                            help="Seconds of diffs per way and round (4).")

    def handle(self, *args, n, seconds, **options):
        bench_diff.run(n=n, seconds=seconds, say=self.stderr.write, line=self.stdout.write)
