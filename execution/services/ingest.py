"""Set-based ingestion of production-event batches.

A device or an external MES sends hundreds of quantity reports at a time, nearly all on
tasks that are already running. One at a time, each costs a transaction and a dozen
queries; here a run of consecutive reports costs a fixed number of queries:

1. resolve the tasks the run names and lock them, in primary-key order (the lock order of
   every writer of these rows: task, then its operation, then its order);
2. load, in one query each, the orders' operation sequences and tasks, the operators and
   machines named, the units and lots named, and the event ids already in the log;
3. validate every event in memory with `events.event_validate`, the very function the
   one-at-a-time path uses, so rules, their order and the messages are the same; earlier
   events of the run count for later ones (a duplicate id, a unit created at the first
   operation, the next task made ready);
4. write: new units and lots, the accepted events (by COPY on PostgreSQL), the summed
   quantities added to the tasks, operations and orders (one UPDATE per table, quantity =
   quantity + sum, as F() does), the next tasks made ready, and one outbox row listing the
   run's events.

Anything else — state changes (start, pause, resume, complete), which book labour and move
orders — goes through `event_record` one at a time, in its place in the batch: the run
before it is written first, and the run after it loads afresh. An event the run cannot
answer from what it loaded (a task created since) ends the run the same way. Registered
gates are asked event by event as they would be alone (only gates registered as
batch-safe; with any other gate registered, the whole batch goes one at a time). A gate may
read the log, which lacks the run's own events until the run is written: the inspection
gate's every-n-th sampling asks where a unit first appeared in its order, and a unit first
seen earlier in the run is not there yet — the gate then takes it as sampled, the strict
answer. So a gate's refusal of an event whose unit or lot already has events in the run is
not final: the run ends before it and it goes through `event_record`, after the run is
written (refusals are rare; accepted events, the common case, cost nothing more). If
the database refuses a run (a concurrent request inserted one of its event ids, a
deadlock), the run is rolled back and its events go one at a time, which answers races
exactly as a single request would.
"""

import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from core.counters import counters_add
from core.events import emit
from core.gc_pause import gc_paused
from planning.models import OrderOperation, ProductionOrder
from planning.services.operations import operations_ready
from planning.services.quantities import quantities_post
from resources.models import Equipment, Item, MaterialLot, Operator, SerialUnit
from resources.services.tracking import material_lots_create, serial_units_create

from ..models import EventApproval, ProductionEvent, Task
from . import events
from .events import EventResult, TaskRef
from .plausibility import HeldForApproval, backdate_cutoff

logger = logging.getLogger(__name__)

ONE_AT_A_TIME = frozenset(
    (
        ProductionEvent.Kind.START,
        ProductionEvent.Kind.PAUSE,
        ProductionEvent.Kind.RESUME,
        ProductionEvent.Kind.COMPLETE,
    )
)
MAX_RUN = 1000  # events per transaction: bounds how long the task rows stay locked
_PK_MAX = 2**63 - 1  # BigAutoField


class _NotHere(Exception):
    """This event must go through `event_record` (raised by the batch lookup)."""


def _one_at_a_time(data: dict) -> bool:
    kind = data.get("kind")
    return isinstance(kind, str) and kind in ONE_AT_A_TIME


def events_ingest(
    *,
    items: list,
    by=None,
    source: str = ProductionEvent.Source.API,
    min_batch: int = 2,
) -> list[EventResult]:
    """Record a batch: the answers `event_record` would give for each event in turn."""
    items = [item if isinstance(item, dict) else {} for item in items]
    if len(items) < min_batch or not events.gates_batch_safe():
        return [events.event_record(data=data, by=by, source=source) for data in items]
    # The thousands of objects a batch makes would start Python's cyclic garbage collector
    # over and over (a quarter of the time, measured); they live until the batch is
    # answered anyway, so collection waits until then.
    with gc_paused():
        return _ingest(items, by, source)


