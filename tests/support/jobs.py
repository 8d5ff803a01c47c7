"""Run queued jobs in the test's own process, with the code the worker's job threads run."""
from django.db import connection

from memories.worker.runner import run_pending


def run_jobs():
    """Send what the request queued, then run every job to its end (worker.run_pending).

    Tests marked django_db run inside one transaction that never commits, so the on_commit
    hooks that hand jobs to the queue are run here, as a commit would run them."""
    while connection.run_on_commit:
        pending, connection.run_on_commit = connection.run_on_commit, []
        for _, hook, _ in pending:
            hook()
    run_pending()
