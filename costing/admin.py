"""Cost versions with their rates and prices (kept by cost accountants, with history), and the
roll-up's results, read-only (written by the roll-up service only)."""

from django.contrib import admin, messages
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core.admin import ReadOnlyAdmin
from core.policy import may

from .models import (
    CostRollupRun,
    CostVersion,
    ItemCost,
    ItemCostLine,
    LabourRate,
    LotPrice,
    MachineRate,
    OrderCostEntry,
    OverheadRate,
    PurchasePrice,
    TrainingNeed,
)
from .services.rollup import standard_cost_rollup_run
from .services.versions import cost_version_make_current


class LabourRateInline(admin.TabularInline):
    model = LabourRate
    extra = 0
    autocomplete_fields = ("work_center", "skill")


class MachineRateInline(admin.TabularInline):
    model = MachineRate
    extra = 0
    autocomplete_fields = ("equipment",)


class OverheadRateInline(admin.TabularInline):
    model = OverheadRate
    extra = 0
    autocomplete_fields = ("work_center",)


class PurchasePriceInline(admin.TabularInline):
    model = PurchasePrice
    extra = 0
    autocomplete_fields = ("item",)


@admin.register(CostVersion)
class CostVersionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "effective_from", "is_current")
    search_fields = ("code", "name")
    readonly_fields = ("is_current",)
    inlines = [LabourRateInline, MachineRateInline, OverheadRateInline, PurchasePriceInline]
    actions = ["make_current", "roll_up"]

    @admin.action(description=gettext_lazy("Make the selected version current"))
    def make_current(self, request, queryset):
        if not may(request.user, "costing.costversion", "make_current"):
            self.message_user(request, _("Only a cost accountant may do this."), messages.ERROR)
            return
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one version."), messages.ERROR)
            return
        version = cost_version_make_current(version=queryset.get(), by=request.user)
        self.message_user(
            request, _("%(code)s is now the current cost version.") % {"code": version.code}
        )

    @admin.action(description=gettext_lazy("Roll up standard costs of the selected versions"))
    def roll_up(self, request, queryset):
        if not may(request.user, "costing.rollup", "run"):
            self.message_user(request, _("Only a cost accountant may do this."), messages.ERROR)
            return
        for version in queryset:
            run = standard_cost_rollup_run(version=version, by=request.user)
            level = messages.WARNING if run.items_incomplete else messages.SUCCESS
            self.message_user(
                request,
                _("Roll-up of %(code)s: %(costed)s items costed, %(incomplete)s incomplete.")
                % {
                    "code": version.code,
                    "costed": run.items_costed,
                    "incomplete": run.items_incomplete,
                },
                level,
            )


class _RateAdmin(admin.ModelAdmin):
    list_filter = ("version",)


@admin.register(LabourRate)
class LabourRateAdmin(_RateAdmin):
    list_display = ("version", "work_center", "skill", "skill_level", "rate_per_hour")
    autocomplete_fields = ("work_center", "skill")


@admin.register(MachineRate)
class MachineRateAdmin(_RateAdmin):
    list_display = (
        "version",
        "equipment",
        "depreciation_per_hour",
        "energy_per_hour",
        "maintenance_per_hour",
        "rate",
    )
    list_select_related = ("version", "equipment")
    autocomplete_fields = ("equipment",)

    @admin.display(description=gettext_lazy("rate per hour"))
    def rate(self, obj) -> str:
        return obj.rate_per_hour


@admin.register(OverheadRate)
class OverheadRateAdmin(_RateAdmin):
    list_display = ("version", "work_center", "basis", "rate")
    list_select_related = ("version", "work_center")
    autocomplete_fields = ("work_center",)


@admin.register(PurchasePrice)
class PurchasePriceAdmin(_RateAdmin):
    list_display = ("version", "item", "price")
    list_select_related = ("version", "item")
    search_fields = ("item__code", "item__name")
    autocomplete_fields = ("item",)


@admin.display(description=gettext_lazy("problems"))
def problems_shown(obj) -> str:
    """A roll-up's or item cost's problems in the reader's language, one a line."""
    return format_html_join("\n", "<div>{}</div>", ((p,) for p in obj.problems_shown)) or "-"


@admin.register(CostRollupRun)
class CostRollupRunAdmin(ReadOnlyAdmin):
    list_display = ("version", "started_at", "created_by", "items_costed", "items_incomplete")
    list_filter = ("version",)
    # The problems in the reader's language in place of their stored form.
    exclude = ("problems",)
    readonly_fields = (problems_shown,)


@admin.display(description=gettext_lazy("basis"))
def basis_shown(obj) -> str:
    """A cost line's or entry's basis in the reader's language (core/texts.py)."""
    return obj.basis_shown


class ItemCostLineInline(admin.TabularInline):
    model = ItemCostLine
    extra = 0
    can_delete = False
    fields = (
        "line_no",
        "element",
        "component",
        "step_no",
        "operation",
        "work_center",
        "equipment",
        "skill",
        "quantity",
        "rate",
        "amount",
        basis_shown,
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ItemCost)
class ItemCostAdmin(ReadOnlyAdmin):
    list_display = (
        "item",
        "version",
        "material",
        "labour",
        "machine",
        "overhead",
        "total",
        "complete",
    )
    list_filter = ("version", "complete")
    list_select_related = ("item", "version")
    search_fields = ("item__code", "item__name")
    inlines = [ItemCostLineInline]
    exclude = ("problems",)
    readonly_fields = (problems_shown,)


@admin.register(LotPrice)
class LotPriceAdmin(admin.ModelAdmin):
    list_display = ("lot", "price", "note")
    search_fields = ("lot__code", "lot__item__code")
    autocomplete_fields = ("lot",)


@admin.register(OrderCostEntry)
class OrderCostEntryAdmin(ReadOnlyAdmin):
    """The actual cost ledger: posted by costing's services from the floor's records only."""

    list_display = (
        "order",
        "step_no",
        "element",
        "item",
        "operator",
        "equipment",
        "quantity",
        "rate",
        "amount",
        "period",
        "late",
        basis_shown,
    )
    list_filter = ("element", "late", "period")
    search_fields = ("order__number", "source_key")
    list_select_related = ("order", "item", "operator", "equipment")
    # The basis in the reader's language in place of its stored forms (core/texts.py).
    exclude = ("basis", "basis_id", "basis_params")
    readonly_fields = (basis_shown,)


@admin.register(TrainingNeed)
class TrainingNeedAdmin(ReadOnlyAdmin):
    list_display = ("order", "step_no", "cause", "need", "raised_at", "raised_by")
    search_fields = ("order__number", "text")
    list_select_related = ("order", "raised_by")
    # The need in the reader's language in place of its stored forms (core/texts.py).
    exclude = ("text", "text_id", "text_params")
    readonly_fields = ("need",)

    @admin.display(description=pgettext_lazy("training need", "text"))
    def need(self, obj) -> str:
        return obj.text_shown
