from django.contrib import admin

from .models import AuditEntry, ClientDatabase, TagBatch


@admin.register(ClientDatabase)
class ClientDatabaseAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "mode", "path", "archived")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "client", "actor", "action", "object_id")
    list_filter = ("client", "action")
    search_fields = ("object_id",)


@admin.register(TagBatch)
class TagBatchAdmin(admin.ModelAdmin):
    list_display = ("created_at", "client", "tag", "actor", "undone_at")
