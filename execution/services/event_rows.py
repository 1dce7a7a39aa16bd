"""What one production event reads, in one statement written by hand (see core/rawsql.py
for why): its task, locked, with everything the rules and the writes of
`events.event_record` ask of it, and whether its id was seen, the sender's operator record
and the task's shift calendar.

The task statement is the ORM's `select_for_update(of=("self",), no_key=True)
.select_related("order__item", "operation__work_center__area__site", "operator")` that the
one-at-a-time path used, plus what it used to ask in further queries: the order's first and
last operation sequence (is this the first operation, for a new unit or lot; the last, whose
quantities the order counts) and the task of the next operation with its status (made ready
when this one has made something). With an event id, a user and an instant, it also reads
what used to take three more statements: whether the id is in the log or held for approval,
the user's operator record (kept where `resources.selectors.operators.user_operator` keeps
it), and the shift patterns and holidays of the task's work center (resources'
`shift_calendar_sql`). Private to recording events.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connections

from core.rawsql import Columns, cursor_prepared
from planning.models import OrderOperation, ProductionOrder
from resources.models import Area, Item, Operator, Site, WorkCenter
from resources.selectors.calendar import (
    shift_calendar_params,
    shift_calendar_read,
    shift_calendar_sql,
)

from ..models import EventApproval, ProductionEvent, Task


@dataclass(slots=True)
class TaskRow:
    task: Task
    first_sequence: int
    last_sequence: int
    next_task_id: int | None
    next_status: str | None
    next_operation_id: int | None
    seen: int = 0  # with an event id: 1 in the log, 2 held for approval, 0 neither
    calendar: tuple | None = None  # with an instant: the work center's (shifts, holidays)


_TASK = Columns(Task, "t")
_JOINED = (  # (columns, field of the parent instance it fills, parent index, outer join)
    (Columns(ProductionOrder, "o"), Task._meta.get_field("order"), 0),
    (Columns(Item, "i"), ProductionOrder._meta.get_field("item"), 1),
    (Columns(OrderOperation, "p"), Task._meta.get_field("operation"), 0),
    (Columns(WorkCenter, "w"), OrderOperation._meta.get_field("work_center"), 3),
    (Columns(Area, "a"), WorkCenter._meta.get_field("area"), 4),
    (Columns(Site, "s"), Area._meta.get_field("site"), 5),
    (Columns(Operator, "r"), Task._meta.get_field("operator"), 0),
)
_USER_OPERATOR = Columns(Operator, "u")
_sql: dict[tuple, str | bool] = {}


def _task_sql(by_pk: bool, extras: bool = False) -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    key = (connection.vendor, by_pk, extras)
    if key in _sql:
        return _sql[key]
    qn = connection.ops.quote_name

    def table(model) -> str:
        return qn(model._meta.db_table)

    def col(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    task_t, op_t = table(Task), table(OrderOperation)
    seq, op_order = col(OrderOperation, "sequence"), col(OrderOperation, "order")
    select = ", ".join([_TASK.sql()] + [c.sql() for c, _f, _p in _JOINED])
    where = (
        f"t.{col(Task, 'id')} = %s"
        if by_pk
        else f"o.{col(ProductionOrder, 'number')} = %s AND p.{seq} = %s"
    )
    # The next operation's task: the Task model's order (due date, then sequence) within one
    # order is the sequence.
    next_task = (
        f"SELECT t2.{col(Task, 'id')} FROM {task_t} t2 INNER JOIN {op_t} p2 "
        f"ON p2.{col(OrderOperation, 'id')} = t2.{col(Task, 'operation')} "
        f"WHERE t2.{col(Task, 'order')} = t.{col(Task, 'order')} AND p2.{seq} > p.{seq} "
        f"ORDER BY p2.{seq} LIMIT 1"
    )
    lock = ""
    if connection.features.has_select_for_update:
        lock = " " + connection.ops.for_update_sql(
            of=("t",) if connection.features.has_select_for_update_of else (),
            no_key=connection.features.has_select_for_no_key_update,
        )
    # The extras, in this order: parameters event id (twice) and the calendar's two dates
    # in the SELECT list, the user's key in the join.
    more, join = "", ""
    if extras:
        event_t, approval_t = table(ProductionEvent), table(EventApproval)
        more = (
            f", COALESCE((SELECT 1 FROM {event_t} WHERE {col(ProductionEvent, 'event_id')} = %s), "
            f"(SELECT 2 FROM {approval_t} WHERE {col(EventApproval, 'event_id')} = %s), 0), "
            f"{_USER_OPERATOR.sql()}, "
            + shift_calendar_sql(f"w.{col(WorkCenter, 'id')}", f"s.{col(Site, 'id')}")
        )
        join = f"LEFT OUTER JOIN {table(Operator)} u ON u.{col(Operator, 'user')} = %s "
    sql = (
        f"SELECT {select}, "
        f"(SELECT MIN(x.{seq}) FROM {op_t} x WHERE x.{op_order} = t.{col(Task, 'order')}), "
        f"(SELECT MAX(x.{seq}) FROM {op_t} x WHERE x.{op_order} = t.{col(Task, 'order')}), "
        f"n.{col(Task, 'id')}, n.{col(Task, 'status')}, n.{col(Task, 'operation')}{more} "
        f"FROM {task_t} t "
        f"INNER JOIN {table(ProductionOrder)} o ON o.{col(ProductionOrder, 'id')} = t.{col(Task, 'order')} "
        f"INNER JOIN {table(Item)} i ON i.{col(Item, 'id')} = o.{col(ProductionOrder, 'item')} "
        f"INNER JOIN {op_t} p ON p.{col(OrderOperation, 'id')} = t.{col(Task, 'operation')} "
        f"INNER JOIN {table(WorkCenter)} w ON w.{col(WorkCenter, 'id')} = p.{col(OrderOperation, 'work_center')} "
        f"INNER JOIN {table(Area)} a ON a.{col(Area, 'id')} = w.{col(WorkCenter, 'area')} "
        f"INNER JOIN {table(Site)} s ON s.{col(Site, 'id')} = a.{col(Area, 'site')} "
        f"LEFT OUTER JOIN {table(Operator)} r ON r.{col(Operator, 'id')} = t.{col(Task, 'operator')} "
        f"LEFT OUTER JOIN {task_t} n ON n.{col(Task, 'id')} = ({next_task}) "
        f"{join}"
        f"WHERE {where} "
        f"ORDER BY o.{col(ProductionOrder, 'due_date')}, p.{seq}, t.{col(Task, 'id')} LIMIT 1"
        f"{lock}"
    )
    _sql[key] = sql
    return sql


def _in_range(value: int, field) -> bool:
    """Whether the database can compare the field with the value (the ORM answers "no
    rows" for a number outside the column's range instead of sending it)."""
    low, high = connections[DEFAULT_DB_ALIAS].ops.integer_field_range(field.get_internal_type())
    return (low is None or value >= low) and (high is None or value <= high)


def _calendar_in_sql() -> bool:
    """Whether this database reads the calendar inside the task's statement (asked once)."""
    key = ("calendar", connections[DEFAULT_DB_ALIAS].vendor)
    if key not in _sql:
        _sql[key] = shift_calendar_sql("0", "0") is not None
    return _sql[key]


def task_row_lock(
    *,
    pk: int | None = None,
    number: str | None = None,
    sequence=None,
    event_id: str | None = None,
    user=None,
    at: datetime | None = None,
):
    """The task named by id, or by order number and operation sequence, locked (NO KEY
    UPDATE, as the ORM's lookup took it), with its order, item, operation, work center,
    area, site and operator; None when there is none.

    With `event_id`, `user` and `at` (the one-event path), also whether the id was seen, the
    user's operator record (cached on the user) and the work center's calendar around `at`,
    in the same statement where the database can (`shift_calendar_sql`)."""
    if number is None:
        if pk is None or not _in_range(pk, Task._meta.pk):
            return None
        where: list = [pk]
    else:
        if not _in_range(sequence, OrderOperation._meta.get_field("sequence")):
            return None
        where = [number, sequence]
    extras = event_id is not None and at is not None and _calendar_in_sql()
    params = where
    user_pk = None
    if extras:
        if getattr(user, "is_authenticated", False):
            user_pk = user.pk
        params = [event_id, event_id, *shift_calendar_params(at), user_pk, *where]
    with cursor_prepared() as cursor:
        cursor.execute(_task_sql(number is None, extras), params)
        row = cursor.fetchone()
    if row is None:
        return None
    objs = [_TASK.instance(row, 0)]
    at_col = len(_TASK.fields)
    for columns, field, parent in _JOINED:
        obj = columns.instance(row, at_col)
        at_col += len(columns.fields)
        # As select_related fills them: the parent's cache, and a one-to-one's reverse side.
        field.set_cached_value(objs[parent], obj)
        if obj is not None and field.one_to_one:
            field.remote_field.set_cached_value(obj, objs[parent])
        objs.append(obj)
    first, last, next_id, next_status, next_operation = row[at_col : at_col + 5]
    out = TaskRow(objs[0], first, last, next_id, next_status, next_operation)
    if extras:
        at_col += 5
        out.seen = row[at_col]
        if user_pk is not None:
            operator = _USER_OPERATOR.instance(row, at_col + 1)
            # Where `user_operator` keeps it: that function (and `user.operator`) asks no more.
            user_field = Operator._meta.get_field("user")
            user_field.remote_field.set_cached_value(user, operator)
            if operator is not None:
                user_field.set_cached_value(operator, user)
        at_col += 1 + len(_USER_OPERATOR.fields)
        out.calendar = shift_calendar_read(row[at_col], row[at_col + 1])
    return out


def event_id_seen(event_id: str) -> ProductionEvent | EventApproval | None:
    """The logged event with this id, else the approval holding it, else None: one
    statement for the common answer (neither)."""
    connection = connections[DEFAULT_DB_ALIAS]
    qn = connection.ops.quote_name
    key = (connection.vendor, "seen")
    if key not in _sql:
        event_col = qn(ProductionEvent._meta.get_field("event_id").column)
        approval_col = qn(EventApproval._meta.get_field("event_id").column)
        _sql[key] = (
            f"SELECT 1 FROM {qn(ProductionEvent._meta.db_table)} WHERE {event_col} = %s "
            f"UNION ALL SELECT 2 FROM {qn(EventApproval._meta.db_table)} "
            f"WHERE {approval_col} = %s"
        )
    with cursor_prepared() as cursor:
        cursor.execute(_sql[key], [event_id, event_id])
        found = {kind for (kind,) in cursor.fetchall()}
    return event_id_found(event_id, min(found)) if found else None


def event_id_found(event_id: str, seen: int) -> ProductionEvent | EventApproval | None:
    """The logged event (`seen` 1) or else the approval (2) that holds this id."""
    if seen == 1:
        existing = ProductionEvent.objects.filter(event_id=event_id).first()
        if existing is not None:
            return existing
    return EventApproval.objects.filter(event_id=event_id).first()
