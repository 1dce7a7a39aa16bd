from django.core.exceptions import ValidationError
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from core.signatures import signature_guard

from ..filtersets import (
    EquipmentFilterSet,
    ItemFilterSet,
    StockBalanceFilterSet,
    StockMoveFilterSet,
    WorkCenterFilterSet,
)
from ..models import (
    Area,
    Equipment,
    Item,
    MaterialLot,
    Site,
    StockBalance,
    StockLocation,
    StockMove,
    WorkCenter,
)
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


class EquipmentViewSet(viewsets.ModelViewSet):
    policy_resource = "resources.equipment"
    queryset = Equipment.objects.select_related("work_center", "backup_equipment")
    serializer_class = serializers.EquipmentSerializer
    filterset_class = EquipmentFilterSet


class ItemViewSet(viewsets.ModelViewSet):
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


class StockMoveViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The stock ledger: read it, append to it. No update or delete (append-only)."""

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
                raise ValidationError({"lot": f"No lot {lot_code} of {data['item'].code}."})
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
