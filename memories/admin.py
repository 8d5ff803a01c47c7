from django import forms
from django.conf import settings
from django.contrib import admin, messages

from .connector import CanonicalStore, StoreError
from .models import AuditEntry, ClientDatabase, Membership, TagBatch
from .registry import handle_for


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


class ClientDatabaseForm(forms.ModelForm):
    """A new client database: a new memorygraph file (schema created) or an existing one (checked)."""

    path = forms.CharField(
        required=False, max_length=1000,
        help_text="Path of the memorygraph file. Empty: a new file under KB_DATA_DIR/clients/. "
                  "A path that does not exist yet becomes a new file with the memorygraph schema.")

    class Meta:
        model = ClientDatabase
        fields = ["slug", "name", "path", "archived"]

    def clean(self):
        data = super().clean()
        slug = data.get("slug")
        if slug and not data.get("path"):
            folder = settings.DATA_DIR / "clients"
            folder.mkdir(parents=True, exist_ok=True)
            data["path"] = str(folder / f"{slug}.db")
        path = data.get("path")
        if path:
            try:
                CanonicalStore(path, create=True).close()
            except (StoreError, OSError) as exc:
                raise forms.ValidationError({"path": str(exc)})
        return data


@admin.register(ClientDatabase)
class ClientDatabaseAdmin(admin.ModelAdmin):
    form = ClientDatabaseForm
    list_display = ("slug", "name", "mode", "path", "archived")
    list_filter = ("archived",)
    inlines = [MembershipInline]
    actions = ["archive", "restore", "rebuild_index"]

    @admin.action(description="Archive (hide from everyone, keep the file)")
    def archive(self, request, queryset):
        count = queryset.update(archived=True)
        self.message_user(request, f"Archived {count} client database(s).")

    @admin.action(description="Restore archived databases")
    def restore(self, request, queryset):
        count = queryset.update(archived=False)
        self.message_user(request, f"Restored {count} client database(s).")

    @admin.action(description="Rebuild the search index (read model)")
    def rebuild_index(self, request, queryset):
        for client in queryset:
            try:
                result = handle_for(client).rebuild()
            except StoreError as exc:
                self.message_user(request, f"{client.slug}: {exc}", level=messages.ERROR)
            else:
                self.message_user(request, f"{client.slug}: indexed {result['memories']:,} memories "
                                           f"in {result['seconds']} s.")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "client", "role")
    list_filter = ("client", "role")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "client", "actor", "action", "object_id")
    list_filter = ("client", "action")
    search_fields = ("object_id",)


@admin.register(TagBatch)
class TagBatchAdmin(admin.ModelAdmin):
    list_display = ("created_at", "client", "tag", "actor", "undone_at")
