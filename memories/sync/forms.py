"""The synced half of the client database form (ClientDatabaseForm in memories/forms.py): the
primary's URL, the reference its auth token is read from, and what the primary must hold.

It validates only: it reads the primary but writes nothing there. A new database's schema is
applied by ``sync.services.synced_client_save`` when the database is saved.
"""
import os

from django import forms

from .primary import Primary, RemoteError, resolve_token, token_source


class SyncedClientFields(forms.Form):
    """Mixed into ClientDatabaseForm, a ModelForm of ClientDatabase whose ``instance`` it reads.
    After ``is_valid()``, ``schema_at_primary`` is True when the primary of a new database was
    found empty, so the memorygraph schema is to be applied there when it is saved."""

    NEW, EXISTING = "new", "existing"
    source = forms.ChoiceField(
        choices=[(NEW, "Synced: a new database on the primary "
                        "(empty; the memorygraph schema is applied there)"),
                 (EXISTING, "Synced: a replica of an existing memorygraph database on the primary")],
        initial=NEW, required=False, help_text="Synced databases only.")
    schema_at_primary = False

    def _clean_synced(self, data):
        url = (data.get("remote_url") or "").strip()
        if not url:
            raise forms.ValidationError({"remote_url": "A synced database needs the URL of its primary."})
        if not url.startswith(("http://", "https://", "libsql://")):
            raise forms.ValidationError(
                {"remote_url": "Use libsql://<db>.turso.io, https://… or http://host:port."})
        if (data.get("sync_interval") or 0) < 0.2:
            raise forms.ValidationError(
                {"sync_interval": "Sync at most five times a second (0.2 s or more)."})
        unchanged = self.instance.pk and url == self.instance.remote_url and \
            data.get("token_ref", "") == self.instance.token_ref
        try:
            if unchanged:
                # Nothing is read or sent for an unchanged primary; a reference stored before the
                # rules on references existed is still refused.
                if data.get("token_ref"):
                    token_source(data["token_ref"])
                return
            token = resolve_token(data.get("token_ref"))
        except RemoteError as exc:
            raise forms.ValidationError({"token_ref": str(exc)}) from exc
        if not self.instance.pk and data.get("path") and os.path.exists(data["path"]):
            raise forms.ValidationError(
                {"path": f"{data['path']} already exists; a new replica needs a new path."})
        primary = Primary(url, token)
        try:
            empty = primary.check_memorygraph(allow_empty=data.get("source") != self.EXISTING)
            if data.get("source") != self.EXISTING:
                if not empty:
                    raise RemoteError(f"The primary at {primary.url} already holds a memorygraph database; "
                                      "choose “a replica of an existing memorygraph database”.")
                self.schema_at_primary = True
        except RemoteError as exc:
            raise forms.ValidationError({"remote_url": str(exc)}) from exc
