"""One FilterSet per listed quality model, shared by the API and the pages.

Each declares exactly the query parameters its list accepts (exact matches); the API refuses
any other parameter (core/api.py)."""

import django_filters

from .models import DefectCode, DefectRateRule, InspectionPlan, InspectionRecord, QualityHold


class InspectionPlanFilterSet(django_filters.FilterSet):
    class Meta:
        model = InspectionPlan
        fields = ["code", "active", "routing_step"]


class DefectCodeFilterSet(django_filters.FilterSet):
    class Meta:
        model = DefectCode
        fields = ["code"]


class DefectRateRuleFilterSet(django_filters.FilterSet):
    class Meta:
        model = DefectRateRule
        fields = ["work_center__code", "routing_step"]


class InspectionRecordFilterSet(django_filters.FilterSet):
    class Meta:
        model = InspectionRecord
        fields = [
            "order__number",
            "operation__sequence",
            "unit__serial",
            "lot__code",
            "result",
            "plan__code",
            "work_center__code",
        ]


class QualityHoldFilterSet(django_filters.FilterSet):
    class Meta:
        model = QualityHold
        fields = ["status", "work_center__code"]
