"""`manage.py kb_sync`: the worker's former name, kept for cron lines and scripts (same options)."""
from memories.worker.threads import AnalyticsThread, ClientThread, tidy_uploads  # noqa: F401 (old home)

from .kb_worker import Command as WorkerCommand


class Command(WorkerCommand):
    help = "The same as kb_worker (its former name)."
