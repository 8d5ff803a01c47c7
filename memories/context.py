from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from .access import can_edit, switchable
from .models import SyncState
from .sync.selectors import sync_badge


def kb(request):
    """The user's role in the current client database, for showing or hiding edit controls,
    the freshness badge of a synced client database, and the databases the header's switcher
    lists. ``client`` is here too, so that pages rendered without a view's context (error pages)
    keep the database's menu; a view's own ``client`` wins over it."""
    role = getattr(request, "kb_role", None)
    user = getattr(request, "user", None)
    context = {"kb_role": role, "can_edit": can_edit(role), "sync_badge": None,
               "kb_clients": SimpleLazyObject(lambda: switchable(user)) if user is not None else []}
    if getattr(request, "kb_client", None) is not None:
        context["client"] = request.kb_client
    handle = getattr(request, "kb", None)
    if handle is not None:
        context["client"] = handle.client
        if handle.synced:
            context["sync_badge"] = sync_badge(client=handle.client, state=SyncState.objects.filter(
                client=handle.client).first(), rm=handle.readmodel, now=timezone.now())
    return context
