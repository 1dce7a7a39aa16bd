"""The MRP engine: multi-level, time-phased gross-to-net with lot sizing and pegging.

``mrp_run(MrpInput) -> MrpResult`` (see ``model.py`` for the data). Pure: no ORM, no I/O,
no clock — the planning date is an input — and the same input always gives the same output.

How it plans, item by item in low-level-code order (an item is netted once, after every
parent that can need it, so a component used at two levels is netted at its deepest one):

1. Requirements of the item: independent demands (due dates on a non-working day move to
   the previous working day, not before the planning date), dependent needs from the
   planned orders of its parents (on the parent order's start date), and two markers at the
   planning date: allocations beyond on hand, and safety stock (projected on hand must not
   fall below it; an initial shortfall is replenished at the planning date).
2. Supplies, first come first served by date: available on hand (on hand − allocated), then
   scheduled receipts in due-date order, then planned orders. Requirements are served in
   (date, priority, kind, reference) order. Scheduled receipts are used before any new
   planned order — one due after the date that first needs it is pulled in and reported
   with an *expedite* message (classic MRP's reschedule-in assumption); one first needed
   later than its due date gets *defer*, one nothing needs gets *cancel*.
3. Whatever is left uncovered on a date is that date's net requirement. Lot sizing turns
   it into planned orders due that date: lot-for-lot (the net), fixed (as many orders of
   exactly ``lot_size`` as needed) or min/multiple (at least ``lot_size``, rounded up to a
   multiple of ``lot_multiple``). The excess stays available for later requirements.
4. Each planned order starts lead-time working days before its due date on the work
   calendar. One that would have to start before the planning date starts on it instead,
   keeps its due date and gets a *past_due* message.
5. A make item's planned orders are exploded through its BOM into dependent needs of its
   components, carrying the pegs along (quantities split in proportion, rounded up).

Pegging is the FIFO allocation of step 2: every unit of every supply is recorded against
the requirement it serves and, through the parents' pegs, against the top-level demand.
The supply not used by any requirement is pegged to ``lot_size_excess`` (planned orders)
or left free (on hand, scheduled receipts).

Events dated before the planning date (overdue receipts, past-due demands) fall into the
planning date's bucket of the projection. Only dates where something happens get a row —
no per-day arrays — and the work calendar answers each offset in O(1).
"""

from __future__ import annotations

import sys
from collections import deque
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from core.gc_pause import gc_paused

from ..bomgraph import bom_find_cycle, bom_low_level_codes
from .model import (
    ZERO,
    ActionMessage,
    BomEdge,
    ItemProjection,
    LotPolicy,
    MessageKind,
    MrpInput,
    MrpItem,
    MrpResult,
    OrderKind,
    Peg,
    PegKind,
    PlannedOrder,
    ProjectionRow,
    Source,
    SupplyKind,
    SupplyPeg,
)

_FIRST = -sys.maxsize
_LAST = sys.maxsize

# Order of requirements on the same date and priority.
_R_ALLOCATION, _R_DEMAND, _R_DEPENDENT, _R_SAFETY = 0, 1, 2, 3

_MESSAGE_ORDER = {k: i for i, k in enumerate(MessageKind)}


class MrpInputError(ValueError):
    """The input cannot be planned; the message names the row and field."""


class _Req:
    """One requirement of an item, and how much of each origin is still unserved.

    ``origins`` are (quantity, top kind, top demand id, via, priority) and add up to
    ``qty``; supplies take from them in order, so pegs trace back to the top demands.
    """

    __slots__ = ("sort_key", "need", "qty", "origins", "pos", "left", "gross")

    def __init__(self, need, prio, rank, ref, tiebreak, qty, origins, gross):
        self.sort_key = (need, prio, rank, ref, tiebreak)
        self.need = need
        self.qty = qty
        self.origins = origins
        self.pos = 0
        self.left = origins[0][0]
        self.gross = gross


class _Lot:
    """One supply of an item: on hand, a scheduled receipt or a planned order."""

    __slots__ = (
        "kind",
        "ref",
        "date",
        "qty",
        "left",
        "pegs",
        "first_need",
        "due",
        "start",
        "required",
    )

    def __init__(self, kind, ref, day, qty, due, pegs):
        self.kind = kind
        self.ref = ref
        self.date = day  # when it is available in the plan (never before the planning date)
        self.qty = qty
        self.left = qty
        self.pegs = pegs
        self.first_need = None
        self.due = due
        self.start = None
        self.required = None


