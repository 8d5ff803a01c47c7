"""Django-side records: the registry of client databases, the audit log, bulk-tag batches.

The memories themselves live in each client's canonical memorygraph file, not here.
"""
from django.conf import settings
from django.db import models


class ClientDatabase(models.Model):
    MODE_LOCAL = "local"
    MODE_SYNCED = "synced"
    MODE_CHOICES = [(MODE_LOCAL, "Local memorygraph file"), (MODE_SYNCED, "Turso Sync replica")]

    slug = models.SlugField(unique=True, max_length=64)
    name = models.CharField(max_length=200)
    mode = models.CharField(max_length=16, choices=MODE_CHOICES, default=MODE_LOCAL)
    path = models.CharField(
        max_length=1000, help_text="Path of the memorygraph SQLite file (or of the replica)."
    )
    remote_url = models.CharField(
        max_length=500,
        blank=True,
        help_text="Synced only: the primary, libsql://<db>.turso.io or http://host:port of a tursodb sync "
                  "server.",
    )
    token_ref = models.CharField(
        max_length=300,
        blank=True,
        help_text="Synced only: where the auth token is read from, env:VARIABLE or file:/path. "
        "The token itself is never stored here.",
    )
    sync_interval = models.FloatField(default=3.0, help_text="Synced only: seconds between pull/push runs.")
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def readmodel_path(self):
        return settings.DATA_DIR / "index" / f"{self.slug}.sqlite3"

    @property
    def synced(self):
        return self.mode == self.MODE_SYNCED


class SyncState(models.Model):
    """What the sync worker last saw of one synced client database (one row per database)."""

    client = models.OneToOneField(ClientDatabase, on_delete=models.CASCADE, related_name="sync_state")
    revision = models.CharField(max_length=100, blank=True)
    last_pull_at = models.DateTimeField(null=True)
    last_push_at = models.DateTimeField(null=True)
    last_ok_at = models.DateTimeField(
        null=True, help_text="End of the last run that pushed and pulled without error."
    )
    cdc_operations = models.IntegerField(default=0)
    bytes_sent = models.BigIntegerField(default=0)
    bytes_received = models.BigIntegerField(default=0)
    last_error = models.TextField(blank=True)
    error_since = models.DateTimeField(null=True)
    memories = models.IntegerField(default=0)
    relationships = models.IntegerField(default=0)
    readmodel_refreshed_at = models.DateTimeField(null=True)
    heartbeat_at = models.DateTimeField(
        null=True, help_text="The owning sync worker is alive while this moves."
    )
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the owning worker.")
    sync_requested_at = models.DateTimeField(null=True)
    rebuild_requested_at = models.DateTimeField(null=True)
    rebuild_progress = models.CharField(max_length=200, blank=True)


class SyncRun(models.Model):
    """One pull/push run of the sync worker, kept for the history chart."""

    client = models.ForeignKey(ClientDatabase, on_delete=models.CASCADE, related_name="sync_runs")
    started_at = models.DateTimeField(db_index=True)
    duration_ms = models.FloatField(default=0)
    pulled = models.BooleanField(default=False, help_text="The pull brought changes.")
    pushed = models.IntegerField(default=0, help_text="Outbox changes pushed and verified at the primary.")
    pending = models.IntegerField(default=0, help_text="Changes still waiting for the primary after the run.")
    lag_s = models.FloatField(
        default=0,
        help_text="Age of the oldest change not yet on the primary, or of "
        "the last good sync when the primary is unreachable.",
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]


class AuditEntry(models.Model):
    """One write: who, when, what, and the row before and after (memorygraph properties)."""

    client = models.ForeignKey(ClientDatabase, on_delete=models.CASCADE, related_name="audit")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    # A write made with an API key: the key (actor is its creator) and its name, kept if the key goes.
    api_key = models.ForeignKey("ApiKey", null=True, blank=True, on_delete=models.SET_NULL)
    via_key = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, db_index=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"


class TagBatch(models.Model):
    """A bulk tagging of a search/filter result, kept so that it can be undone."""

    client = models.ForeignKey(ClientDatabase, on_delete=models.CASCADE)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    tag = models.CharField(max_length=100)
    selection = models.CharField(max_length=1000, help_text="The query string that selected the memories.")
    memory_ids = models.JSONField(help_text="Memories that gained the tag (and lose it on undo).")
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "tag batches"


class Membership(models.Model):
    """A user's role in one client database. Superusers act as admins everywhere."""

    VIEWER, EDITOR, ADMIN = "viewer", "editor", "admin"
    ROLE_CHOICES = [(VIEWER, "Viewer (read)"), (EDITOR, "Editor (write, tag)"), (ADMIN, "Admin (manage)")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    client = models.ForeignKey(ClientDatabase, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=ROLE_CHOICES, default=VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="one_role_per_client")]

    def __str__(self):
        return f"{self.user} · {self.client} · {self.role}"


class ImportJob(models.Model):
    """An uploaded file on its way into a client database: previewed, then run with progress."""

    PREVIEW, RUNNING, DONE, FAILED, DISCARDED = "preview", "running", "done", "failed", "discarded"
    EXPIRED = "expired"  # its upload was removed KB_UPLOAD_KEEP_HOURS after it came (interrupted ones too)
    STATUS_CHOICES = [(s, s) for s in (PREVIEW, RUNNING, DONE, FAILED, DISCARDED, EXPIRED)]
    LIVE = (PREVIEW, RUNNING, FAILED)  # the states whose upload is kept

    client = models.ForeignKey(ClientDatabase, on_delete=models.CASCADE, related_name="imports")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=255)
    path = models.CharField(
        max_length=1000, help_text="The stored upload (deleted once imported, discarded or expired)."
    )
    size = models.BigIntegerField(default=0)
    source = models.CharField(max_length=200, blank=True)
    preview = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=PREVIEW)
    done = models.IntegerField(default=0)
    total = models.IntegerField(default=0)
    result = models.JSONField(default=dict)
    message = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created_at"]


class ApiKey(models.Model):
    """A key an agent sends as X-API-Key (or Bearer) to one client database; only its hash is kept.

    Keys are 32 random bytes, so a fast sha256 is the right hash (no password to stretch).
    """

    READ, WRITE = "read", "write"
    ROLE_CHOICES = [(READ, "Read (viewer)"), (WRITE, "Write (editor)")]

    client = models.ForeignKey(ClientDatabase, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=8, choices=ROLE_CHOICES, default=READ)
    prefix = models.CharField(max_length=16, help_text="The key's first characters, for telling keys apart.")
    hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="api_keys"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_address = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="one_key_name_per_client")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class ApiRate(models.Model):
    """Requests of one key in one fixed minute, read and write apart: shared by every web worker.

    Each worker adds its own count with one indexed UPSERT at most once a second, and at every
    request once a key nears its limit (agents/keys.py); old windows are pruned now and then.
    """

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE)
    kind = models.CharField(max_length=1)  # "r" or "w"
    minute = models.BigIntegerField(help_text="Unix time // 60 of the window.")
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "kind", "minute"], name="one_rate_window")]
