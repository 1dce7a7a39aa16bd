"""Admin for execution. Exception routing rules are configured here (type and severity →
who answers, how fast, who is next, and the impact that calls for the severity). Everything else — tasks, the event log, material
issues and approvals, shortages, labour, progress snapshots, exceptions and their
timelines — is written by the services behind the pages and the API (which lock, validate,
audit and notify), so the admin shows it read-only."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.admin import ReadOnlyAdmin
from core.roles import Role

from . import models

ROLE_CHOICES = [(role, Role.LABELS[role]) for role in Role.ALL]


class AlertRuleForm(forms.ModelForm):
    # The roles are the role groups the exception loop notifies: a name outside them would
    # route exceptions to nobody.
    handler_role = forms.ChoiceField(
        choices=ROLE_CHOICES,
        label=_("handler role"),
        help_text=_("Who must respond."),
    )
    escalate_to_role = forms.ChoiceField(
        choices=[("", _("The next in the chain")), *ROLE_CHOICES],
        required=False,
        label=_("escalate to role"),
        help_text=_("Who is next when the deadline passes unacknowledged."),
    )

    class Meta:
        model = models.AlertRule
        fields = [
            "alert_type",
            "severity",
            "handler_role",
            "ack_minutes",
            "escalate_to_role",
            "auto_requisition",
            "default_downtime_minutes",
            "stop_minutes_from",
            "shortage_within_hours",
        ]


@admin.register(models.AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
    list_display = (
        "alert_type",
        "severity",
        "handler_role",
        "ack_minutes",
        "escalate_to_role",
        "auto_requisition",
        "default_downtime_minutes",
        "stop_minutes_from",
        "shortage_within_hours",
    )
    list_filter = ("alert_type", "severity", "handler_role")


class AlertStepInline(admin.TabularInline):
    model = models.AlertStep
    extra = 0
    fields = ("at", "kind", "step_text", "by", "role")
    readonly_fields = fields
    can_delete = False

    @admin.display(description=pgettext_lazy("exception step", "text"))
    def step_text(self, obj) -> str:
        return obj.text_shown  # in the reader's language (core/texts.py)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.WorkAlert)
class WorkAlertAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "alert_type",
        "severity",
        "status",
        "handler_role",
        "ack_deadline",
        "escalation_level",
        "equipment",
        "order",
        "raised_at",
    )
    list_filter = ("status", "severity", "alert_type", "raised_via")
    search_fields = ("number", "external_id", "description", "order__number")
    list_select_related = ("equipment", "order")
    date_hierarchy = "raised_at"
    inlines = [AlertStepInline]
    # The description and the cause in the reader's language in place of their stored forms
    # (core/texts.py).
    exclude = (
        "description",
        "description_id",
        "description_params",
        "cause",
        "cause_id",
        "cause_params",
    )
    readonly_fields = ("what_happened", "cause_shown")

    @admin.display(description=pgettext_lazy("exception", "description"))
    def what_happened(self, obj) -> str:
        return obj.description_shown

    @admin.display(description=_("cause"))
    def cause_shown(self, obj) -> str:
        return obj.cause_shown


@admin.register(models.Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "order",
        "operation",
        "status",
        "operator",
        "equipment",
        "quantity_good",
        "quantity_scrap",
    )
    list_filter = ("status", "operation__work_center")
    search_fields = ("order__number", "operator__badge", "operator__name")
    list_select_related = ("order", "operation", "operator", "equipment")
    # The pause reason and the assignment note in the reader's language in place of their
    # stored forms (core/texts.py).
    exclude = (
        "pause_reason",
        "pause_reason_id",
        "pause_reason_params",
        "assignment_note",
        "assignment_note_id",
        "assignment_note_params",
    )
    readonly_fields = ("paused_because", "why_this_operator")

    @admin.display(description=_("assignment note"))
    def why_this_operator(self, obj) -> str:
        return obj.assignment_note_shown

    @admin.display(description=_("pause reason"))
    def paused_because(self, obj) -> str:
        return obj.pause_reason_shown


@admin.register(models.DispatchDecision)
class DispatchDecisionAdmin(ReadOnlyAdmin):
    list_display = ("id", "equipment", "task", "decided_at", "why")
    list_filter = ("equipment",)
    list_select_related = ("equipment", "task__order", "task__operation")
    # The reason in the reader's language in place of its stored forms (core/texts.py).
    exclude = ("reason", "reason_id", "reason_params")
    readonly_fields = ("why",)

    @admin.display(description=_("reason"))
    def why(self, obj) -> str:
        return obj.reason_shown


@admin.register(models.ProductionEvent)
class ProductionEventAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "event_id",
        "kind",
        "occurred_at",
        "order",
        "operation",
        "operator",
        "equipment",
        "quantity_good",
        "quantity_scrap",
        "trace_code",
        "source",
    )
    list_filter = ("kind", "source")
    search_fields = ("event_id", "order__number", "trace_code")
    list_select_related = ("order", "operation", "operator", "equipment")
    # The log holds millions of rows: no count for the paginator, no date drill-down.
    show_full_result_count = False


@admin.register(models.MaterialRequirement)
class MaterialRequirementAdmin(ReadOnlyAdmin):
    list_display = ("id", "order", "operation", "item", "quantity_required", "quantity_issued")
    search_fields = ("order__number", "item__code")
    list_select_related = ("order", "operation", "item")


@admin.register(models.MaterialIssue)
class MaterialIssueAdmin(ReadOnlyAdmin):
    list_display = ("id", "external_id", "requirement", "lot", "quantity", "issued_at")
    search_fields = ("external_id", "requirement__order__number", "lot__code")
    list_select_related = ("requirement__order", "requirement__item", "lot")


@admin.register(models.IssueApproval)
class IssueApprovalAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "requirement",
        "quantity",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
    )
    list_filter = ("status",)
    list_select_related = ("requirement__order", "requirement__item", "requested_by", "decided_by")


@admin.register(models.MaterialShortage)
class MaterialShortageAdmin(ReadOnlyAdmin):
    list_display = ("id", "requirement", "quantity_short", "status", "requisition", "raised_at")
    list_filter = ("status",)
    list_select_related = ("requirement__order", "requirement__item", "requisition")


@admin.register(models.LabourBooking)
class LabourBookingAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "operator",
        "task",
        "started_at",
        "ended_at",
        "quantity_good",
        "quantity_scrap",
        "excess_minutes",
        "original_minutes",
    )
    list_filter = ("operator",)
    date_hierarchy = "started_at"
    list_select_related = ("operator", "task__order", "task__operation")


@admin.register(models.EventApproval)
class EventApprovalAdmin(ReadOnlyAdmin):
    list_display = ("id", "event_id", "kind", "task", "status", "requested_by", "requested_at")
    list_filter = ("status", "kind")
    search_fields = ("event_id",)
    list_select_related = ("task__order", "task__operation", "requested_by")


@admin.register(models.ProgressSnapshot)
class ProgressSnapshotAdmin(ReadOnlyAdmin):
    list_display = (
        "order",
        "operation",
        "taken_at",
        "completion_pct",
        "planned_pct",
        "lagging",
        "delay_hours",
    )
    list_filter = ("lagging",)
    search_fields = ("order__number",)
    date_hierarchy = "taken_at"
    list_select_related = ("order", "operation")
