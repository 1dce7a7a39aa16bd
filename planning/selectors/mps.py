"""The master production schedule grid: made items by week, with the orders booked."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from resources.models import Item

from ..models import MpsEntry, SalesOrder


def mps_grid(*, weeks: list[date]) -> list[dict]:
    """One row per made item: each week's MPS quantity and the open sales orders due that
    week, in three queries."""
    items = list(Item.objects.filter(source=Item.Source.MAKE).order_by("code"))
    entries = {
        (e.item_id, e.period_start): e.quantity
        for e in MpsEntry.objects.filter(period_start__in=weeks, item__in=items)
    }
    booked: dict = defaultdict(Decimal)
    for so in SalesOrder.objects.filter(
        status=SalesOrder.Status.OPEN, item__in=items, due_date__gte=weeks[0]
    ):
        booked[(so.item_id, so.due_date - timedelta(days=so.due_date.weekday()))] += so.quantity
    return [
        {
            "item": item,
            "cells": [
                {
                    "week": w,
                    "quantity": entries.get((item.pk, w)),
                    "booked": booked.get((item.pk, w)),
                }
                for w in weeks
            ],
        }
        for item in items
    ]
