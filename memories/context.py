from django.utils import timezone

from .access import can_edit
from .models import SyncState
from .selectors import freshness


def kb(request):
    """The user's role in the current client database, for showing or hiding edit controls,
    and the freshness badge of a synced client database."""
    role = getattr(request, "kb_role", None)
    context = {"kb_role": role, "can_edit": can_edit(role), "sync_badge": None}
    handle = getattr(request, "kb", None)
    if handle is not None and handle.synced:
        context["sync_badge"] = freshness(client=handle.client, state=SyncState.objects.filter(
            client=handle.client).first(), rm=handle.readmodel, now=timezone.now())
    return context
