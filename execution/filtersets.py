"""One FilterSet per listed execution model, shared by the API and the pages.

Each declares exactly the query parameters its list accepts (exact matches); the API refuses
any other parameter (core/api.py)."""

import django_filters
from django.utils.translation import gettext_lazy

from .models import (
    DispatchDecision,
    EventApproval,
    IssueApproval,
    LabourBooking,
    MaterialRequirement,
    MaterialShortage,
    ProductionEvent,
    Task,
    WorkAlert,
)


class TaskFilterSet(django_filters.FilterSet):
    class Meta:
        model = Task
        fields = ["status", "order__number", "equipment__code", "operator__badge"]


class DispatchDecisionFilterSet(django_filters.FilterSet):
    class Meta:
        model = DispatchDecision
        fields = ["equipment__code", "task"]


class ProductionEventFilterSet(django_filters.FilterSet):
    class Meta:
        model = ProductionEvent
        fields = ["order__number", "kind", "trace_code", "source"]


class MaterialRequirementFilterSet(django_filters.FilterSet):
    class Meta:
        model = MaterialRequirement
        fields = ["order__number", "item__code"]


class IssueApprovalFilterSet(django_filters.FilterSet):
    class Meta:
        model = IssueApproval
        fields = ["status"]


class EventApprovalFilterSet(django_filters.FilterSet):
    class Meta:
        model = EventApproval
        fields = ["status", "task", "kind"]


class LabourBookingFilterSet(django_filters.FilterSet):
    flagged = django_filters.BooleanFilter(
        method="filter_flagged", label=gettext_lazy("Clocked past the shift's end")
    )

    class Meta:
        model = LabourBooking
        fields = ["operator", "task"]

    def filter_flagged(self, queryset, name, value):
        return queryset.filter(excess_minutes__gt=0) if value else queryset.filter(excess_minutes=0)


class MaterialShortageFilterSet(django_filters.FilterSet):
    class Meta:
        model = MaterialShortage
        fields = ["status", "requirement__order__number"]


class WorkAlertFilterSet(django_filters.FilterSet):
    class Meta:
        model = WorkAlert
        fields = ["status", "severity", "alert_type", "order__number", "equipment__code"]
