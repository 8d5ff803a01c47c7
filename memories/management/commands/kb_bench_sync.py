"""Time synced client databases on loopback (memories/devdata/bench_sync.py): our write path
(outbox, worker runs, end to end) against pyturso's own push and pull on a real tursodb."""
from django.core.management.base import BaseCommand

from memories.devdata import bench_sync


class Command(BaseCommand):
    help = ("Time the sync path (outbox, worker runs, end to end) against pyturso's own push/pull, "
            "on loopback.")

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=30)

    def handle(self, *args, rounds, **options):
        report, out = bench_sync.run(rounds=rounds)
        self.stdout.write(bench_sync.table(report, rounds, out))