def _quantity(value, where: str, *, positive: bool = False, allow_negative: bool = False):
    if (  # the common case, checked quickly
        type(value) is Decimal
        and value.is_finite()
        and ((value > 0) if positive else (allow_negative or value >= 0))
    ):
        return value
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise MrpInputError(f"{where}: give a Decimal, not {type(value).__name__}.")
    value = Decimal(value)
    if not value.is_finite():
        raise MrpInputError(f"{where}: must be a finite number.")
    if positive and value <= 0:
        raise MrpInputError(f"{where}: must be above zero.")
    if not allow_negative and value < 0:
        raise MrpInputError(f"{where}: must not be negative.")
    return value


def _check_items(items) -> dict[str, MrpItem]:
    out: dict[str, MrpItem] = {}
    for n, item in enumerate(items):
        where = f"items[{n}] ({item.code})"
        if item.code in out:
            raise MrpInputError(f"{where}.code: duplicate item code.")
        if item.source not in (Source.MAKE, Source.BUY):
            raise MrpInputError(f"{where}.source: use 'make' or 'buy'.")
        if item.lot_policy not in tuple(LotPolicy):
            raise MrpInputError(f"{where}.lot_policy: use one of {', '.join(LotPolicy)}.")
        if not isinstance(item.lead_time_days, int) or item.lead_time_days < 0:
            raise MrpInputError(f"{where}.lead_time_days: a whole number of days, at least 0.")
        lot_size = _quantity(item.lot_size, f"{where}.lot_size")
        _quantity(item.lot_multiple, f"{where}.lot_multiple")
        _quantity(item.safety_stock, f"{where}.safety_stock")
        if item.lot_policy == LotPolicy.FIXED and lot_size <= 0:
            raise MrpInputError(f"{where}.lot_size: a fixed lot policy needs a lot size above 0.")
        if item.low_level_code is not None and (
            not isinstance(item.low_level_code, int) or item.low_level_code < 0
        ):
            raise MrpInputError(f"{where}.low_level_code: a whole number, at least 0, or None.")
        out[item.code] = item
    return out


def _check_bom(bom, items) -> list[BomEdge]:
    for n, edge in enumerate(bom):
        where = f"bom[{n}] ({edge.parent} → {edge.component})"
        for name in ("parent", "component"):
            if getattr(edge, name) not in items:
                raise MrpInputError(f"{where}.{name}: unknown item {getattr(edge, name)!r}.")
        if edge.parent == edge.component:
            raise MrpInputError(f"{where}.component: an item cannot be its own component.")
        _quantity(edge.quantity, f"{where}.quantity", positive=True)
        _quantity(edge.base_quantity, f"{where}.base_quantity", positive=True)
        scrap = _quantity(edge.scrap_pct, f"{where}.scrap_pct")
        if scrap >= 100:
            raise MrpInputError(f"{where}.scrap_pct: must be below 100.")
    # Sorted on content so that the input order never changes the plan.
    return sorted(
        bom,
        key=lambda e: (e.parent, e.component, e.quantity, e.base_quantity, e.scrap_pct),
    )


def _low_level_codes(items: dict[str, MrpItem], edges: list[BomEdge]) -> dict[str, int]:
    """The items' own codes when every item has one and they put each parent before its
    components; otherwise (absent, or stale after a BOM change) computed from the edges.

    Only the order matters to the plan, and a stale code must not stop a run.
    """
    pairs = [(e.parent, e.component) for e in edges]
    given: dict[str, int] = {}
    for code, item in items.items():
        if item.low_level_code is None:
            break
        given[code] = item.low_level_code
    else:
        if all(given[c] > given[p] for p, c in pairs):
            return given
    try:
        return bom_low_level_codes(pairs, items)
    except ValueError:
        cycle = bom_find_cycle(pairs) or []
        raise MrpInputError(f"bom: cycle {' → '.join(map(str, cycle))}.") from None


