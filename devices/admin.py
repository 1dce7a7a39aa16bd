"""The device map in the admin (endpoints → their machines → signals), downtime reasons, and
read-only views of what the machines recorded (state intervals, counters, counted parts).

Who sees and edits what is the permission policy's (core.policy.PolicyBackend): maintenance
keeps the map, supervisors and maintenance the downtime reasons. A whole map is loaded and
exported with `manage.py devices_load` (or POST /api/v1/devices/map/), which checks it as a
file; edits here are checked by the models' own rules (a signal names a node or an address).
"""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from . import models
from .services.devicemap import endpoint_delete, link_delete

# Kept by the gateway, never typed in.
LINK_LIVE = ("connected", "last_seen_at", "since")


class EquipmentLinkInline(admin.TabularInline):
    model = models.EquipmentLink
    extra = 0
    fields = ("equipment", "unit", *LINK_LIVE)
    readonly_fields = LINK_LIVE
    autocomplete_fields = ("equipment",)
    show_change_link = True


@admin.register(models.Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "protocol", "url", "host", "port", "enabled", "loaded_at")
    list_filter = ("protocol", "enabled")
    search_fields = ("name", "url", "host", "links__equipment__code")
    readonly_fields = ("loaded_at",)
    inlines = [EquipmentLinkInline]

    # Removing an endpoint or a machine's link goes through the map service, which removes
    # the machine's counters with it (as `devices_load` does when a map drops a machine).
    def delete_model(self, request, obj):
        endpoint_delete(endpoint=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            endpoint_delete(endpoint=endpoint, by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not models.EquipmentLink:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for link in formset.deleted_objects:
            link_delete(link=link, by=request.user)
        for link in instances:
            link.save()
        formset.save_m2m()


class SignalInline(admin.TabularInline):
    model = models.Signal
    extra = 0
    fields = (
        "name",
        "node",
        "table",
        "address",
        "data_type",
        "word_order",
        "scale",
        "offset",
        "state_map",
    )


@admin.register(models.EquipmentLink)
class EquipmentLinkAdmin(admin.ModelAdmin):
    list_display = ("equipment", "endpoint", "unit", *LINK_LIVE)
    list_filter = ("endpoint", "connected")
    search_fields = ("equipment__code", "endpoint__name")
    list_select_related = ("equipment", "endpoint")
    readonly_fields = LINK_LIVE
    autocomplete_fields = ("equipment",)
    inlines = [SignalInline]

    def delete_model(self, request, obj):
        link_delete(link=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for link in queryset.select_related("equipment"):
            link_delete(link=link, by=request.user)


@admin.register(models.DowntimeReason)
class DowntimeReasonAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "loss", "active")
    list_filter = ("loss", "active")
    search_fields = ("code", "name")


@admin.register(models.StateInterval)
class StateIntervalAdmin(ReadOnlyAdmin):
    """The machines' state record: written by the gateway, reasons given at the terminal."""

    list_display = ("equipment", "state", "start", "end", "small_stop", "reason", "reason_by")
    list_filter = ("state", "small_stop", "equipment")
    search_fields = ("equipment__code", "reason__code", "reason_note")
    list_select_related = ("equipment", "reason", "reason_by")
    date_hierarchy = "start"


@admin.register(models.Counter)
class CounterAdmin(ReadOnlyAdmin):
    """Counted totals per machine since the map linked it (through resets and wrap-around)."""

    list_display = ("equipment", "signal", "total", "posted", "last_raw", "last_at", "wraps")
    list_filter = ("signal",)
    search_fields = ("equipment__code",)
    list_select_related = ("equipment",)


@admin.register(models.ProductionCount)
class ProductionCountAdmin(ReadOnlyAdmin):
    """Parts counted between two reads (append-only)."""

    list_display = ("equipment", "at", "total", "good", "operation_id")
    list_filter = ("equipment",)
    search_fields = ("equipment__code",)
    list_select_related = ("equipment",)
    date_hierarchy = "at"


@admin.register(models.CountHour)
class CountHourAdmin(ReadOnlyAdmin):
    """The part counts summed per machine and hour, kept with every count (what OEE reads)."""

    list_display = ("equipment", "hour", "rated", "parts", "ideal_seconds", "last_at")
    list_filter = ("equipment",)
    search_fields = ("equipment__code",)
    list_select_related = ("equipment",)
    date_hierarchy = "hour"
