from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import conditional_escape, format_html

from . import services
from .forms import ClientDatabaseForm
from .models import AuditEntry, ClientDatabase, Membership, SyncRun, TagBatch
from .sync import services as sync_services


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(ClientDatabase)
class ClientDatabaseAdmin(admin.ModelAdmin):
    form = ClientDatabaseForm
    list_display = ("slug", "name", "mode", "path", "remote_url", "archived", "status")
    list_filter = ("archived", "mode")
    inlines = [MembershipInline]
    actions = ["archive", "restore", "rebuild_index"]

    class Media:
        js = ("kb/admin_client.js",)  # hides the synced-only fields while Mode is Local

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        for field in form.base_fields.values():
            # The admin prints help texts as HTML, which ate "<db>" in libsql://<db>.turso.io.
            field.help_text = conditional_escape(field.help_text)
        return form

    def save_model(self, request, obj, form, change):
        # The form only validated; the file or the primary's schema it found missing is made here.
        if obj.synced:
            sync_services.synced_client_save(client=obj, schema_at_primary=form.schema_at_primary)
        else:
            services.local_client_save(client=obj)

    @admin.display(description="Sync status")
    def status(self, client):
        return format_html('<a href="{}#sync-{}">status</a>', reverse("sync_status"), client.slug)

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
        """Queued for the worker like the status page's button: never rebuilt in this web process."""
        for client in queryset:
            try:
                job = sync_services.index_rebuild_request(client=client, actor=request.user)
            except services.Conflict as exc:
                self.message_user(request, f"{client.slug}: {exc}", level=messages.WARNING)
            else:  # the same job as the status page's button queues; its page follows it
                self.message_user(request, format_html(
                    '{}: index rebuild queued for the worker as <a href="{}">job {}</a> '
                    '(<a href="{}">all jobs</a>, <a href="{}">sync status</a>).', client.slug,
                    reverse("job_detail", args=[client.slug, job.pk]), job.pk,
                    reverse("job_list", args=[client.slug]), reverse("sync_status")))


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "client", "role")
    list_filter = ("client", "role")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "client", "actor", "action", "object_id")
    list_filter = ("client", "action")
    search_fields = ("object_id",)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "client", "duration_ms", "pulled", "pushed", "pending", "lag_s", "error")
    list_filter = ("client",)


@admin.register(TagBatch)
class TagBatchAdmin(admin.ModelAdmin):
    list_display = ("created_at", "client", "tag", "actor", "undone_at")
