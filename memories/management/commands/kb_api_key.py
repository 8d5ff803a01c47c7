"""Make or revoke an API key of a client database, for scripts and CI.

    manage.py kb_api_key --client team --role write --name ci [--expires-days 30]   # prints the key alone
    manage.py kb_api_key --client team --revoke ci
"""
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.utils import timezone

from memories.agents.keys import KeyProblem, api_key_create, api_key_revoke
from memories.models import ApiKey
from memories.store.registry import get_client


class _Console:
    """The actor of a command run: no user (the audit entry shows none)."""
    is_authenticated = False


class Command(BaseCommand):
    help = "Create an API key of a client database (printed once, on its own line) or revoke one."

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True)
        parser.add_argument("--name", help="The key's name (unique in the client database).")
        parser.add_argument("--role", choices=["read", "write"], default="read")
        parser.add_argument("--expires-days", type=int)
        parser.add_argument("--revoke", metavar="NAME", help="Revoke the key of this name instead.")

    def handle(self, *args, client, name, role, expires_days, revoke, **options):
        try:
            database = get_client(client)
        except Http404 as exc:
            raise CommandError(str(exc)) from None
        if revoke:
            key = ApiKey.objects.filter(client=database, name=revoke).first()
            if key is None:
                raise CommandError(f"{database.slug} has no key named {revoke!r}.")
            api_key_revoke(key=key, actor=_Console())
            self.stderr.write(f"Revoked key {key.name} ({key.prefix}…) of {database.slug}.")
            return
        if not name:
            raise CommandError("--name is required to create a key.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            _, raw = api_key_create(client=database, actor=_Console(), name=name, role=role,
                                    expires_at=expires_at)
        except KeyProblem as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(raw)
