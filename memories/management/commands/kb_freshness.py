"""`manage.py kb_freshness`: apply other writers' commits to local client databases' read
models, twice a second, while web workers only probe (memories/worker/freshness.py).

kb_worker starts it as a child (with ``--parent``) and restarts it when it dies; run it by
itself only where no kb_worker runs.
"""
import signal
import threading

from django.core.management.base import BaseCommand

from memories.worker import freshness


class Command(BaseCommand):
    help = "Apply other writers' commits to the read models of local client databases, until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--client", help="Only this client database (slug).")
        parser.add_argument("--parent", type=int, help="Stop when this process (kb_worker) is gone.")

    def handle(self, *args, client=None, parent=None, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        freshness.run(stop, slug=client, parent=parent)
