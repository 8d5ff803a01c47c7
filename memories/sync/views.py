"""The sync status page: every client database's replica, outbox and index, for admins.

Staff see every database; a client's admins see theirs. "Sync now" and "Rebuild index"
answer htmx with the updated row, which then polls itself until the request is served.
"""
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..access import require
from ..http import client_view, error_response, respond, wants_fragment
from ..models import ClientDatabase, Membership, SyncRun, SyncState
from ..store.registry import handle_for
from ..worker.selectors import job_latest
from . import selectors, services

HISTORY_RUNS = 120


def _manageable(user):
    clients = ClientDatabase.objects.filter(archived=False).order_by("name")
    if user.is_staff or user.is_superuser:
        return clients
    return clients.filter(memberships__user=user, memberships__role=Membership.ADMIN)


def _client(request, slug):
    client = get_object_or_404(ClientDatabase, slug=slug, archived=False)
    if not (request.user.is_staff or request.user.is_superuser):
        require(request.user, client, Membership.ADMIN)
    return client


def _row(client, now):
    state = SyncState.objects.filter(client=client).first()
    row = selectors.sync_row(client=client, state=state, rm=handle_for(client).readmodel, now=now)
    runs = list(SyncRun.objects.filter(client=client)[:HISTORY_RUNS])
    row["history"] = selectors.sync_history(runs=runs)
    job = job_latest(client=client, kind="rebuild")
    row["rebuild_job"] = {"id": job.pk, "status": job.status, "message": job.message,
                          "progress_done": job.progress_done,
                          "progress_total": job.progress_total} if job else None
    return row


def _json(row):
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items() if k != "history"}
    data["history"] = row["history"]["runs"]
    return data


def sync_status(request):
    clients = list(_manageable(request.user))
    if not clients and not (request.user.is_staff or request.user.is_superuser):
        raise PermissionDenied("The sync status page is for staff and client database admins.")
    now = timezone.now()
    rows = [_row(client, now) for client in clients]
    return respond(request, "memories/sync_status.html", {"rows": rows, "now": now},
                   data={"databases": [_json(r) for r in rows], "at": now.isoformat()})


def sync_row(request, slug):
    row = _row(_client(request, slug), timezone.now())
    return respond(request, "memories/sync_status.html", {"rows": [row], "row": row}, partial="row",
                   data=_json(row))


def _after(request, client):
    if wants_fragment(request):
        return sync_row(request, client.slug)
    return redirect("sync_status")


@require_POST
def sync_now(request, slug):
    client = _client(request, slug)
    if not client.synced:
        return error_response(request, f"{client.name} is a local file: there is nothing to sync.",
                              status=400)
    services.sync_request(client=client, actor=request.user)
    return _after(request, client)


@require_POST
def sync_rebuild(request, slug):
    client = _client(request, slug)
    services.index_rebuild_request(client=client, actor=request.user)
    return _after(request, client)


@client_view
def freshness_badge(request, handle):
    """The freshness badge of a synced client database (polled by every page)."""
    client = handle.client
    if not client.synced:
        return respond(request, "memories/_badge.html", {"badge": None}, data={"synced": False})
    badge = selectors.sync_badge(client=client, state=SyncState.objects.filter(client=client).first(),
                                 rm=handle.readmodel, now=timezone.now())
    # `since`: the stamp the page was rendered with; a newer one means the page shows old data.
    since = request.GET.get("since", "")[:40]
    badge["updated"] = bool(since) and since != badge["stamp"]
    if since:
        badge["stamp"] = since
    return respond(request, "memories/_badge.html", {"badge": badge, "client": client},
                   data={"synced": True, **badge})
