"""Forms validate every request parameter before a selector or service sees it."""
import os
import re

from django import forms
from django.conf import settings

from .format import CONTENT_MAX, IMPORTANCE_BANDS, MEMORY_TYPES, REL_CATEGORIES, SUMMARY_MAX, TITLE_MAX
from .models import ClientDatabase
from .selectors import VERSION_DIGEST, Filters, decode_cursor, is_timestamp
from .sql import SORTS
from .store import registry
from .store.canonical import CanonicalStore, StoreError
from .sync.forms import SyncedClientFields

TYPE_CHOICES = [(t, t.replace("_", " ")) for t in MEMORY_TYPES]
REL_CHOICES = [(cat.capitalize(), [(t, t) for t in types]) for cat, types in REL_CATEGORIES.items()]


def split_list(text):
    return [part.strip() for part in re.split(r"[,\n]", text or "") if part.strip()]


class FilterForm(forms.Form):
    """Browse and search state: everything lives in the URL."""

    q = forms.CharField(required=False, max_length=500, strip=False)
    type = forms.MultipleChoiceField(required=False, choices=TYPE_CHOICES)
    tag = forms.CharField(required=False, max_length=100)  # repeated; read with getlist
    project = forms.CharField(required=False, max_length=1000)
    band = forms.ChoiceField(required=False, choices=[(b, b) for b in IMPORTANCE_BANDS])
    month = forms.RegexField(
        required=False, regex=r"^\d{4}-\d{2}$", error_messages={"invalid": "Use YYYY-MM."}
    )
    unresolved = forms.BooleanField(required=False)
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in SORTS])
    after = forms.CharField(required=False, max_length=500)
    page = forms.IntegerField(required=False, min_value=1, max_value=500)

    def __init__(self, data, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.tags = tuple(dict.fromkeys(t.strip().lower() for t in data.getlist("tag") if t.strip()))[:10]

    def clean_after(self):
        text = self.cleaned_data["after"]
        if not text:
            return None
        cursor = decode_cursor(text)
        if cursor is None:
            raise forms.ValidationError("This page link is not valid; start from the first page.")
        return cursor

    def filters(self):
        data = self.cleaned_data
        return Filters(
            types=tuple(data["type"]), tags=self.tags,
            project=self.data.get("project") if "project" in self.data else None, band=data["band"] or None,
            month=data["month"] or None, unresolved=data["unresolved"],
        )


class MemoryForm(forms.Form):
    type = forms.ChoiceField(choices=TYPE_CHOICES)
    title = forms.CharField(max_length=TITLE_MAX)
    summary = forms.CharField(
        required=False, max_length=SUMMARY_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    content = forms.CharField(
        max_length=CONTENT_MAX, strip=False, widget=forms.Textarea(attrs={"rows": 14}), help_text="Markdown."
    )
    tags = forms.CharField(required=False, help_text="Comma-separated; stored lowercase.")
    importance = forms.FloatField(min_value=0, max_value=1, initial=0.5)
    confidence = forms.FloatField(min_value=0, max_value=1, initial=0.8)
    project_path = forms.CharField(required=False, max_length=1000, label="Project path")
    languages = forms.CharField(required=False, help_text="Comma-separated.")
    frameworks = forms.CharField(required=False, help_text="Comma-separated.")
    git_branch = forms.CharField(required=False, max_length=200, label="Git branch")

    def fields_for_service(self):
        data = dict(self.cleaned_data)
        data.pop("updated_at", None)
        data["tags"] = split_list(data["tags"])
        data["languages"] = split_list(data["languages"])
        data["frameworks"] = split_list(data["frameworks"])
        return data

    @classmethod
    def initial_from(cls, memory):
        context = memory["context"]
        return {
            "type": memory["type"], "title": memory["title"], "summary": memory["summary"],
            "content": memory["content"], "tags": ", ".join(memory["tags"]),
            "importance": memory["importance"], "confidence": memory["confidence"],
            "project_path": context.get("project_path", ""), "languages": context.get("languages", ""),
            "frameworks": context.get("frameworks", ""), "git_branch": context.get("git_branch", ""),
        }


RELOAD = "nothing was saved. Reload the edit page and make your change again."


class MemoryEditForm(MemoryForm):
    """An edit names the version it was made on; without one, the conflict check could not
    tell a newer change from the one the editor saw, so it is refused."""

    updated_at = forms.CharField(
        widget=forms.HiddenInput,
        max_length=100,
        error_messages={
            "required": "This edit does not say which version of the memory it was made on (updated_at); "
                        f"{RELOAD}",
            "max_length": f"This edit's version (updated_at) is not valid; {RELOAD}",
        },
    )

    def clean_updated_at(self):
        version = self.cleaned_data["updated_at"]
        digest = version.removeprefix(VERSION_DIGEST)
        if not (is_timestamp(version) or (digest != version and re.fullmatch(r"[0-9a-f]{64}", digest))):
            raise forms.ValidationError(f"This edit's version (updated_at) is not valid; {RELOAD}")
        return version


class RelationshipForm(forms.Form):
    direction = forms.ChoiceField(
        choices=[("out", "this memory → other"), ("in", "other → this memory")], initial="out"
    )
    rel_type = forms.ChoiceField(choices=REL_CHOICES, label="Relationship")
    other = forms.CharField(
        max_length=300, label="Other memory", help_text="A memory id, or the address of its page."
    )
    strength = forms.FloatField(min_value=0, max_value=1, initial=0.5)
    confidence = forms.FloatField(min_value=0, max_value=1, initial=0.8)
    context = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_other(self):
        text = self.cleaned_data["other"].strip().rstrip("/")
        return text.rsplit("/", 1)[-1]


class TagForm(forms.Form):
    tag = forms.CharField(max_length=100)
    action = forms.ChoiceField(choices=[("add", "add"), ("remove", "remove")])


class TagRenameForm(forms.Form):
    old = forms.CharField(max_length=100, label="Tag")
    new = forms.CharField(
        max_length=100, label="New name", help_text="If a tag of that name exists, the two are merged."
    )


class BulkTagForm(forms.Form):
    tag = forms.CharField(max_length=100)


class ClientDatabaseForm(SyncedClientFields, forms.ModelForm):
    """A new client database: a local memorygraph file (new or existing), a new synced
    database on a primary (schema applied at the primary), or a replica of an existing one.

    It validates only, creating nothing: saving is ``services.local_client_save`` or
    ``sync.services.synced_client_save``, which make the file or the primary's schema the form
    found missing."""

    path = forms.CharField(
        required=False, max_length=1000,
        help_text="An absolute path, of no other client database's file. Local: path of the memorygraph "
        "file; empty makes a new file under KB_DATA_DIR/clients/, and a path that does not exist yet "
        "becomes a new file with the memorygraph schema (an existing file must already be one). "
        "Synced: path of the replica; empty means KB_DATA_DIR/replicas/<slug>.db.",
    )

    class Meta:
        model = ClientDatabase
        fields = [
            "slug", "name", "mode", "source", "path", "remote_url", "token_ref", "sync_interval", "archived",
        ]
        help_texts = {
            "token_ref": "Synced only: where the auth token is read from, env:KB_…TOKEN… (or a "
            "variable listed in KB_TOKEN_ENV_ALLOW) or file:/path in KB_SECRETS_DIR. "
            "The token itself is never stored here."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mode"].required = False
        self.fields["sync_interval"].required = False

    def clean(self):
        data = super().clean()
        data["mode"] = data.get("mode") or ClientDatabase.MODE_LOCAL
        if data.get("sync_interval") is None:
            data["sync_interval"] = ClientDatabase._meta.get_field("sync_interval").default
        slug = data.get("slug")
        synced = data.get("mode") == ClientDatabase.MODE_SYNCED
        default = bool(slug and not data.get("path"))
        if default:  # its folder is made when the database is saved
            data["path"] = str(settings.DATA_DIR / ("replicas" if synced else "clients") / f"{slug}.db")
        if data.get("path"):
            data["path"] = self._confined_path(data["path"], slug)
        if synced:
            self._clean_synced(data)
        elif data.get("path"):
            self._check_file(data["path"], default)
        return data

    def _confined_path(self, path, slug):
        """The real path, kept so that a link re-pointed later cannot move the database; refused
        when relative or when it is (a side file of) another client database's file."""
        if not os.path.isabs(path):
            raise forms.ValidationError(
                {"path": "Give an absolute path (starting with /); relative paths and ~ are refused."}
            )
        stem = registry.file_stem(path)
        owner = registry.files_in_use(exclude_pk=self.instance.pk).get(stem)
        if owner:
            raise forms.ValidationError(
                {
                    "path": f"{path} is already a file of the client database {owner}; "
                    "two client databases never share a file."
                }
            )
        if slug and stem == registry.file_stem(ClientDatabase(slug=slug).readmodel_path):
            raise forms.ValidationError(
                {
                    "path": f"{path} is where this client database keeps its read model "
                    "(search index); choose another file."
                }
            )
        return os.path.realpath(path)

    def _check_file(self, path, default):
        """An existing file must already be a memorygraph database (it is opened to read its tables,
        never initialised); only a path that does not exist yet, in a folder that does (or in the
        default one, made on saving), may become a new one."""
        exists = os.path.lexists(path)
        if exists and not os.path.isfile(path):
            raise forms.ValidationError({"path": f"{path} is not a file."})
        if not exists:
            folder = os.path.dirname(path)
            if not default and not os.path.isdir(folder):
                raise forms.ValidationError({"path": f"The folder {folder} does not exist."})
            if os.path.isdir(folder) and not os.access(folder, os.W_OK | os.X_OK):
                raise forms.ValidationError(
                    {"path": f"The folder {folder} is not writable: {path} cannot be made there."}
                )
            return
        try:
            CanonicalStore(path).close()
        except (StoreError, OSError) as exc:
            raise forms.ValidationError({"path": str(exc)}) from exc


class ExportForm(forms.Form):
    """What to download and of what; the selection's own parameters (q and filters, or a
    graph view) are validated by FilterForm and GraphForm."""

    FORMATS = ("json", "sqlite", "csv", "markdown")
    SCOPES = ("all", "search", "graph")
    format = forms.ChoiceField(
        choices=[(f, f) for f in FORMATS],
        error_messages={"required": "Choose format=json, sqlite, csv or markdown."},
    )
    scope = forms.ChoiceField(required=False, choices=[(s, s) for s in SCOPES])
