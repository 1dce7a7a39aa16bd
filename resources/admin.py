from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy, gettext_noop, pgettext
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ImportForm

from core.admin import ReadOnlyAdmin
from core.signatures import signatures_of
from core.texts import Text

from . import models
from .resources import (
    CSV,
    XLSX,
    EquipmentChangeoverResource,
    EquipmentResource,
    FileRefused,
    ItemResource,
    RowLimit,
    file_size_check,
    import_limit,
    result_errors,
)


class AreaInline(admin.TabularInline):
    model = models.Area
    extra = 0


@admin.register(models.Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "time_zone")
    search_fields = ("code", "name")
    inlines = [AreaInline]


class WorkCenterInline(admin.TabularInline):
    model = models.WorkCenter
    extra = 0
    fields = ("code", "name", "labour_rate_per_hour", "machine_rate_per_hour")


@admin.register(models.Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "site")
    list_filter = ("site",)
    search_fields = ("code", "name")
    inlines = [WorkCenterInline]


class EquipmentInline(admin.TabularInline):
    model = models.Equipment
    extra = 0
    fields = (
        "code",
        "name",
        "model",
        "rated_rate",
        "changeover_minutes",
        "status",
        "backup_equipment",
    )
    fk_name = "work_center"


class ShiftInline(admin.TabularInline):
    model = models.ShiftPattern
    extra = 0


@admin.register(models.WorkCenter)
class WorkCenterAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "area", "labour_rate_per_hour", "machine_rate_per_hour")
    list_filter = ("area__site", "area")
    search_fields = ("code", "name")
    inlines = [EquipmentInline, ShiftInline]


class MaintenanceInline(admin.TabularInline):
    model = models.MaintenanceWindow
    extra = 0


@admin.register(models.ShiftPattern)
class ShiftPatternAdmin(admin.ModelAdmin):
    list_display = ("work_center", "name", "weekdays", "start_time", "end_time", "break_minutes")
    list_filter = ("work_center",)
    search_fields = ("name", "work_center__code")


@admin.register(models.Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "site")
    list_filter = ("site",)
    date_hierarchy = "date"


@admin.register(models.MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ("equipment", "start", "end", "reason")
    list_filter = ("equipment__work_center", "equipment")
    date_hierarchy = "start"


class WhileYouWait:
    """The admin imports while the request waits: at most IMPORT_SYNC_MAX_ROWS rows a file.

    A larger file is refused before any row is imported, pointing to the Import page
    (planning.views.imports), which runs it as a background job with a progress bar.
    """

    def row_limit(self) -> RowLimit:
        most, sync = import_limit("IMPORT_MAX_ROWS"), import_limit("IMPORT_SYNC_MAX_ROWS")
        if most <= sync:
            return RowLimit(most)
        try:
            page = f" ({reverse('planning:imports')})"
        except NoReverseMatch:
            page = ""
        return RowLimit(
            sync,
            "IMPORT_SYNC_MAX_ROWS",
            Text(
                gettext_noop(
                    "The admin imports at most %(rows)s rows while you wait: import this file "
                    "on the Import page%(page)s, which runs it in the background."
                ),
                rows=f"{sync:,}",
                page=page,
            ),
        )


class AdminCSV(WhileYouWait, CSV):
    pass


class AdminXLSX(WhileYouWait, XLSX):
    pass


class MasterDataImportForm(ImportForm):
    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        try:
            file_size_check(upload.size)  # before the admin reads the file into memory
        except FileRefused as e:
            raise forms.ValidationError(
                pgettext("an error's field or row, then its message", "%(label)s: %(message)s")
                % {"label": upload.name, "message": e}
            ) from None
        return upload


class MasterDataImportExportAdmin(ImportExportModelAdmin):
    """Import and export of master data as CSV or XLSX; an import is all or nothing.

    The preview (a dry run) lists every bad row with its column. The confirm step rolls back
    on any bad row too — import-export would keep the good rows — and says what was wrong.
    Files are read within the import limits (IMPORT_MAX_BYTES, IMPORT_MAX_UNZIPPED_BYTES,
    and IMPORT_SYNC_MAX_ROWS rows: see WhileYouWait).
    """

    import_formats = [AdminCSV, AdminXLSX]
    export_formats = [CSV, XLSX]
    import_form_class = MasterDataImportForm

    def has_import_permission(self, request):
        # An import adds and changes rows: only for those who may add and change them
        # (import-export's default lets anyone who sees the list import into it).
        return self.has_add_permission(request) and self.has_change_permission(request)

    def add_data_read_fail_error_to_form(self, form, e):
        if not isinstance(e, FileRefused):
            return super().add_data_read_fail_error_to_form(form, e)
        upload = form.cleaned_data.get("import_file")
        name = getattr(upload, "name", "")
        form.add_error("import_file", f"{name}: {e}" if name else str(e))

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.setdefault("rollback_on_validation_errors", True)
        return kwargs

    def process_result(self, result, request):
        if not (result.has_errors() or result.has_validation_errors()):
            return super().process_result(result, request)
        # In the reader's language (the cells' messages too: resources.resources, "messages").
        problems = [
            pgettext("an error's field or row, then its message", "%(label)s: %(message)s")
            % {
                "label": pgettext("between a row and its column", ", ").join(
                    part
                    for part in (gettext("row %(row)s") % {"row": row} if row else "", column)
                    if part
                ),
                "message": message,
            }
            for row, column, message in result_errors(result, tuple(result.diff_headers))
        ]
        more = (
            gettext(" … and %(count)s more") % {"count": len(problems) - 10}
            if len(problems) > 10
            else ""
        )
        messages.error(
            request,
            gettext("Nothing was imported. %(problems)s%(more)s")
            % {
                "problems": pgettext("between the problems of an import", "; ").join(problems[:10]),
                "more": more,
            },
        )
        opts = self.model._meta
        return HttpResponseRedirect(
            reverse(
                f"admin:{opts.app_label}_{opts.model_name}_import",
                current_app=self.admin_site.name,
            )
        )


class ChangeoverInline(admin.TabularInline):
    """The pairs of setup families whose changeover differs from the machine's minutes."""

    model = models.EquipmentChangeover
    extra = 0
    fields = ("from_family", "to_family", "minutes")


@admin.register(models.Equipment)
class EquipmentAdmin(MasterDataImportExportAdmin):
    # Two files: the machines (one row each), and their changeover pairs (one row a pair).
    resource_classes = [EquipmentResource, EquipmentChangeoverResource]
    list_display = (
        "code",
        "name",
        "model",
        "work_center",
        "rated_rate",
        "changeover_minutes",
        "status",
        "backup_equipment",
    )
    list_filter = ("status", "work_center__area", "work_center")
    search_fields = ("code", "name", "model")
    autocomplete_fields = ("backup_equipment",)
    inlines = [ChangeoverInline, MaintenanceInline]


@admin.register(models.Item)
class ItemAdmin(MasterDataImportExportAdmin):
    resource_classes = [ItemResource]
    list_display = (
        "code",
        "name",
        "source",
        "uom",
        "standard_cost",
        "lead_time_days",
        "lot_policy",
        "safety_stock",
        "tracking",
        "low_level_code",
    )
    list_filter = ("source", "tracking", "lot_policy", "uom", "low_level_code")
    search_fields = ("code", "name")
    readonly_fields = ("low_level_code",)


@admin.register(models.StockLocation)
class StockLocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "site")
    search_fields = ("code", "name")