class _Run:
    """State of one run; `mrp_run` is the public entry point."""

    def __init__(self, data: MrpInput) -> None:
        if not isinstance(data.start, date):
            raise MrpInputError("start: give the planning date.")
        self.start = data.start
        self.cal = data.calendar
        self.quantum = data.quantum
        if self.quantum is not None:
            _quantity(self.quantum, "quantum", positive=True)
        if not isinstance(data.defer_tolerance_days, int) or data.defer_tolerance_days < 0:
            raise MrpInputError("defer_tolerance_days: a whole number, at least 0.")
        self.data = data
        self.items = _check_items(data.items)
        edges = _check_bom(data.bom, self.items)
        self.llc = _low_level_codes(self.items, edges)
        # parent → [(component, numerator, denominator, tiebreak)]: need = q × num / den.
        self.children: dict[str, list] = {}
        for n, e in enumerate(edges):
            if self.items[e.parent].source != Source.MAKE:
                continue
            self.children.setdefault(e.parent, []).append(
                (e.component, e.quantity * 100, e.base_quantity * (100 - e.scrap_pct), n)
            )
        self.on_hand = self._stock(data.on_hand, "on_hand")
        self.allocated = self._stock(data.allocations, "allocations")
        self.reqs: dict[str, list[_Req]] = {code: [] for code in self.items}
        self.receipts: dict[str, list] = {code: [] for code in self.items}
        self.messages: list[ActionMessage] = []
        self.orders: list[_Lot] = []
        self.order_item: dict[str, str] = {}
        self.projections: dict[str, ItemProjection] = {}
        self.receipt_lots: list[tuple[str, _Lot]] = []
        self.seq = 0
        self.demand_supply: dict[str, list] = {}
        self._load_demands_and_receipts()

    def _stock(self, mapping, name) -> dict[str, Decimal]:
        out = {}
        for code in sorted(mapping):
            if code not in self.items:
                raise MrpInputError(f"{name}[{code!r}]: unknown item.")
            out[code] = _quantity(mapping[code], f"{name}[{code!r}]", allow_negative=True)
        return out

    def _load_demands_and_receipts(self) -> None:
        data, start = self.data, self.start
        dates = [start]
        seen: set[str] = set()
        for n, d in enumerate(data.demands):
            where = f"demands[{n}] ({d.id})"
            if d.id in seen:
                raise MrpInputError(f"{where}.id: duplicate demand id.")
            seen.add(d.id)
            if d.item not in self.items:
                raise MrpInputError(f"{where}.item: unknown item {d.item!r}.")
            _quantity(d.quantity, f"{where}.quantity")
            if not isinstance(d.due, date):
                raise MrpInputError(f"{where}.due: give a date.")
            if not isinstance(d.priority, int):
                raise MrpInputError(f"{where}.priority: a whole number (1 = most urgent).")
            dates.append(d.due)
        seen = set()
        for n, r in enumerate(data.receipts):
            where = f"receipts[{n}] ({r.id})"
            if r.id in seen:
                raise MrpInputError(f"{where}.id: duplicate receipt id.")
            seen.add(r.id)
            if r.item not in self.items:
                raise MrpInputError(f"{where}.item: unknown item {r.item!r}.")
            _quantity(r.quantity, f"{where}.quantity", positive=True)
            if not isinstance(r.due, date):
                raise MrpInputError(f"{where}.due: give a date.")
            dates.append(r.due)
        # Index the calendar once over every date in play (offsets reach back a little).
        self.cal.ensure(min(dates) - timedelta(days=366), max(dates))

        horizon = data.horizon_end
        for d in sorted(data.demands, key=lambda d: d.id):
            if d.quantity == 0 or (horizon is not None and d.due > horizon):
                continue
            self.demand_supply[d.id] = []
            if d.due < start:
                self._message(
                    MessageKind.SHORTAGE,
                    d.item,
                    d.id,
                    f"Demand {d.id} for {d.item} × {d.quantity} was due {d.due}, "
                    f"before the planning date {start}.",
                    d.due,
                    start,
                    Decimal(d.quantity),
                )
            qty = Decimal(d.quantity)
            self.reqs[d.item].append(
                _Req(
                    self._need_date(d.due),
                    d.priority,
                    _R_DEMAND,
                    d.id,
                    0,
                    qty,
                    [(qty, PegKind.DEMAND, d.id, (), d.priority)],
                    True,
                )
            )
        for r in sorted(data.receipts, key=lambda r: (max(r.due, start), r.due, r.id)):
            self.receipts[r.item].append(r)

    # --- dates ---------------------------------------------------------------------------

    def _need_date(self, day: date) -> date:
        """When a requirement must be covered: the last working day on or before `day`.

        Never moved before the planning date; a date already past is kept as it is.
        """
        start = self.start
        if day < start:
            return day
        work = self.cal.on_or_before(day)
        return work if work is not None and work >= start else start

    def _message(self, kind, item, reference, text, day=None, suggested=None, qty=None):
        self.messages.append(ActionMessage(kind, item, reference, text, day, suggested, qty))

    # --- netting -------------------------------------------------------------------------

    def _ceil(self, value: Decimal) -> Decimal:
        q = self.quantum
        return value if q is None else value.quantize(q, rounding=ROUND_CEILING)

    @staticmethod
    def _lot_sizes(item: MrpItem, net: Decimal) -> list[Decimal]:
        policy = item.lot_policy
        if policy == LotPolicy.FIXED:
            size = Decimal(item.lot_size)
            count = int((net / size).to_integral_value(rounding=ROUND_CEILING))
            return [size] * count
        if policy == LotPolicy.MIN_MULTIPLE:
            qty = max(net, Decimal(item.lot_size))
            multiple = Decimal(item.lot_multiple)
            if multiple > 0:
                qty = (qty / multiple).to_integral_value(rounding=ROUND_CEILING) * multiple
            return [qty]
        return [net]

    def _peg(self, code: str, lot: _Lot, req: _Req, use: Decimal) -> None:
        """Record `use` of `lot` against `req`, splitting over the requirement's origins."""
        if lot.first_need is None:
            lot.first_need = req.need
        origins = req.origins
        pos, left = req.pos, req.left
        pegs = lot.pegs
        supply = self.demand_supply
        while use:
            origin = origins[pos]
            part = left if left <= use else use
            if pegs is not None:
                pegs.append((part, origin[1], origin[2], origin[3], origin[4]))
            if origin[2] is not None:
                supply[origin[2]].append((code, lot.kind, lot.ref, part, lot.date, origin[3]))
            use -= part
            left -= part
            if not left:
                pos += 1
                if pos < len(origins):
                    left = origins[pos][0]
        req.pos, req.left = pos, left

    def _new_order(self, code: str, item: MrpItem, due: date, qty: Decimal) -> _Lot:
        self.seq += 1
        oid = f"PL{self.seq:06d}"
        start = self.start
        lot = _Lot(SupplyKind.PLANNED_ORDER, oid, max(due, start), qty, due, [])
        lead = item.lead_time_days
        required = due if lead == 0 else self.cal.subtract(due, lead)
        lot.required = required
        lot.start = required if required is not None and required >= start else start
        if lot.start != required:
            kind = "production order" if item.source == Source.MAKE else "purchase requisition"
            should = f"should have started {required}" if required else "cannot start in time"
            self._message(
                MessageKind.PAST_DUE,
                code,
                oid,
                f"Planned {kind} {oid} for {code} × {qty} due {due} {should} "
                f"({lead} working days); start it now.",
                start,
                required,
                qty,
            )
        self.orders.append(lot)
        self.order_item[oid] = code
        return lot

    def plan_item(self, code: str) -> None:
        item = self.items[code]
        start = self.start
        reqs = self.reqs.pop(code)
        on_hand = self.on_hand.get(code, ZERO)
        allocated = self.allocated.get(code, ZERO)
        available = on_hand - allocated
        safety = Decimal(item.safety_stock)
        if available < 0:
            short = -available
            reqs.append(
                _Req(
                    start,
                    _FIRST,
                    _R_ALLOCATION,
                    "",
                    0,
                    short,
                    [(short, PegKind.ALLOCATION, None, (), _FIRST)],
                    False,
                )
            )
        if safety > 0:
            reqs.append(
                _Req(
                    start,
                    _LAST,
                    _R_SAFETY,
                    "",
                    0,
                    safety,
                    [(safety, PegKind.SAFETY_STOCK, None, (), _LAST)],
                    False,
                )
            )
        if available < safety:
            below = f"below safety stock {safety}" if safety else "negative"
            self._message(
                MessageKind.SHORTAGE,
                code,
                "",
                f"{code}: available {available} (on hand {on_hand} − allocated {allocated}) "
                f"is {below} on {start}.",
                start,
                start,
                safety - available,
            )
        reqs.sort(key=lambda r: r.sort_key)

        existing: list[_Lot] = []
        if available > 0:
            existing.append(_Lot(SupplyKind.ON_HAND, "", start, available, start, None))
        for r in self.receipts[code]:
            lot = _Lot(
                SupplyKind.SCHEDULED_RECEIPT,
                r.id,
                max(r.due, start),
                Decimal(r.quantity),
                r.due,
                [],
            )
            existing.append(lot)
            self.receipt_lots.append((code, lot))

        # date → [gross, scheduled receipts, planned receipts, net, planned releases]
        rows: dict[date, list[Decimal]] = {}

        def row(day: date) -> list[Decimal]:
            found = rows.get(day)
            if found is None:
                found = rows[day] = [ZERO, ZERO, ZERO, ZERO, ZERO]
            return found

        for lot in existing[1 if available > 0 else 0 :]:
            row(lot.date)[1] += lot.qty

        # Every planned order is made once the on-hand and scheduled supply is used up, so
        # serving existing supply first and leftover planned quantities next is FIFO by date.
        ei, n_existing = 0, len(existing)
        open_lots: deque[_Lot] = deque()
        planned: list[_Lot] = []
        i, n = 0, len(reqs)
        peg = self._peg
        while i < n:
            need = reqs[i].need
            uncovered = []
            while i < n and reqs[i].need == need:
                req = reqs[i]
                i += 1
                if req.gross:
                    row(max(need, start))[0] += req.qty
                q = req.qty
                while q and ei < n_existing:
                    lot = existing[ei]
                    use = lot.left if lot.left <= q else q
                    peg(code, lot, req, use)
                    lot.left -= use
                    q -= use
                    if not lot.left:
                        ei += 1
                while q and open_lots:
                    lot = open_lots[0]
                    use = lot.left if lot.left <= q else q
                    peg(code, lot, req, use)
                    lot.left -= use
                    q -= use
                    if not lot.left:
                        open_lots.popleft()
                if q:
                    uncovered.append((req, q))
            if not uncovered:
                continue
            net = sum((q for _, q in uncovered), ZERO)
            bucket = row(max(need, start))
            bucket[3] += net
            for qty in self._lot_sizes(item, net):
                lot = self._new_order(code, item, need, qty)
                planned.append(lot)
                open_lots.append(lot)
                bucket[2] += qty
                row(lot.start)[4] += qty
            for req, q in uncovered:
                while q:
                    lot = open_lots[0]
                    use = lot.left if lot.left <= q else q
                    peg(code, lot, req, use)
                    lot.left -= use
                    q -= use
                    if not lot.left:
                        open_lots.popleft()
        for lot in open_lots:
            lot.pegs.append((lot.left, PegKind.LOT_SIZE_EXCESS, None, (), _LAST))
            lot.left = ZERO

        self._receipt_messages(code, existing)
        self._project(code, item, on_hand, allocated, safety, rows)
        if item.source == Source.MAKE and code in self.children:
            for lot in planned:
                self._explode(lot, self.children[code])

    def _receipt_messages(self, code: str, existing: list[_Lot]) -> None:
        data, start, cal = self.data, self.start, self.cal
        for lot in existing:
            if lot.kind != SupplyKind.SCHEDULED_RECEIPT:
                continue
            ref, due, first = lot.ref, lot.due, lot.first_need
            if due < start:
                self._message(
                    MessageKind.PAST_DUE,
                    code,
                    ref,
                    f"Scheduled receipt {ref} for {code} × {lot.qty} was due {due}, "
                    f"before the planning date {start}.",
                    due,
                    start,
                    lot.qty,
                )
            within = data.horizon_end is None or due <= data.horizon_end
            if first is None:
                if data.reschedule_out_messages and within:
                    self._message(
                        MessageKind.CANCEL,
                        code,
                        ref,
                        f"Scheduled receipt {ref} for {code} × {lot.qty} due {due} "
                        "is not needed: cancel it.",
                        due,
                        None,
                        lot.qty,
                    )
            elif first < lot.date and due >= start:
                self._message(
                    MessageKind.EXPEDITE,
                    code,
                    ref,
                    f"Scheduled receipt {ref} for {code} × {lot.qty} is due {due} "
                    f"but needed {first}: expedite it.",
                    due,
                    first,
                    lot.qty,
                )
            elif (
                data.reschedule_out_messages
                and within
                and first > due
                and cal.working_days_between(due, first) > data.defer_tolerance_days
            ):
                self._message(
                    MessageKind.DEFER,
                    code,
                    ref,
                    f"Scheduled receipt {ref} for {code} × {lot.qty} is due {due} "
                    f"but first needed {first}: defer it.",
                    due,
                    first,
                    lot.qty,
                )

    def _project(self, code, item, on_hand, allocated, safety, rows) -> None:
        projected = on_hand - allocated
        out = []
        for day in sorted(rows):
            gross, receipts, planned, net, releases = rows[day]
            projected = projected + receipts + planned - gross
            out.append(ProjectionRow(day, gross, receipts, planned, projected, net, releases))
        self.projections[code] = ItemProjection(
            code, self.llc[code], on_hand, allocated, safety, tuple(out)
        )

    def _explode(self, lot: _Lot, children: list) -> None:
        """Turn a planned order into dependent needs of its components, pegs carried along."""
        merged: dict[tuple, list] = {}
        for qty, top_kind, top_demand, via, prio in lot.pegs:
            key = (top_kind, top_demand, via)
            found = merged.get(key)
            if found is None:
                merged[key] = [qty, prio]
            else:
                found[0] += qty
        need = self._need_date(lot.start)
        head = (lot.ref,)
        ceil = self._ceil
        for component, num, den, tiebreak in children:
            parts = []
            cumulative = ZERO
            done = ZERO
            prio = _LAST
            # Rounding the running total (not each part) keeps the parts adding up to the
            # rounded need of the whole order.
            for (top_kind, top_demand, via), (qty, p) in merged.items():
                cumulative += qty
                total = ceil(cumulative * num / den)
                part = total - done
                if part:
                    parts.append((part, top_kind, top_demand, head + via, p))
                    done = total
                    if p < prio:
                        prio = p
            if done:
                self.reqs[component].append(
                    _Req(need, prio, _R_DEPENDENT, lot.ref, tiebreak, done, parts, True)
                )

    # --- result --------------------------------------------------------------------------

    def result(self) -> MrpResult:
        orders = []
        for lot in self.orders:
            code = self.order_item[lot.ref]
            item = self.items[code]
            orders.append(
                PlannedOrder(
                    id=lot.ref,
                    kind=OrderKind.PRODUCTION if item.source == Source.MAKE else OrderKind.PURCHASE,
                    item=code,
                    quantity=lot.qty,
                    start_date=lot.start,
                    due_date=lot.due,
                    required_start_date=lot.required,
                    pegs=_pegs(lot.pegs),
                )
            )
        receipt_pegs = {
            lot.ref: _pegs(lot.pegs) for _, lot in sorted(self.receipt_lots, key=lambda x: x[1].ref)
        }
        demand_supply = {}
        for demand_id, found in self.demand_supply.items():
            merged: dict[tuple, Decimal] = {}
            for code, kind, ref, qty, day, via in found:
                key = (code, kind, ref, day, via)
                merged[key] = merged.get(key, ZERO) + qty
            demand_supply[demand_id] = tuple(
                SupplyPeg(code, kind, ref, qty, day, via)
                for (code, kind, ref, day, via), qty in merged.items()
            )
        start = self.start
        messages = sorted(
            self.messages,
            key=lambda m: (m.item, m.date or start, _MESSAGE_ORDER[m.kind], m.reference),
        )
        return MrpResult(
            planned_orders=tuple(orders),
            messages=tuple(messages),
            projections=dict(sorted(self.projections.items())),
            demand_supply=demand_supply,
            receipt_pegs=receipt_pegs,
            low_level_codes=dict(sorted(self.llc.items())),
        )


