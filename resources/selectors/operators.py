"""The operator record of a signed-in person."""

from django.db import connection

from core.rawsql import Columns, cursor_prepared

from ..models import Operator

_OPERATOR = Columns(Operator, "o")
_USER = Operator._meta.get_field("user")
_sql: dict[str, str] = {}


def user_operator(user) -> Operator | None:
    """The operator record linked to this login, or None (anonymous, or no record).

    Read once per user object and kept where `user.operator` keeps it (the reverse
    one-to-one's cache, None included, as Django does), so either spelling asks the
    database once. Every production event posted by a person asks it; the statement is
    written by hand and prepared, as the event's own lookups are (core/rawsql.py)."""
    if not getattr(user, "is_authenticated", False):
        return None
    related = _USER.remote_field
    if related.is_cached(user):
        return related.get_cached_value(user)
    key = connection.vendor
    if key not in _sql:
        qn = connection.ops.quote_name
        _sql[key] = (
            f"SELECT {_OPERATOR.sql()} FROM {qn(Operator._meta.db_table)} o "
            f"WHERE o.{qn(_USER.column)} = %s"
        )
    with cursor_prepared() as cursor:
        cursor.execute(_sql[key], [user.pk])
        row = cursor.fetchone()
    operator = _OPERATOR.instance(row, 0) if row is not None else None
    related.set_cached_value(user, operator)
    if operator is not None:
        _USER.set_cached_value(operator, user)
    return operator
