"""Django-side records: the registry of client databases, the audit log, bulk-tag batches.

The memories themselves live in each client's canonical memorygraph file, not here.
"""
from django.conf import settings
from django.db import models


class ClientDatabase(models.Model):
    MODE_LOCAL = "local"
    MODE_CHOICES = [(MODE_LOCAL, "Local memorygraph file")]

    slug = models.SlugField(unique=True, max_length=64)
    name = models.CharField(max_length=200)
    mode = models.CharField(max_length=16, choices=MODE_CHOICES, default=MODE_LOCAL)
    path = models.CharField(max_length=1000, help_text="Path of the memorygraph SQLite file.")
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def readmodel_path(self):
        return settings.DATA_DIR / "index" / f"{self.slug}.sqlite3"


class AuditEntry(models.Model):
    """One write: who, when, what, and the row before and after (memorygraph properties)."""

    client = models.ForeignKey(ClientDatabase, on_delete=models.CASCADE, related_name="audit")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, db_index=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)

    class Meta:
        ordering = ["-at", "-id"]


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
