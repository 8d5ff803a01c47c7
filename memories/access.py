"""Who may do what in a client database: viewer reads, editor writes and tags, admin manages.

A user who is not a member gets a 404 for everything under /c/<client>/ (the database's
existence is not revealed); a member whose role is too low gets a 403.
"""
from collections import namedtuple

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from . import sql
from .models import ClientDatabase, Membership
from .store.registry import DEFAULT_SLUG, default_memory_path, get_client

RANK = {Membership.VIEWER: 1, Membership.EDITOR: 2, Membership.ADMIN: 3}
# What the header's switcher shows of a client database.
Switchable = namedtuple("Switchable", "slug name")


def role_for(user, client):
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Membership.ADMIN
    return Membership.objects.filter(user=user, client=client).values_list("role", flat=True).first()


def require(user, client, needed):
    """The user's role in client, or Http404 / PermissionDenied when it is below `needed`."""
    return _checked(client, role_for(user, client), needed)


def _checked(client, role, needed):
    if role is None:
        raise Http404(f"No client database named {client.slug!r}.")
    if RANK[role] < RANK[needed]:
        raise PermissionDenied(f"Your role in {client.name} is {role}; this needs {needed}.")
    return role


def client_and_role(user, slug, needed):
    """The client database of a URL (not archived) and the user's role in it, checked as
    ``require`` checks it. A member's client row comes with the role, in one query instead
    of two on every request (issue 13: a first search's way through Django); get_client(slug)
    finds it for a superuser, who needs no membership, and registers `default` on first use.
    Http404 for a missing or archived database or a non-member alike: a database's existence
    is not revealed."""
    if user.is_authenticated and not user.is_superuser:
        found = list(ClientDatabase.objects.raw(sql.MEMBER_CLIENT, [slug, user.pk]))
        # `default` as get_client would leave it (registered, at KB_MEMORY_DB's path) needs no
        # more; otherwise get_client registers it or points it there (issue 11: its
        # get_or_create ran on every request of `default`, 0.5 ms).
        if found and (slug != DEFAULT_SLUG or found[0].path == str(default_memory_path())):
            return found[0], _checked(found[0], found[0].member_role, needed)
        if slug != DEFAULT_SLUG:
            raise Http404(f"No client database named {slug!r}.")
    client = get_client(slug)
    return client, require(user, client, needed)


def visible_clients(user):
    clients = ClientDatabase.objects.filter(archived=False)
    if user.is_superuser:
        return clients
    return clients.filter(memberships__user=user)


def switchable(user, limit=200):
    """The client databases the user may open (``visible_clients``), by name, at most ``limit``:
    what the header's switcher lists, as (slug, name) pairs."""
    if not user.is_authenticated:
        return []
    with connection.cursor() as cursor:
        if user.is_superuser:
            cursor.execute(sql.SWITCHER_ALL, [limit])
        else:
            cursor.execute(sql.SWITCHER_MEMBER, [user.pk, limit])
        return [Switchable(*row) for row in cursor.fetchall()]


def can_edit(role):
    return role is not None and RANK[role] >= RANK[Membership.EDITOR]