def _ingest(items: list[dict], by, source: str) -> list[EventResult]:
    results: list[EventResult | None] = [None] * len(items)
    i = 0
    while i < len(items):
        if _one_at_a_time(items[i]):
            results[i] = events.event_record(data=items[i], by=by, source=source)
            i += 1
            continue
        end = i
        while end < len(items) and end - i < MAX_RUN and not _one_at_a_time(items[end]):
            end += 1
        run = _Run(items, i, end, by, source)
        try:
            with transaction.atomic():
                run.validate()
                run.write()
        except DatabaseError as exc:
            # Rolled back: a race on an event id or a unit, or a deadlock. One at a time,
            # each event is answered as a single request racing the other would be.
            logger.info("batch run of %d events goes one at a time: %s", run.stop - i, exc)
            for k in range(i, run.stop):
                results[k] = events.event_record(data=items[k], by=by, source=source)
        else:
            results[i : run.stop] = run.results
        i = run.stop
        if run.stop < end:  # the run stopped at an event it cannot answer exactly
            results[i] = events.event_record(data=items[i], by=by, source=source)
            i += 1
    return results  # type: ignore[return-value]


class _Run(events.Lookup):
    """Consecutive events of a batch, validated in memory and written together."""

    def __init__(self, items: list[dict], start: int, end: int, by, source: str):
        self.items, self.start, self.end, self.by, self.source = items, start, end, by, source
        self.stop = end  # first event not handled here
        self.results: list[EventResult] = []
        self.accepted: dict[str, ProductionEvent] = {}
        self.payloads: list[dict] = []
        self.rows: list[tuple[ProductionEvent, dict, SerialUnit | None, MaterialLot | None]] = []
        self.created_by_id = by.pk if getattr(by, "is_authenticated", False) else None
        self.new_units: list[SerialUnit] = []
        self.new_lots: list[MaterialLot] = []
        self.task_qty: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        self.operation_qty: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        self.order_qty: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        self.made_something: set[int] = set()  # tasks with good > 0: their next becomes ready
        # Units and lots with accepted events in this run, as (item id, code): what a gate
        # that reads the log cannot see yet (see `gates`). Kept only while gates are registered.
        self.gated = bool(events.gate_checks())
        self.units_in_run: set[tuple[int, str]] = set()
        self.lots_in_run: set[tuple[int, str]] = set()
        self.plain_init = not (
            pre_init.has_listeners(ProductionEvent) or post_init.has_listeners(ProductionEvent)
        )

    # --- loading -------------------------------------------------------------------------

    def _load(self) -> None:
        datas = self.items[self.start : self.end]
        self.refs: dict[int, TaskRef] = {}  # by id() of the event's dict
        for data in datas:
            try:
                self.refs[id(data)] = events._task_ref(data)
            except ValidationError:
                continue
        refs = self.refs.values()
        pks = {r.pk for r in refs if r.by_pk and r.pk is not None and 0 < r.pk <= _PK_MAX}
        numbers = {r.number for r in refs if not r.by_pk}
        found = Task.objects.filter(Q(pk__in=pks) | Q(order__number__in=numbers)).values_list(
            "pk", "order__number", "operation__sequence"
        )
        self.by_number: dict[tuple[str, int], int] = {}
        known: set[int] = set()
        for pk, number, sequence in found:
            self.by_number[(number, sequence)] = pk
            known.add(pk)
        wanted = {pk for pk in pks if pk in known}
        wanted.update(
            self.by_number[(r.number, r.sequence)]
            for r in refs
            if not r.by_pk and (r.number, r.sequence) in self.by_number
        )
        # Lock in primary-key order. NO KEY UPDATE, as an UPDATE takes: it excludes other
        # writers of these rows but not the foreign-key checks (KEY SHARE) of inserts that
        # name them — FOR UPDATE would, and two runs inserting events of the same orders
        # while locking them would deadlock.
        self.tasks: dict[int, Task] = {
            t.pk: t
            for t in Task.objects.select_for_update(of=("self",), no_key=True)
            .select_related("order__item", "operation__work_center__area__site")
            .filter(pk__in=wanted)
            .order_by("pk")
        }
        # Orders named but without that operation, for the message (seldom any).
        self.orders_named = {number for number, _sequence in self.by_number}
        if numbers - self.orders_named:
            self.orders_named.update(
                ProductionOrder.objects.filter(number__in=numbers - self.orders_named).values_list(
                    "number", flat=True
                )
            )
        # The orders' operations (first and last sequence) and their tasks, by sequence:
        # which one is "next" after a report.
        order_ids = {t.order_id for t in self.tasks.values()}
        sequences: dict[int, list[int]] = defaultdict(list)
        self.order_tasks: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for order_id, sequence, task_id in (
            OrderOperation.objects.filter(order_id__in=order_ids)
            .order_by("sequence")
            .values_list("order_id", "sequence", "task__id")
        ):
            sequences[order_id].append(sequence)
            if task_id is not None:
                self.order_tasks[order_id].append((sequence, task_id))
        self.first_seq = {o: s[0] for o, s in sequences.items()}
        self.last_seq = {o: s[-1] for o, s in sequences.items()}

        badges = {events._lookup_key(d["operator"]) for d in datas if d.get("operator")}
        self.operators = (
            {o.badge: o for o in Operator.objects.filter(badge__in=badges)} if badges else {}
        )
        codes = {events._lookup_key(d["equipment"]) for d in datas if d.get("equipment")}
        self.machines = (
            {e.code: e for e in Equipment.objects.filter(code__in=codes)} if codes else {}
        )

        traced: dict[str, set[int]] = {Item.Tracking.SERIAL: set(), Item.Tracking.LOT: set()}
        trace_codes: set[str] = set()
        for t in self.tasks.values():
            if t.order.item.tracking in traced:
                traced[t.order.item.tracking].add(t.order.item_id)
        if traced[Item.Tracking.SERIAL] or traced[Item.Tracking.LOT]:
            for d in datas:
                try:
                    code = events._read_text(d, "trace_code").strip()
                except ValidationError:
                    continue
                if code:
                    trace_codes.add(code)
        self.units: dict[tuple[int, str], SerialUnit] = {}
        self.lots: dict[tuple[int, str], MaterialLot] = {}
        if traced[Item.Tracking.SERIAL] and trace_codes:
            for u in SerialUnit.objects.filter(
                item_id__in=traced[Item.Tracking.SERIAL], serial__in=trace_codes
            ):
                self.units[(u.item_id, u.serial)] = u
        if traced[Item.Tracking.LOT] and trace_codes:
            for lot in MaterialLot.objects.filter(
                item_id__in=traced[Item.Tracking.LOT], code__in=trace_codes
            ):
                self.lots[(lot.item_id, lot.code)] = lot

        # After the locks: a retry of this very batch that was waiting for them sees the
        # first one's events here. Another race on an id fails the insert (see events_ingest).
        ids = set()
        for d in datas:
            event_id, refused = events._read_event_id(d)
            if refused is None:
                ids.add(event_id)
        self.existing = {e.event_id: e for e in _events_logged(ids)}
        # Events held for approval answer from their approval, one at a time.
        self.held = set(
            EventApproval.objects.filter(event_id__in=ids).values_list("event_id", flat=True)
        )
        self.cutoffs: dict[int, datetime] = {}

    # --- the Lookup that event_validate asks -------------------------------------------------

    def task(self, data: dict) -> Task:
        ref = self.refs.get(id(data)) or events._task_ref(data)
        if ref.by_pk:
            task = self.tasks.get(ref.pk) if ref.pk is not None else None
            if task is None:
                raise ref.missing(False)
            return task
        pk = self.by_number.get((ref.number, ref.sequence))
        if pk is None:
            raise ref.missing(ref.number in self.orders_named)
        if pk not in self.tasks:  # created between the two queries: answer it alone
            raise _NotHere
        return self.tasks[pk]

    def operator(self, badge) -> Operator | None:
        return self.operators.get(events._lookup_key(badge))

    def equipment(self, code) -> Equipment | None:
        return self.machines.get(events._lookup_key(code))

    def first_sequence(self, task: Task) -> int:
        return self.first_seq[task.order_id]

    def previous_task(self, task: Task) -> Task | None:
        raise _NotHere  # only a start needs it, and starts go one at a time

    def unit(self, item: Item, code: str, *, create: bool) -> SerialUnit | None:
        if create:
            return self._new(SerialUnit(item=item, serial=code))
        return self.units.get((item.pk, code))

    def lot(self, item: Item, code: str, *, create: bool) -> MaterialLot | None:
        if create:
            return self._new(MaterialLot(item=item, code=code))
        return self.lots.get((item.pk, code))

    def _new(self, obj):
        """A unit or lot first seen at the first operation. Without gates it is inserted with
        the run's other writes, if its event is accepted (see _accept). A gate must be asked
        about a saved one, so then it is inserted now, in a savepoint that `validate` rolls
        back if the event is refused — as one event alone would be."""
        if events.gate_checks():
            self.savepoint = transaction.savepoint()
            obj.save(force_insert=True)
        return obj

    def backdate_cutoff(self, task: Task, now: datetime) -> datetime:
        work_center_id = task.operation.work_center_id
        if work_center_id not in self.cutoffs:
            self.cutoffs[work_center_id] = backdate_cutoff(task.operation.work_center, now)
        return self.cutoffs[work_center_id]

    def reported(self, task: Task) -> Decimal:
        good, scrap = self.task_qty.get(task.pk, (0, 0))
        return task.quantity_good + task.quantity_scrap + good + scrap

    def gates(self, *, task: Task, kind: str, unit, lot) -> None:
        try:
            for check in events.gate_checks():
                check(task=task, kind=kind, unit=unit, lot=lot)
        except events.REFUSALS:
            # The gate may have judged from a log that lacks this unit's (lot's) earlier
            # events of the run; alone, after the run is written, it sees them.
            if (unit is not None and (unit.item_id, unit.serial) in self.units_in_run) or (
                lot is not None and (lot.item_id, lot.code) in self.lots_in_run
            ):
                raise _NotHere from None
            raise

    # --- validating ------------------------------------------------------------------------

    def validate(self) -> None:
        self._load()
        now = timezone.now()
        by, results = self.by, self.results
        for index in range(self.start, self.end):
            data = self.items[index]
            event_id, refused = events._read_event_id(data)
            if refused is not None:
                results.append(refused)
                continue
            earlier = self.existing.get(event_id) or self.accepted.get(event_id)
            if earlier is not None:
                results.append(EventResult(event_id, "duplicate", 200, event=earlier))
                continue
            if event_id in self.held:
                self.stop = index
                return
            kind = data.get("kind")
            refused = events._kind_refused(event_id, kind)
            if refused is not None:
                results.append(refused)
                continue
            self.savepoint = None
            try:
                checked = events.event_validate(
                    event_id, kind, data, by, self, now, source=self.source
                )
            except (_NotHere, HeldForApproval):
                # A held event is answered alone: `event_record` writes its approval.
                if self.savepoint is not None:
                    transaction.savepoint_rollback(self.savepoint)
                self.stop = index
                return
            except events.REFUSALS as exc:
                if self.savepoint is not None:
                    transaction.savepoint_rollback(self.savepoint)
                results.append(events._rejection(event_id, exc))
                continue
            if self.savepoint is not None:  # a unit or lot saved for the gates: keep it
                transaction.savepoint_commit(self.savepoint)
                if checked.unit is not None:
                    self.units[(checked.unit.item_id, checked.unit.serial)] = checked.unit
                if checked.lot is not None:
                    self.lots[(checked.lot.item_id, checked.lot.code)] = checked.lot
            results.append(self._accept(event_id, kind, checked))

    def _accept(self, event_id: str, kind: str, c: events.Checked) -> EventResult:
        task = c.task
        unit, lot = c.unit, c.lot
        if unit is not None and unit.pk is None:  # new at the first operation
            unit = self.units.setdefault((unit.item_id, unit.serial), unit)
            if unit is c.unit:
                self.new_units.append(unit)
        if lot is not None and lot.pk is None:
            lot = self.lots.setdefault((lot.item_id, lot.code), lot)
            if lot is c.lot:
                self.new_lots.append(lot)
        if self.gated:
            if unit is not None:
                self.units_in_run.add((unit.item_id, unit.serial))
            if lot is not None:
                self.lots_in_run.add((lot.item_id, lot.code))
        trace_code = c.trace_code[:100]
        row = _EVENT_DEFAULTS.copy()  # every column, in the model's order
        row["event_id"] = event_id
        row["kind"] = kind
        row["task_id"] = task.pk
        row["order_id"] = task.order_id
        row["operation_id"] = task.operation_id
        row["operator_id"] = c.operator.pk if c.operator is not None else None
        row["equipment_id"] = c.equipment.pk if c.equipment is not None else task.equipment_id
        row["quantity_good"] = c.good
        row["quantity_scrap"] = c.scrap
        row["reason"] = c.reason[:200]
        row["trace_code"] = trace_code
        row["occurred_at"] = c.occurred
        row["source"] = self.source
        row["created_by_id"] = self.created_by_id
        for f in _EVENT_CALLABLE_DEFAULTS:
            row[f.attname] = f.get_default()
        event = _event_instance(row, self.plain_init)
        self.accepted[event_id] = event
        self.rows.append((event, row, unit, lot))
        self.payloads.append(events._event_payload(event_id, kind, c, trace_code))
        good, scrap = c.good, c.scrap
        if good or scrap:
            totals = self.task_qty[task.pk]
            totals[0] += good
            totals[1] += scrap
            totals = self.operation_qty[task.operation_id]
            totals[0] += good
            totals[1] += scrap
            if task.operation.sequence == self.last_seq[task.order_id]:
                totals = self.order_qty[task.order_id]
                totals[0] += good
                totals[1] += scrap
        if good > 0 and task.pk not in self.made_something:
            self.made_something.add(task.pk)
            # As `_ready_next` will: later events of this run see the next task ready.
            nxt = self._next_task(task)
            if (
                nxt is not None
                and nxt in self.tasks
                and self.tasks[nxt].status == Task.Status.QUEUED
            ):
                self.tasks[nxt].status = Task.Status.READY
        return EventResult(event_id, "accepted", 201, event=event)

    def _next_task(self, task: Task) -> int | None:
        for sequence, pk in self.order_tasks[task.order_id]:
            if sequence > task.operation.sequence:
                return pk
        return None

    # --- writing ---------------------------------------------------------------------------

    def write(self) -> None:
        if self.new_units:
            serial_units_create(units=self.new_units)
        if self.new_lots:
            material_lots_create(lots=self.new_lots)
        if not self.rows:
            return
        for event, row, unit, lot in self.rows:
            if unit is not None:
                event.unit_id = row["unit_id"] = unit.pk
            if lot is not None:
                event.lot_id = row["lot_id"] = lot.pk
        _insert_events(self.rows)
        # The tasks are locked already; planning locks operations, then orders, in key
        # order before one UPDATE each adds the run's sums.
        counters_add(Task, self.task_qty, good_field="quantity_good", lock=False)
        quantities_post(operations=self.operation_qty, orders=self.order_qty)
        if self.made_something:
            nexts = {self._next_task(self.tasks[pk]) for pk in self.made_something} - {None}
            queued = list(
                Task.objects.filter(pk__in=nexts, status=Task.Status.QUEUED)
                .order_by("pk")
                .values_list("pk", "operation_id")
            )
            if queued:
                Task.objects.filter(
                    pk__in=[pk for pk, _op in queued], status=Task.Status.QUEUED
                ).update(status=Task.Status.READY)
                operations_ready(operation_ids=[op for _pk, op in queued])
        # One domain event for the run (as `event_record` writes one for its transaction).
        emit(events.EVENTS_RECORDED, {"events": self.payloads}, dispatch_on_commit=False)


