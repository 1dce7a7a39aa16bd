from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core.admin import ReadOnlyAdmin

from .models import (
    Characteristic,
    DefectCode,
    DefectRateRule,
    Disposition,
    InspectionPlan,
    InspectionRecord,
    Measurement,
    QualityHold,
    TraceCode,
)
from .services.plans import inspection_plan_new_version


class CharacteristicInline(admin.TabularInline):
    model = Characteristic
    extra = 0
    fields = (
        "name",
        "kind",
        "nominal",
        "lower_tolerance",
        "upper_tolerance",
        "unit",
        "description",
    )

    def _used(self, obj) -> bool:
        return obj is not None and obj.records.exists()

    # A version that has records is history: change it by making a new version.
    def has_change_permission(self, request, obj=None):
        return not self._used(obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return not self._used(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._used(obj) and super().has_delete_permission(request, obj)


@admin.register(InspectionPlan)
class InspectionPlanAdmin(admin.ModelAdmin):
    list_display = ("code", "version", "active", "routing_step", "sampling", "sample_every", "gate")
    list_filter = ("active", "sampling", "gate", "routing_step__work_center")
    search_fields = ("code", "routing_step__routing__item__code", "routing_step__name")
    list_select_related = ("routing_step__routing__item",)
    inlines = [CharacteristicInline]
    actions = ["new_version"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.records.exists():
            return ("code", "version", "routing_step", "sampling", "sample_every", "gate", "active")
        return ("version",) if obj is not None else ()

    @admin.action(
        description=gettext_lazy("Make a new version (copies the characteristics; becomes active)")
    )
    def new_version(self, request, queryset):
        for plan in queryset:
            try:
                new = inspection_plan_new_version(plan=plan, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{plan}: {exc}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(plan)s is now the active plan of %(step)s.")
                % {"plan": new, "step": new.routing_step},
            )


@admin.register(DefectCode)
class DefectCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(DefectRateRule)
class DefectRateRuleAdmin(admin.ModelAdmin):
    list_display = ("work_center", "routing_step", "threshold_pct", "min_sample", "window")
    list_filter = ("work_center",)


class MeasurementInline(admin.TabularInline):
    model = Measurement
    extra = 0
    fields = ("characteristic", "value", "ok", "passed")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(InspectionRecord)
class InspectionRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "plan",
        "order",
        "operation",
        "unit",
        "lot",
        "result",
        "defect_code",
        "inspector",
        "inspected_at",
        "corrects",
    )
    list_filter = ("result", "plan__code", "work_center", "defect_code")
    search_fields = ("external_id", "order__number", "unit__serial", "lot__code")
    list_select_related = ("plan", "order", "operation", "unit", "lot", "defect_code", "inspector")
    date_hierarchy = "inspected_at"
    inlines = [MeasurementInline]
    # A generated reason in the reader's language, a typed one as typed (core/texts.py).
    exclude = ("reason", "reason_id", "reason_params")
    readonly_fields = ("reason_read",)

    @admin.display(description=pgettext_lazy("inspection record", "reason"))
    def reason_read(self, obj) -> str:
        return obj.reason_shown


@admin.register(Disposition)
class DispositionAdmin(ReadOnlyAdmin):
    list_display = (
        "record",
        "decision",
        "decided_by",
        "approved_by",
        "decided_at",
        "quantity_moved",
        "moved_back_at",
    )
    list_filter = ("decision",)
    # What a scrap moved on the counters is written by the scrap and its correction only.
    readonly_fields = (
        "quantity_moved",
        "moved_task",
        "moved_order",
        "moved_back_at",
        "quantity_moved_back",
    )


@admin.register(QualityHold)
class QualityHoldAdmin(ReadOnlyAdmin):
    """Released on the holds page (/quality/holds/) or through the API, with a reason."""

    list_display = (
        "id",
        "routing_step",
        "work_center",
        "equipment",
        "status",
        "defect_rate_pct",
        "sample_size",
        "placed_at",
        "released_by",
    )
    list_filter = ("status", "work_center")
    # The reason in the reader's language in place of its stored forms (core/texts.py).
    exclude = ("reason", "reason_id", "reason_params")
    readonly_fields = ("reason_read",)

    @admin.display(description=pgettext_lazy("quality hold", "reason"))
    def reason_read(self, obj) -> str:
        return obj.reason_shown


@admin.register(TraceCode)
class TraceCodeAdmin(ReadOnlyAdmin):
    """Issued by the trace-code service (labels page, API), never typed in here."""

    list_display = ("code", "item", "unit", "lot", "order", "issued_at", "printed_at")
    search_fields = ("code", "unit__serial", "lot__code", "order__number")
    list_select_related = ("item", "unit", "lot", "order")
