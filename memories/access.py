"""Who may do what in a client database: viewer reads, editor writes and tags, admin manages.

A user who is not a member gets a 404 for everything under /c/<client>/ (the database's
existence is not revealed); a member whose role is too low gets a 403.
"""
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import ClientDatabase, Membership

RANK = {Membership.VIEWER: 1, Membership.EDITOR: 2, Membership.ADMIN: 3}


def role_for(user, client):
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Membership.ADMIN
    return Membership.objects.filter(user=user, client=client).values_list("role", flat=True).first()


def require(user, client, needed):
    """The user's role in client, or Http404 / PermissionDenied when it is below `needed`."""
    role = role_for(user, client)
    if role is None:
        raise Http404(f"No client database named {client.slug!r}.")
    if RANK[role] < RANK[needed]:
        raise PermissionDenied(f"Your role in {client.name} is {role}; this needs {needed}.")
    return role


def visible_clients(user):
    clients = ClientDatabase.objects.filter(archived=False)
    if user.is_superuser:
        return clients
    return clients.filter(memberships__user=user)


def can_edit(role):
    return role is not None and RANK[role] >= RANK[Membership.EDITOR]