def _events_logged(ids: set[str]) -> list[ProductionEvent]:
    """The events of the log with these ids (seldom any). On PostgreSQL the ids go as one
    array parameter: a thousand placeholders cost more to bind than the lookup itself."""
    if not ids:
        return []
    if connection.vendor == "postgresql":
        meta = ProductionEvent._meta
        qn = connection.ops.quote_name
        column = qn(meta.get_field("event_id").column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column} FROM {qn(meta.db_table)} WHERE {column} = ANY(%s)",
                [list(ids)],
            )
            ids = {event_id for (event_id,) in cursor.fetchall()}
        if not ids:
            return []
    return list(ProductionEvent.objects.filter(event_id__in=ids))


def _event_instance(row: dict, plain: bool) -> ProductionEvent:
    """The model instance for a row, built as Model.__init__ would leave it (values in
    __dict__, a fresh _state) at a third of its cost — `plain`: unless something listens
    to its pre_init/post_init signals."""
    if not plain:
        return ProductionEvent(**row)
    event = ProductionEvent.__new__(ProductionEvent)
    event.__dict__.update(row)
    event._state = ModelState()
    return event


_EVENT_FIELDS = ProductionEvent._meta.concrete_fields
_EVENT_DEFAULTS = {f.attname: None if f.primary_key else f.get_default() for f in _EVENT_FIELDS}
_EVENT_CALLABLE_DEFAULTS = [f for f in _EVENT_FIELDS if f.has_default() and callable(f.default)]


