from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from resources.admin import MasterDataImportExportAdmin
from resources.models import Item

from .engines.bomgraph import bom_find_cycle
from .models import (
    Bom,
    BomLine,
    Forecast,
    ImportJob,
    MpsEntry,
    MrpRun,
    OrderOperation,
    PlannedOrder,
    ProductionOrder,
    PurchaseRequisition,
    Routing,
    RoutingStep,
    SalesOrder,
    ScheduleRun,
)
from .resources import BomResource, RoutingResource
from .services.bom import bom_low_level_codes_update


class BomLineFormSet(BaseInlineFormSet):
    """Refuses lines that would close a cycle in the product structure, before saving."""

    def clean(self):
        super().clean()
        parent = self.instance.item_id
        if parent is None:
            return
        edges = list(
            BomLine.objects.exclude(bom=self.instance.pk)
            .values_list("bom__item_id", "component_id")
            .distinct()
        )
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or not data.get("component"):
                continue
            edges.append((parent, data["component"].pk))
        cycle = bom_find_cycle(edges)
        if cycle:
            codes = dict(Item.objects.filter(pk__in=set(cycle)).values_list("pk", "code"))
            raise ValidationError(
                gettext("BOM cycle: %(path)s.") % {"path": " → ".join(codes[pk] for pk in cycle)}
            )


class BomLineInline(admin.TabularInline):
    model = BomLine
    fk_name = "bom"
    formset = BomLineFormSet
    extra = 0
    autocomplete_fields = ("component",)


@admin.register(Bom)
class BomAdmin(MasterDataImportExportAdmin):
    # Import/export is by BOM line (one row per line); the BOM is created from the rows.
    resource_classes = [BomResource]
    list_display = ("item", "version", "base_quantity", "effective_from", "effective_to")
    list_filter = ("version",)
    search_fields = ("item__code", "item__name", "lines__component__code")
    autocomplete_fields = ("item",)
    inlines = [BomLineInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        bom_low_level_codes_update()


class RoutingStepInline(admin.TabularInline):
    model = RoutingStep
    extra = 0
    autocomplete_fields = ("eligible_equipment",)


@admin.register(Routing)
class RoutingAdmin(MasterDataImportExportAdmin):
    # Import/export is by routing step (one row per step); the routing is created from them.
    resource_classes = [RoutingResource]
    list_display = ("item", "version", "effective_from", "effective_to")
    search_fields = ("item__code", "item__name")
    autocomplete_fields = ("item",)
    inlines = [RoutingStepInline]


@admin.register(SalesOrder)
class SalesOrderAdmin(admin.ModelAdmin):
    list_display = ("number", "customer", "item", "quantity", "due_date", "priority", "status")
    list_filter = ("status", "priority")
    search_fields = ("number", "customer", "item__code")
    autocomplete_fields = ("item",)
    date_hierarchy = "due_date"
    # Execution writes the delay note (a stored text, core/texts.py): shown in the reader's
    # language, not edited here.
    exclude = ("delay_note", "delay_note_id", "delay_note_params")
    readonly_fields = ("delay_note_shown",)

    @admin.display(description=_("delay note"))
    def delay_note_shown(self, obj) -> str:
        return obj.delay_note_shown


@admin.register(Forecast)
class ForecastAdmin(admin.ModelAdmin):
    list_display = ("item", "period_start", "quantity")
    search_fields = ("item__code",)
    autocomplete_fields = ("item",)


@admin.register(MpsEntry)
class MpsEntryAdmin(admin.ModelAdmin):
    list_display = ("item", "period_start", "bucket", "quantity", "note")
    list_filter = ("bucket",)
    search_fields = ("item__code",)
    autocomplete_fields = ("item",)


class OrderOperationInline(admin.TabularInline):
    model = OrderOperation
    extra = 0
    fields = (
        "sequence",
        "name",
        "work_center",
        "equipment",
        "setup_minutes",
        "setup_family",
        "run_minutes_per_unit",
        "status",
        "frozen",
        "planned_start",
        "planned_end",
        "quantity_done",
    )
    readonly_fields = ("status", "quantity_done")


@admin.register(ProductionOrder)
class ProductionOrderAdmin(admin.ModelAdmin):
    """Orders are created and moved through their states by the planning services; the admin
    shows them and lets an administrator correct plain fields."""

    list_display = ("number", "item", "quantity", "due_date", "priority", "status", "planned_end")
    list_filter = ("status", "priority", "item")
    search_fields = ("number", "item__code", "sales_order__number")
    readonly_fields = (
        "status",
        "quantity_done",
        "quantity_scrap",
        "released_at",
        "completed_at",
        "exception_note_shown",
    )
    # Execution writes the exception note (a stored text, core/texts.py): shown in the
    # reader's language, not edited here.
    exclude = ("exception_note", "exception_note_id", "exception_note_params")
    date_hierarchy = "due_date"
    inlines = [OrderOperationInline]

    @admin.display(description=_("exception note"))
    def exception_note_shown(self, obj) -> str:
        return obj.exception_note_shown

    def has_add_permission(self, request):
        return False


@admin.register(PurchaseRequisition)
class PurchaseRequisitionAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "item",
        "quantity",
        "need_date",
        "urgent",
        "status",
        "purchase_order_ref",
        "reason_column",
    )
    list_filter = ("status", "urgent")
    search_fields = ("number", "item__code", "reason", "purchase_order_ref")
    readonly_fields = ("reason_column",)
    exclude = ("reason_id", "reason_params")

    @admin.display(description=_("reason"), ordering="reason")
    def reason_column(self, obj) -> str:
        return obj.reason_shown


class PlannedOrderInline(admin.TabularInline):
    model = PlannedOrder
    extra = 0
    fields = ("item", "kind", "quantity", "start_date", "due_date", "status")
    readonly_fields = fields
    can_delete = False


@admin.register(MrpRun)
class MrpRunAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "planning_date", "status", "progress", "created_by")
    list_filter = ("status",)
    readonly_fields = [f.name for f in MrpRun._meta.fields]
    inlines = [PlannedOrderInline]

    def has_add_permission(self, request):
        return False


@admin.register(ScheduleRun)
class ScheduleRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "status",
        "solver_status",
        "weighted_tardiness",
        "makespan_minutes",
        "bound",
        "operation_count",
    )
    list_filter = ("status", "solver_status")
    readonly_fields = [f.name for f in ScheduleRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    """Background imports are started and followed on the Import page (/planning/imports/)."""

    list_display = (
        "id",
        "file_name",
        "kind",
        "status",
        "dry_run",
        "rows_total",
        "new",
        "updated",
        "error_count",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "kind", "dry_run")
    search_fields = ("file_name",)
