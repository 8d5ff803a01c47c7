import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from memories.devdata.loader import load_graph
from memories.forms import ClientDatabaseForm
from memories.models import ClientDatabase
from memories.store.canonical import StoreError
from memories.store.registry import default_memory_path, ensure_default_client, handle_for
from memories.sync.primary import Primary, RemoteError, resolve_token
from memories.sync.services import synced_client_save


class Command(BaseCommand):
    help = ("Prepare a fresh site: register the default client database, create the demo memory graph "
            "when KB_MEMORY_DB is not set, build the read model, and make sure an admin user exists.")

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Where the site will be served.")

    def handle(self, *args, url, **options):
        path = default_memory_path()
        if not settings.KB_MEMORY_DB and not path.exists():
            from memories.devdata.demo import demo_graph

            path.parent.mkdir(parents=True, exist_ok=True)
            memories, relationships = demo_graph()
            load_graph(str(path), memories, relationships)
            self.stdout.write(f"Created a demo memory graph: {len(memories)} memories, "
                              f"{len(relationships)} relationships in {path}")
        client = ensure_default_client()
        try:
            handle = handle_for(client)
            if not handle.readmodel.is_built(handle.store.path):
                result = handle.rebuild()
                self.stdout.write(f"Indexed {result['memories']:,} memories in {result['seconds']} s.")
            handle.ensure_fresh()
        except StoreError as exc:
            raise CommandError(str(exc)) from exc
        self._synced_client()
        self._admin(url)

    def _synced_client(self):
        """KB_PRIMARY_URL registers a synced client database on that primary (compose, CI)."""
        url = os.environ.get("KB_PRIMARY_URL", "").strip()
        if not url:
            return
        slug = os.environ.get("KB_PRIMARY_SLUG", "team").strip()
        token_ref = os.environ.get("KB_PRIMARY_TOKEN_REF", "").strip() or (
            "env:KB_PRIMARY_TOKEN" if os.environ.get("KB_PRIMARY_TOKEN") else "")
        existing = ClientDatabase.objects.filter(slug=slug).first()
        if existing and existing.remote_url == url and existing.token_ref == token_ref:
            return
        try:
            empty = Primary(url, resolve_token(token_ref)).check_memorygraph(allow_empty=True)
        except RemoteError as exc:
            raise CommandError(f"KB_PRIMARY_URL: {exc}") from exc
        form = ClientDatabaseForm({
            "slug": slug, "name": os.environ.get("KB_PRIMARY_NAME", slug.capitalize()),
            "mode": ClientDatabase.MODE_SYNCED, "source": "new" if empty else "existing",
            "remote_url": url, "token_ref": token_ref,
            "sync_interval": os.environ.get("KB_PRIMARY_INTERVAL", "3"),
            "path": existing.path if existing else "",
        }, instance=existing)
        if not form.is_valid():
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
            raise CommandError(f"Cannot register the synced client database {slug!r}: {problems}")
        client = synced_client_save(client=form.save(commit=False), schema_at_primary=form.schema_at_primary)
        self.stdout.write(f"Synced client database {client.slug!r} <-> {url} (replica {client.path}); "
                          "`manage.py kb_sync` keeps it in step.")

    def _admin(self, url):
        User = get_user_model()
        password_file = settings.DATA_DIR / "admin-password.txt"
        if not User.objects.filter(username="admin").exists():
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser("admin", "", password)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        if password_file.exists():
            password = password_file.read_text().strip()
            self.stdout.write(self.style.SUCCESS(
                f"\n  Log in at {url}/accounts/login/ as admin / {password}\n"
                f"  (password kept in {password_file}; change it with: manage.py changepassword admin)\n"))