# --- inserting many rows ------------------------------------------------------------------


def _copy_cursor(cursor):
    """The psycopg 3 cursor under Django's wrapper, if COPY is available."""
    if connection.vendor != "postgresql":
        return None
    raw = getattr(cursor, "cursor", None)
    return raw if hasattr(raw, "copy") else None


def _insert_events(rows: list[tuple[ProductionEvent, dict, object, object]]) -> None:
    """Append the events to the log. On PostgreSQL by COPY (several times faster than a
    multi-row INSERT), with ids drawn from the table's sequence first so that each answer
    can carry its event's id; an event_id already in the log fails the whole COPY."""
    new_events = [event for event, _row, _unit, _lot in rows]
    with connection.cursor() as cursor:
        raw = _copy_cursor(cursor)
        if raw is None:
            ProductionEvent.objects.bulk_create(new_events)
            return
        meta = ProductionEvent._meta
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        received = timezone.now()
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in _EVENT_FIELDS)
        oids = _binary_types(raw, _EVENT_FIELDS)
        binary = " (FORMAT BINARY)" if oids else ""
        # Django wraps execute(), not copy(): map psycopg's errors to django.db's here.
        with (
            connection.wrap_database_errors,
            raw.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN{binary}") as copy,
        ):
            if oids:
                copy.set_types(oids)
            for (event, row, _unit, _lot), pk in zip(rows, ids, strict=True):
                event.pk = row[meta.pk.attname] = pk
                event.received_at = row["received_at"] = received
                copy.write_row(tuple(row.values()))
    for event in new_events:
        event._state.adding = False
        event._state.db = connection.alias


def _binary_types(raw, fields) -> list[int] | None:
    """The column types for a binary COPY (half the work of text on both sides), or None
    if psycopg does not know one of them by name."""
    names = [field.db_type(connection).split("(")[0] for field in fields]
    infos = [raw.connection.adapters.types.get(name) for name in names]
    return None if None in infos else [info.oid for info in infos]
