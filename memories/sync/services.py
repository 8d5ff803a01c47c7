"""Writes about client databases' sync and index upkeep: saving a synced database, asking its
sync worker for a run, and the one way a read model's rebuild is asked for (the sync status
page's button and the admin's action alike queue the worker's job)."""
from pathlib import Path

from django.utils import timezone

from ..models import AuditEntry, SyncState
from ..services import Conflict, audit_user
from ..store.canonical import StoreError
from ..store.progress import throttled
from ..worker.jobs import job_active, job_enqueue
from .primary import Primary, resolve_token


def synced_client_save(*, client, schema_at_primary):
    """Save a synced client database that ClientDatabaseForm validated (``form.save(commit=False)``),
    first making its replica's folder and, when the form found the primary of a new database
    empty (``form.schema_at_primary``), applying the memorygraph schema there, so no database
    is saved whose primary lacks it. Raises RemoteError when the primary refuses; returns client."""
    Path(client.path).parent.mkdir(parents=True, exist_ok=True)
    if schema_at_primary:
        Primary(client.remote_url, resolve_token(client.token_ref)).create_schema()
    client.save()
    return client


def sync_request(*, client, actor):
    """Ask the client's sync worker for a run now (it looks every quarter second)."""
    state, _ = SyncState.objects.get_or_create(client=client)
    state.sync_requested_at = timezone.now()
    state.save(update_fields=["sync_requested_at"])
    _audit_client(client, actor, "sync.request")
    return state


def index_rebuild_request(*, client, actor):
    """Queue a rebuild of a client's read model for the worker (kb_worker; for a synced client
    its database's sync thread there does it) and return the job; progress shows on the status
    and jobs pages. Raises Conflict when one is already queued or running."""
    state, _ = SyncState.objects.get_or_create(client=client)
    if state.rebuild_requested_at or job_active(client=client, kind="rebuild"):
        raise Conflict("A rebuild of this index is already queued or running.")
    state.rebuild_requested_at = timezone.now()
    state.rebuild_progress = "queued"
    state.save(update_fields=["rebuild_requested_at", "rebuild_progress"])
    _audit_client(client, actor, "index.rebuild")
    return job_enqueue(kind="rebuild", client=client, actor=actor)


def index_rebuild_run(*, client, rebuild, errors=(StoreError,)):
    """Run rebuild(progress=...) for a client, keeping its progress and outcome on the status page."""
    def report(done, total):
        SyncState.objects.filter(client=client).update(rebuild_progress=f"{done:,} of {total:,} memories")

    try:
        result = rebuild(progress=throttled(report, 1.0))
        message = (f"Rebuilt: {result['memories']:,} memories in {result['seconds']} s "
                   f"at {timezone.now():%H:%M:%S}")
    except errors as exc:
        message = f"Rebuild failed: {exc}"
    SyncState.objects.filter(client=client).update(rebuild_requested_at=None, rebuild_progress=message)


def _audit_client(client, actor, action):
    AuditEntry.objects.create(client=client, actor=audit_user(actor), action=action, object_id=client.slug)
