from django.contrib import admin

from .models import AuditEntry, ClientDatabase, Membership, TagBatch


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(ClientDatabase)
class ClientDatabaseAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "mode", "path", "archived")
    inlines = [MembershipInline]


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
