"""Agents writing the team graph through the memorygraph cloud API, against gunicorn
(memories/devdata/bench_agents.py): raw commits, concurrent stores and recalls, every row counted."""
from django.core.management.base import BaseCommand

from memories.devdata import bench_agents


class Command(BaseCommand):
    help = ("Time 8 concurrent agents storing and recalling through the cloud API, "
            "beside the file's raw commit rate.")

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=100_000, help="Memories in the synthetic graph.")
        parser.add_argument("--agents", type=int, default=8)
        parser.add_argument("--ops", type=int, default=150, help="Stores, then recalls, per agent.")
        parser.add_argument("--raw", type=int, default=500, help="Raw commits to time.")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (4 threads each).")
        parser.add_argument("--paced-ops", type=int, default=40,
                            help="Stores, then recalls, per agent in the paced phase (40).")
        parser.add_argument("--paced-every", type=float, default=0.5,
                            help="Seconds between one agent's requests in the paced phase (0.5).")
        parser.add_argument("--keep", action="store_true", help="Keep the generated graph for the next run.")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, n, agents, ops, raw, workers, keep, json: bool, paced_ops, paced_every, **_):
        say = (lambda text: None) if json else self.stdout.write
        report = bench_agents.run(n=n, agents=agents, ops=ops, raw=raw, workers=workers, keep=keep, say=say,
                                  paced_ops=paced_ops, paced_every=paced_every)
        if json:
            self.stdout.write(bench_agents.dumps(report))
