from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ExternalRefUpsertMixin
from core.signatures import signature_guard

from ..filtersets import (
    EquipmentFilterSet,
    ItemFilterSet,
    OperatorFilterSet,
    PurchaseOrderFilterSet,
    ShiftAssignmentFilterSet,
    StockBalanceFilterSet,
    StockMoveFilterSet,
    WorkCenterFilterSet,
)
from ..models import (
    Area,
    Equipment,
    Item,
    MaterialLot,
    Operator,
    PurchaseOrder,
    ShiftAssignment,
    ShiftPattern,
    Site,
    Skill,
    StockBalance,
    StockLocation,
    StockMove,
    WorkCenter,
)
from ..services import people, purchasing
from ..services.equipment import equipment_save
from ..services.stock import stock_move_record
from . import serializers


class SiteViewSet(viewsets.ModelViewSet):
    policy_resource = "resources.site"
    queryset = Site.objects.all()
    serializer_class = serializers.SiteSerializer


class AreaViewSet(viewsets.ModelViewSet):
    policy_resource = "resources.area"
    queryset = Area.objects.select_related("site")
    serializer_class = serializers.AreaSerializer


class WorkCenterViewSet(viewsets.ModelViewSet):
    policy_resource = "resources.workcenter"
    queryset = WorkCenter.objects.select_related("area")
    serializer_class = serializers.WorkCenterSerializer
    filterset_class = WorkCenterFilterSet


@extend_schema(
    description=gettext_lazy(
        "Machines with their changeover pairs (the list sent replaces theirs)."
    )
)
class EquipmentViewSet(viewsets.ModelViewSet):
    policy_resource = "resources.equipment"
    queryset = Equipment.objects.select_related("work_center", "backup_equipment").prefetch_related(
        "changeovers"
    )
    serializer_class = serializers.EquipmentSerializer
    filterset_class = EquipmentFilterSet

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        changeovers = data.pop("changeovers", None)
        serializer.instance = equipment_save(values=data, changeovers=changeovers)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        changeovers = data.pop("changeovers", None)
        serializer.instance = equipment_save(
            values=data, changeovers=changeovers, equipment=serializer.instance
        )


@extend_schema(
    description=gettext_lazy(
        "Items; an ERP creates and updates them by its own `external_ref` (a resent "
        "item changes nothing)."
    )
)
class ItemViewSet(ExternalRefUpsertMixin, viewsets.ModelViewSet):
    policy_resource = "resources.item"
    queryset = Item.objects.all()
    serializer_class = serializers.ItemSerializer
    filterset_class = ItemFilterSet


class StockLocationViewSet(viewsets.ModelViewSet):
    policy_resource = "resources.stocklocation"
    queryset = StockLocation.objects.select_related("site")
    serializer_class = serializers.StockLocationSerializer


class MaterialLotViewSet(viewsets.ModelViewSet):
    policy_resource = "resources.materiallot"
    queryset = MaterialLot.objects.select_related("item")
    serializer_class = serializers.MaterialLotSerializer


class StockBalanceViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "resources.stockbalance"
    queryset = StockBalance.objects.select_related("item", "location", "lot").filter(on_hand__gt=0)
    serializer_class = serializers.StockBalanceSerializer
    filterset_class = StockBalanceFilterSet


@extend_schema(
    description=gettext_lazy(
        "The stock ledger: read it, append to it. No update or delete (append-only)."
    )
)
class StockMoveViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    policy_resource = "resources.stockmove"
    queryset = StockMove.objects.select_related("item", "location", "lot")
    serializer_class = serializers.StockMoveSerializer
    filterset_class = StockMoveFilterSet

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lot = None
        lot_code = (data.get("lot") or {}).get("code")
        if lot_code:
            lot = MaterialLot.objects.filter(item=data["item"], code=lot_code).first()
            if lot is None:
                raise ValidationError(
                    {
                        "lot": gettext("No lot %(lot)s of %(item)s.")
                        % {"lot": lot_code, "item": data["item"].code}
                    }
                )
        with signature_guard(request):
            move = stock_move_record(
                item=data["item"],
                location=data["location"],
                quantity=data["quantity"],
                kind=data["kind"],
                lot=lot,
                reference=data.get("reference", ""),
                external_id=data.get("external_id"),
                by=request.user,
                password=data.get("password", ""),
                reason=data.get("reason", ""),
            )
        return Response(self.get_serializer(move).data, status=status.HTTP_201_CREATED)


@extend_schema(
    description=gettext_lazy(
        "Purchase orders with their lines. The ERP that buys creates and changes them "
        "by its own reference: a POST naming an `external_ref` already known changes "
        "that order (200) instead of making another (201), so a resent order changes "
        "nothing. `confirm` records the supplier's confirmation, `close` closes an "
        "open order short; a repeat changes nothing, 409 when the state does not allow "
        "it."
    )
)
class PurchaseOrderViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    policy_resource = "resources.purchaseorder"
    queryset = PurchaseOrder.objects.prefetch_related("lines__item")
    serializer_class = serializers.PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilterSet

    def _save(self, request, order=None):
        serializer = self.get_serializer(order, data=request.data, partial=False)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order, created = purchasing.purchase_order_save(
            supplier=data["supplier"],
            lines=data["lines"],
            external_ref=data.get("external_ref"),
            number=data.get("number"),
            order=order,
        )
        order = self.get_queryset().get(pk=order.pk)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(order).data, status=code)

    def create(self, request, *args, **kwargs):
        return self._save(request)

    def update(self, request, *args, **kwargs):
        return self._save(request, self.get_object())

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(request=serializers.PurchaseOrderConfirmSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        data = serializers.PurchaseOrderConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = purchasing.purchase_order_confirm(
            order=self.get_object(),
            confirmation_ref=data.validated_data.get("confirmation_ref", ""),
            by=request.user,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        order = purchasing.purchase_order_close(order=self.get_object(), by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)


class SkillViewSet(viewsets.ModelViewSet):
    policy_resource = "resources.skill"
    queryset = Skill.objects.all()
    serializer_class = serializers.SkillSerializer


@extend_schema(
    description=gettext_lazy(
        "Operators with their skills (the list sent replaces theirs) and home work center."
    )
)
class OperatorViewSet(viewsets.ModelViewSet):
    policy_resource = "resources.operator"
    queryset = Operator.objects.select_related("user", "home_work_center").prefetch_related(
        "skills__skill"
    )
    serializer_class = serializers.OperatorSerializer
    filterset_class = OperatorFilterSet

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        skills = data.pop("skills", None)
        serializer.instance = people.operator_save(values=data, skills=skills)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        skills = data.pop("skills", None)
        serializer.instance = people.operator_save(
            values=data, skills=skills, operator=serializer.instance
        )


class ShiftPatternViewSet(viewsets.ModelViewSet):
    policy_resource = "resources.shiftpattern"
    queryset = ShiftPattern.objects.select_related("work_center")
    serializer_class = serializers.ShiftPatternSerializer


class ShiftAssignmentViewSet(viewsets.ModelViewSet):
    policy_resource = "resources.shiftassignment"
    queryset = ShiftAssignment.objects.select_related("operator", "shift")
    serializer_class = serializers.ShiftAssignmentSerializer
    filterset_class = ShiftAssignmentFilterSet
