"""The session store (SESSION_ENGINE): Django's database sessions, read by a statement
written once and prepared.

Every request of a signed-in browser or terminal reads its session first; Django's store
builds the ORM's `get` for it each time, which cost more CPU than the statement itself
(core/rawsql.py; bench/README.md "The single-event path"). Same table, same rows, same
encoding and expiry rule (`expire_date` after now) as `django.contrib.sessions.backends.db`,
whose writes, async reads and cleanup this store keeps."""

from django.contrib.sessions.backends import db
from django.db import connection
from django.utils import timezone

from .rawsql import Columns, cursor_prepared

_sql: dict[str, str] = {}
_columns: list[Columns] = []


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        model = self.model
        if not _columns or _columns[0].model is not model:
            _columns[:] = [Columns(model, "s")]
        columns = _columns[0]
        key = connection.vendor
        if key not in _sql:
            qn = connection.ops.quote_name
            meta = model._meta
            _sql[key] = (
                f"SELECT {columns.sql()} FROM {qn(meta.db_table)} s "
                f"WHERE s.{qn(meta.get_field('session_key').column)} = %s "
                f"AND s.{qn(meta.get_field('expire_date').column)} > %s"
            )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with cursor_prepared() as cursor:
            cursor.execute(_sql[key], [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return columns.instance(row, 0)