@admin.register(models.MaterialLot)
class MaterialLotAdmin(admin.ModelAdmin):
    list_display = ("code", "item", "supplier_lot", "created_at", "expires_on")
    list_filter = ("item",)
    search_fields = ("code", "supplier_lot", "item__code")


@admin.register(models.SerialUnit)
class SerialUnitAdmin(admin.ModelAdmin):
    list_display = ("serial", "item", "lot", "created_at")
    list_filter = ("item",)
    search_fields = ("serial", "item__code")


@admin.register(models.StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    """The ledger is append-only: moves are shown, never edited or deleted here."""

    list_display = ("id", "created_at", "kind", "item", "location", "lot", "quantity", "reference")
    list_filter = ("kind", "location", "item")
    search_fields = ("item__code", "reference", "external_id")
    date_hierarchy = "created_at"
    readonly_fields = ("signatures",)

    @admin.display(description=gettext_lazy("Signatures"))
    def signatures(self, move):
        """An adjustment's signature, verified against the move as stored."""
        # The partial escapes what it shows; its own markup is safe.
        html = render_to_string("core/_signatures.html", {"signatures": signatures_of(move)})
        return mark_safe(html) if html.strip() else "—"  # noqa: S308


@admin.register(models.StockBalance)
class StockBalanceAdmin(ReadOnlyAdmin):
    """Balances follow the ledger: shown, never edited here."""

    list_display = ("item", "location", "lot", "on_hand")
    list_filter = ("location",)
    search_fields = ("item__code",)


class PurchaseOrderLineInline(admin.TabularInline):
    model = models.PurchaseOrderLine
    extra = 0


@admin.register(models.PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    list_display = ("number", "external_ref", "supplier", "status", "confirmed_at", "created_at")
    list_filter = ("status",)
    search_fields = ("number", "external_ref", "supplier", "confirmation_ref")
    inlines = [PurchaseOrderLineInline]


@admin.register(models.Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class OperatorSkillInline(admin.TabularInline):
    model = models.OperatorSkill
    extra = 0


class ShiftAssignmentInline(admin.TabularInline):
    model = models.ShiftAssignment
    extra = 0


@admin.register(models.Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ("badge", "name", "user", "home_work_center", "active")
    list_filter = ("active", "home_work_center")
    search_fields = ("badge", "name", "user__username")
    inlines = [OperatorSkillInline, ShiftAssignmentInline]