def _pegs(raw: list) -> tuple[Peg, ...]:
    if len(raw) == 1:  # most orders serve one requirement
        qty, top_kind, top_demand, via, _prio = raw[0]
        if via:
            return (Peg(qty, PegKind.PLANNED_ORDER, via[0], top_kind, top_demand, via),)
        return (Peg(qty, top_kind, top_demand or "", top_kind, top_demand, via),)
    merged: dict[tuple, Decimal] = {}
    for qty, top_kind, top_demand, via, _prio in raw:
        key = (top_kind, top_demand, via)
        merged[key] = merged.get(key, ZERO) + qty
    out = []
    for (top_kind, top_demand, via), qty in merged.items():
        if via:
            out.append(Peg(qty, PegKind.PLANNED_ORDER, via[0], top_kind, top_demand, via))
        else:
            out.append(Peg(qty, top_kind, top_demand or "", top_kind, top_demand, via))
    return tuple(out)


def mrp_run(data: MrpInput) -> MrpResult:
    """Plan materials for `data`; raises `MrpInputError` (a ValueError) on bad input."""
    # A large run allocates around a million small objects and frees none of them until it
    # ends; the cyclic garbage collector would walk them again and again (a run took 3-4×
    # longer inside a process already holding many objects). The engine makes no reference
    # cycles — reference counting frees everything — so collection pauses for the run.
    with gc_paused():
        run = _Run(data)
        for code in sorted(run.items, key=lambda c: (run.llc[c], c)):
            run.plan_item(code)
        return run.result()
