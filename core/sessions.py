"""The session store (SESSION_ENGINE): Django's database sessions in core.Session, which
keeps the signed-in account beside the encoded data; a request reads its session, its user
and the user's roles in one statement, written once and prepared.

Every request of a signed-in browser or terminal reads its session and then its user;
Django's store builds the ORM's `get` each time, which cost more CPU than the statement
itself (core/rawsql.py; bench/README.md "The single-event path"), and the user took a second
round trip. Same encoding and expiry rule (`expire_date` after now) as
`django.contrib.sessions.backends.db`, whose writes, async reads and cleanup this store
keeps. The user read with the session is handed to the authentication backend
(core.auth.AccountBackend) through `current_session`, set for the request by
core.middleware.SessionMiddleware; Django's own checks on it (the backend named in the
session, the password hash the session was signed with, `is_active`) run as before."""

from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends import db
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from .rawsql import Columns, cursor_prepared

# The session of the request being served (None outside one).
current_session: ContextVar["SessionStore | None"] = ContextVar("current_session", default=None)

_sql: dict[tuple, tuple[str, Columns, Columns]] = {}


class SessionStore(db.SessionStore):
    # The account read with the session: (user id, user or None), None until read.
    prefetched_user = None

    @classmethod
    def get_model_class(cls):
        from .models import Session  # the models import this module (get_session_store_class)

        return Session

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        try:
            instance.user_id = int(user_id) if user_id is not None else None
        except (TypeError, ValueError):
            instance.user_id = None
        return instance

    def _get_session_from_db(self):
        connection = connections[DEFAULT_DB_ALIAS]
        model, user_model = self.model, get_user_model()
        key = (connection.vendor, model, user_model)
        if key not in _sql:
            _sql[key] = _statement(connection, model, user_model)
        sql, session_columns, user_columns = _sql[key]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with cursor_prepared() as cursor:
            cursor.execute(sql, [self.session_key, now])
            rows = cursor.fetchall()
        if not rows:
            self._session_key = None
            return None
        session = session_columns.instance(rows[0], 0)
        user = user_columns.instance(rows[0], len(session_columns.fields))
        if user is not None:
            user._role_names = {row[-1] for row in rows if row[-1] is not None}
        self.prefetched_user = (session.user_id, user)
        return session


def _statement(connection, model, user_model) -> tuple[str, Columns, Columns]:
    """The session by key and expiry, with its account (LEFT JOIN: a session signed out or
    never signed in has none) and one row per role of the account."""
    qn = connection.ops.quote_name
    meta, user_meta = model._meta, user_model._meta
    session_columns, user_columns = Columns(model, "s"), Columns(user_model, "u")
    groups = user_meta.get_field("groups")
    group = groups.related_model._meta
    sql = (
        f"SELECT {session_columns.sql()}, {user_columns.sql()}, "
        f"g.{qn(group.get_field('name').column)} "
        f"FROM {qn(meta.db_table)} s "
        f"LEFT OUTER JOIN {qn(user_meta.db_table)} u "
        f"ON u.{qn(user_meta.pk.column)} = s.{qn(meta.get_field('user').column)} "
        f"LEFT OUTER JOIN {qn(groups.m2m_db_table())} m "
        f"ON m.{qn(groups.m2m_column_name())} = u.{qn(user_meta.pk.column)} "
        f"LEFT OUTER JOIN {qn(group.db_table)} g "
        f"ON g.{qn(group.pk.column)} = m.{qn(groups.m2m_reverse_name())} "
        f"WHERE s.{qn(meta.get_field('session_key').column)} = %s "
        f"AND s.{qn(meta.get_field('expire_date').column)} > %s"
    )
    return sql, session_columns, user_columns
