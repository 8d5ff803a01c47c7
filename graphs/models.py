"""Embed links: signed, read-only, revocable tokens for one graph view of one client database."""
from django.conf import settings
from django.core import signing
from django.db import models
from django.utils import timezone

from memories.models import ClientDatabase

SALT = "kb.graphs.embed"


class EmbedToken(models.Model):
    client = models.ForeignKey(ClientDatabase, on_delete=models.CASCADE, related_name="embeds")
    view = models.CharField(max_length=2000, help_text="The graph view's query string (its whole state).")
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def token(self):
        return signing.dumps({"e": self.pk, "c": self.client.slug}, salt=SALT, compress=True)

    def problem(self, now=None):
        """Why this embed may not be shown now, or None."""
        now = now or timezone.now()
        if self.revoked_at:
            return "This embed link was revoked."
        if self.expires_at and self.expires_at <= now:
            return f"This embed link expired on {self.expires_at:%Y-%m-%d %H:%M} UTC."
        if self.client.archived:
            return "The database behind this embed link is archived."
        return None

    @classmethod
    def from_token(cls, token):
        """The EmbedToken a signed token names; raises signing.BadSignature or DoesNotExist."""
        data = signing.loads(token, salt=SALT)
        return cls.objects.select_related("client").get(pk=data["e"], client__slug=data["c"])
