"""factory_boy factories for the master data."""

from datetime import time
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from planning import models as planning_models
from resources import models as resources_models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True  # `roles` only adds groups

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("secret-pass-1")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """`UserFactory(roles=[Role.PLANNER])`: the user's roles (the permission policy
        gives a user without any role nothing to read or do)."""
        if create and extracted:
            from django.contrib.auth.models import Group

            for name in extracted:
                self.groups.add(Group.objects.get_or_create(name=name)[0])


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = resources_models.Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n}")
    name = factory.LazyAttribute(lambda o: f"Site {o.code}")
    time_zone = "Asia/Shanghai"


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = resources_models.Area

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"AREA{n}")
    name = factory.LazyAttribute(lambda o: f"Area {o.code}")


class WorkCenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = resources_models.WorkCenter

    area = factory.SubFactory(AreaFactory)
    code = factory.Sequence(lambda n: f"WC{n}")
    name = factory.LazyAttribute(lambda o: f"Work center {o.code}")


class EquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = resources_models.Equipment

    work_center = factory.SubFactory(WorkCenterFactory)
    code = factory.Sequence(lambda n: f"EQ{n}")
    name = factory.LazyAttribute(lambda o: f"Machine {o.code}")
    rated_rate = Decimal("10")


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = resources_models.ShiftPattern

    work_center = factory.SubFactory(WorkCenterFactory)
    name = factory.Sequence(lambda n: f"Shift {n}")
    weekdays = "1,2,3,4,5"
    start_time = time(6)
    end_time = time(14)


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = resources_models.Item
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ITEM-{n}")
    name = factory.LazyAttribute(lambda o: f"Item {o.code}")
    source = resources_models.Item.Source.BUY


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = resources_models.StockLocation

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"LOC{n}")
    name = factory.LazyAttribute(lambda o: f"Location {o.code}")


class BomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = planning_models.Bom

    item = factory.SubFactory(ItemFactory, source=resources_models.Item.Source.MAKE)
    version = "1"


class BomLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = planning_models.BomLine

    bom = factory.SubFactory(BomFactory)
    line_no = factory.Sequence(lambda n: (n + 1) * 10)
    component = factory.SubFactory(ItemFactory)
    quantity = Decimal("1")


def machining_by_hand(order_number: str) -> None:
    """The demo's machining (step 20 of EB-500) is counted by machine: its quantities come
    from the CNC part counters, and reports from people are refused there. Tests that follow
    serial units through machining by hand (genealogy, gates, the event batch path) take the
    flag off their order's operation."""
    planning_models.OrderOperation.objects.filter(order__number=order_number, sequence=20).update(
        counted_by_machine=False
    )
