from django.contrib import admin

from .models import AuditEntry, DocumentCounter, OutboxEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledgers and decisions are written by the services (pages, API), never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("id", "topic", "created_at", "dispatched_at", "attempts")
    list_filter = ("topic", ("dispatched_at", admin.EmptyFieldListFilter))
    search_fields = ("topic",)
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail is append-only: shown, never changed or deleted."""

    list_display = ("at", "actor", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "action")


@admin.register(DocumentCounter)
class DocumentCounterAdmin(ReadOnlyAdmin):
    """The last document number of each series: moved only by core.numbering, under a lock."""

    list_display = ("key", "last_value")
    search_fields = ("key",)
