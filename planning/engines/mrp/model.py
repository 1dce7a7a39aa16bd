"""Plain data in and out of the MRP engine: no ORM, no Django.

Input (one ``MrpInput``):

* ``items`` — ``MrpItem`` per item code: make or buy, lead time in working days, lot policy
  (``lot_for_lot``; ``fixed``: every order is exactly ``lot_size``; ``min_multiple``: at
  least ``lot_size``, rounded up to a multiple of ``lot_multiple``), safety stock, and an
  optional low-level code (computed from the BOM when any item leaves it out).
* ``bom`` — ``BomEdge`` per BOM line: ``quantity`` of the component per ``base_quantity``
  of the parent, with ``scrap_pct``; the gross component need of a parent order of *q* is
  ``q × quantity / base_quantity / (1 − scrap_pct / 100)``, rounded up to ``quantum``.
  Only make items are exploded (a buy item's BOM, if any, is ignored).
* ``on_hand`` / ``allocations`` — per item code; available = on hand − allocated.
* ``receipts`` — ``ScheduledReceipt``: open production and purchase orders (their own
  component needs are taken as already allocated, so they are not exploded).
* ``demands`` — ``Demand``: sales orders, forecasts, MPS entries; a lower ``priority`` is
  served first among demands due the same day (1 = most urgent, as on sales orders).
* ``calendar`` (``WorkCalendar``), ``start`` (the planning date, "today"), ``horizon_end``
  (demands due after it are ignored), ``quantum`` (rounding of exploded quantities).

Output (one ``MrpResult``): planned orders with pegs, action messages, a time-phased
projection per item, and for every demand the supplies that serve it, at every level.

Quantities are ``Decimal`` throughout; ids and item codes are strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from .calendar import WorkCalendar

ZERO = Decimal("0")


class Source(StrEnum):
    MAKE = "make"
    BUY = "buy"


class LotPolicy(StrEnum):
    LOT_FOR_LOT = "lot_for_lot"
    FIXED = "fixed"
    MIN_MULTIPLE = "min_multiple"


class OrderKind(StrEnum):
    """Planned production order (make item) or planned purchase requisition (buy item)."""

    PRODUCTION = "production"
    PURCHASE = "purchase"


class PegKind(StrEnum):
    """What a pegged quantity serves."""

    DEMAND = "demand"  # an independent demand (sales order, forecast, MPS entry)
    PLANNED_ORDER = "planned_order"  # a parent planned order's component need
    SAFETY_STOCK = "safety_stock"  # keeping projected on hand at safety stock
    LOT_SIZE_EXCESS = "lot_size_excess"  # left over by lot sizing; no requirement yet
    ALLOCATION = "allocation"  # on hand already reserved beyond what is there


class SupplyKind(StrEnum):
    ON_HAND = "on_hand"
    SCHEDULED_RECEIPT = "scheduled_receipt"
    PLANNED_ORDER = "planned_order"


class MessageKind(StrEnum):
    PAST_DUE = "past_due"  # a planned order should have started before the planning date
    EXPEDITE = "expedite"  # a scheduled receipt is needed before it is due
    SHORTAGE = "shortage"  # a demand already late, or available stock below safety stock
    DEFER = "defer"  # a scheduled receipt is first needed after it is due
    CANCEL = "cancel"  # a scheduled receipt nothing needs


# --- input ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MrpItem:
    """Planning data of one item (``resources.Item``)."""

    code: str
    source: Source | str = Source.BUY
    lead_time_days: int = 0
    lot_policy: LotPolicy | str = LotPolicy.LOT_FOR_LOT
    lot_size: Decimal = ZERO
    lot_multiple: Decimal = ZERO
    safety_stock: Decimal = ZERO
    low_level_code: int | None = None


@dataclass(frozen=True, slots=True)
class BomEdge:
    """One BOM line: ``quantity`` of ``component`` per ``base_quantity`` of ``parent``."""

    parent: str
    component: str
    quantity: Decimal
    base_quantity: Decimal = Decimal("1")
    scrap_pct: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Demand:
    """Independent demand: a sales order line, a forecast or an MPS entry."""

    id: str
    item: str
    quantity: Decimal
    due: dt.date
    priority: int = 5
    kind: str = "sales_order"


@dataclass(frozen=True, slots=True)
class ScheduledReceipt:
    """Supply already ordered: an open production order or an inbound purchase order."""

    id: str
    item: str
    quantity: Decimal
    due: dt.date
    kind: str = "purchase_order"


@dataclass(frozen=True, slots=True)
class MrpInput:
    """Everything one MRP run needs."""

    items: Sequence[MrpItem]
    bom: Sequence[BomEdge]
    demands: Sequence[Demand]
    calendar: WorkCalendar
    start: dt.date
    receipts: Sequence[ScheduledReceipt] = ()
    on_hand: Mapping[str, Decimal] = field(default_factory=dict)
    allocations: Mapping[str, Decimal] = field(default_factory=dict)
    horizon_end: dt.date | None = None
    # Exploded component quantities are rounded up to this (the database keeps 4 places);
    # None keeps the exact quotient.
    quantum: Decimal | None = Decimal("0.0001")
    # Defer and cancel advice for scheduled receipts; defer only when the first need is more
    # than `defer_tolerance_days` working days after the receipt's due date.
    reschedule_out_messages: bool = True
    defer_tolerance_days: int = 0


# --- output --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peg:
    """A quantity of one supply and what it serves, traced up to the top-level demand.

    ``kind``/``reference`` name the requirement served directly: a demand id, a parent
    planned-order id, or a marker (safety stock, lot-size excess, allocation; reference "").
    ``via`` lists the planned orders from the direct parent up to the top (empty when the
    requirement is this item's own); ``top_kind``/``top_demand`` say where the chain ends —
    a demand id, or a marker with ``top_demand`` None (e.g. a parent's lot-size excess).
    """

    quantity: Decimal
    kind: PegKind
    reference: str
    top_kind: PegKind
    top_demand: str | None
    via: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """A supply MRP proposes; its pegs add up to its quantity exactly."""

    id: str
    kind: OrderKind
    item: str
    quantity: Decimal
    start_date: dt.date  # release date; never before the planning date
    due_date: dt.date  # when the quantity is needed (kept even when it is already past)
    required_start_date: dt.date | None  # due − lead time; before start_date when past due
    pegs: tuple[Peg, ...]

    @property
    def past_due(self) -> bool:
        return self.required_start_date is None or self.required_start_date < self.start_date


@dataclass(frozen=True, slots=True)
class SupplyPeg:
    """One supply serving (part of) a demand, at the demand's item or a component."""

    item: str
    kind: SupplyKind
    reference: str  # scheduled receipt or planned order id; "" for on hand
    quantity: Decimal
    date: dt.date  # when the supply is available in the plan
    via: tuple[str, ...] = ()  # planned orders between it and the demand (nearest first)


@dataclass(frozen=True, slots=True)
class ActionMessage:
    """Advice for the planner. ``date`` is as planned now, ``suggested_date`` as needed."""

    kind: MessageKind
    item: str
    reference: str  # planned order, scheduled receipt or demand id; "" for the item itself
    text: str
    date: dt.date | None = None
    suggested_date: dt.date | None = None
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ProjectionRow:
    """One date of an item's time-phased record (only dates where something happens)."""

    date: dt.date
    gross_requirements: Decimal
    scheduled_receipts: Decimal
    planned_receipts: Decimal
    projected_on_hand: Decimal
    net_requirements: Decimal
    planned_releases: Decimal


@dataclass(frozen=True, slots=True)
class ItemProjection:
    """The MRP table of one item; projected on hand starts from on hand − allocated."""

    item: str
    low_level_code: int
    on_hand: Decimal
    allocated: Decimal
    safety_stock: Decimal
    rows: tuple[ProjectionRow, ...]


@dataclass(frozen=True, slots=True)
class MrpResult:
    """What one MRP run proposes."""

    planned_orders: tuple[PlannedOrder, ...]
    messages: tuple[ActionMessage, ...]
    projections: dict[str, ItemProjection]
    demand_supply: dict[str, tuple[SupplyPeg, ...]]  # demand id → supplies, all levels
    receipt_pegs: dict[str, tuple[Peg, ...]]  # scheduled receipt id → what it serves
    low_level_codes: dict[str, int]

    def supply_for(self, demand_id: str, *, item: str | None = None) -> tuple[SupplyPeg, ...]:
        """Supplies pegged to a demand; with `item`, only those of that item."""
        found = self.demand_supply.get(demand_id, ())
        return found if item is None else tuple(s for s in found if s.item == item)

    def orders_for(self, item: str) -> tuple[PlannedOrder, ...]:
        return tuple(o for o in self.planned_orders if o.item == item)
