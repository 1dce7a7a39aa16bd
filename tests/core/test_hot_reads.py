"""The reads every request or production event makes, written by hand (core/rawsql.py):
the session, the signed-in user, the user's roles, the user's operator record, instances from hand-read rows,
and the outbox row. Each answers what the ORM answered."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models.signals import post_init, pre_save
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from core.auth import AccountBackend
from core.events import emit
from core.models import OutboxEvent, Session
from core.rawsql import Columns
from core.roles import Role, roles_ensure, user_roles
from core.sessions import SessionStore
from resources.models import Area, Operator, Site, WorkCenter
from resources.selectors.operators import user_operator

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db):
    roles_ensure()
    user = get_user_model().objects.create_user("hot-reader", password="hot-pass-1")
    user.groups.add(Group.objects.get(name=Role.SUPERVISOR), Group.objects.get(name=Role.PLANNER))
    return user


def test_roles_are_the_groups_names_read_once(person):
    fresh = get_user_model().objects.get(pk=person.pk)
    with CaptureQueriesContext(connection) as ctx:
        assert user_roles(fresh) == {Role.SUPERVISOR, Role.PLANNER}
        assert user_roles(fresh) == {Role.SUPERVISOR, Role.PLANNER}
    assert len(ctx.captured_queries) == 1
    lazy = SimpleLazyObject(lambda: get_user_model().objects.get(pk=person.pk))  # request.user
    assert user_roles(lazy) == set(person.groups.values_list("name", flat=True))
    nobody = get_user_model().objects.create_user("hot-nobody", password="hot-pass-2")
    assert user_roles(nobody) == set()


def test_the_signed_in_user_is_the_row_the_orm_reads(person, client):
    backend = AccountBackend()
    with CaptureQueriesContext(connection) as ctx:
        user = backend.get_user(person.pk)
        # Its roles came with it: the permission policy's next question asks nothing more.
        assert user_roles(user) == {Role.SUPERVISOR, Role.PLANNER}
    assert len(ctx.captured_queries) == 1
    orm = get_user_model().objects.get(pk=person.pk)
    fields = [f.attname for f in get_user_model()._meta.concrete_fields]
    assert [getattr(user, f) for f in fields] == [getattr(orm, f) for f in fields]
    assert user.check_password("hot-pass-1") and user.is_authenticated
    assert not user._state.adding and user._state.db == "default"
    # A session signs in through it and keeps working (the login's backend path).
    assert client.get("/api/v1/sales-orders/").status_code == 401  # signed out
    assert client.login(username="hot-reader", password="hot-pass-1")
    assert client.session["_auth_user_backend"] == "core.auth.AccountBackend"
    assert client.get("/api/v1/sales-orders/").status_code == 200
    # A user without roles: one row, no role; a role added shows at the next read.
    bare = get_user_model().objects.create_user("hot-bare", password="hot-pass-3")
    assert user_roles(backend.get_user(bare.pk)) == set()
    bare.groups.add(Group.objects.get(name=Role.OPERATOR))
    assert user_roles(backend.get_user(bare.pk)) == {Role.OPERATOR}
    # Deactivated, deleted, or an id that is not one: nobody.
    get_user_model().objects.filter(pk=person.pk).update(is_active=False)
    assert backend.get_user(person.pk) is None
    assert backend.get_user(10**9) is None
    assert backend.get_user("not-a-number") is None


def test_operator_record_read_once_and_shared_with_the_accessor(person):
    site = Site.objects.create(code="HOT", name="Hot")
    area = Area.objects.create(site=site, code="HOT-A", name="Hot area")
    center = WorkCenter.objects.create(area=area, code="HOT-WC", name="Hot WC")
    operator = Operator.objects.create(
        user=person, badge="HOT-1", name="Hot One", home_work_center=center
    )
    fresh = get_user_model().objects.get(pk=person.pk)
    with CaptureQueriesContext(connection) as ctx:
        found = user_operator(fresh)
        assert fresh.operator is found  # the accessor's cache: no second query
        assert found.user is fresh
    assert len(ctx.captured_queries) == 1
    assert found == operator
    assert [getattr(found, f.attname) for f in Operator._meta.concrete_fields] == [
        getattr(operator, f.attname) for f in Operator._meta.concrete_fields
    ]
    other = get_user_model().objects.create_user("hot-other", password="hot-pass-3")
    with CaptureQueriesContext(connection) as ctx:
        assert user_operator(other) is None
        assert user_operator(other) is None
        assert not hasattr(other, "operator")  # None kept where Django keeps it
    assert len(ctx.captured_queries) == 1
    assert user_operator(None) is None


def test_instances_from_hand_read_rows_equal_the_orms(person):
    columns = Columns(get_user_model(), "u")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns.sql()} FROM {get_user_model()._meta.db_table} u WHERE u.id = %s",
            [person.pk],
        )
        built = columns.instance(cursor.fetchone(), 0)
    orm = get_user_model().objects.get(pk=person.pk)
    names = [f.attname for f in get_user_model()._meta.concrete_fields]
    assert [getattr(built, n) for n in names] == [getattr(orm, n) for n in names]
    assert built._state.adding is False and built._state.db == "default"
    built.first_name = "Changed"
    built.save(update_fields=["first_name"])  # a saved row: an UPDATE, not an INSERT
    assert get_user_model().objects.get(pk=person.pk).first_name == "Changed"


def test_instances_go_through_init_when_someone_listens(person):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    model = get_user_model()
    post_init.connect(receiver, sender=model)
    try:
        columns = Columns(model, "u")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns.sql()} FROM {model._meta.db_table} u WHERE u.id = %s",
                [person.pk],
            )
            columns.instance(cursor.fetchone(), 0)
    finally:
        post_init.disconnect(receiver, sender=model)
    assert seen == [person.pk]


def test_outbox_row_as_the_orm_wrote_it():
    event = emit("hot.topic", {"n": 1, "text": "ü"}, dispatch_on_commit=False)
    stored = OutboxEvent.objects.get(pk=event.pk)
    assert stored.topic == "hot.topic" and stored.payload == {"n": 1, "text": "ü"}
    assert stored.created_at is not None and stored.dispatched_at is None
    assert stored.attempts == 0 and stored.last_error == ""


def test_outbox_row_saved_through_the_orm_when_someone_listens():
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.topic)

    pre_save.connect(receiver, sender=OutboxEvent)
    try:
        emit("hot.heard", {}, dispatch_on_commit=False)
    finally:
        pre_save.disconnect(receiver, sender=OutboxEvent)
    assert seen == ["hot.heard"]


def test_session_read_by_the_store(person, client):
    client.force_login(person)
    key = client.session.session_key
    store = SessionStore(key)
    assert store.get("_auth_user_id") == str(person.pk)
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    expired = SessionStore(key)
    assert expired.get("_auth_user_id") is None and expired.session_key is None
    assert SessionStore("no-such-session-key-0000").load() == {}


def test_the_session_comes_with_its_user_and_roles_in_one_statement(person, client):
    client.force_login(person)
    client.get("/api/v1/execution/events/")  # the first request may set the idle limit
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/execution/events/").status_code == 200
    reads = [q["sql"] for q in ctx.captured_queries if "core_session" in q["sql"]]
    assert len(reads) == 1 and "auth_user_groups" in reads[0]
    others = [q["sql"] for q in ctx.captured_queries if "core_session" not in q["sql"]]
    assert not [sql for sql in others if '"auth_user"' in sql]  # no second read of the user
    assert Session.objects.get(session_key=client.session.session_key).user_id == person.pk


def test_a_deactivated_or_deleted_account_signs_its_sessions_out(person, client):
    client.force_login(person)
    assert client.get("/api/v1/execution/events/").status_code == 200
    get_user_model().objects.filter(pk=person.pk).update(is_active=False)
    assert client.get("/api/v1/execution/events/").status_code in (401, 403)
    get_user_model().objects.filter(pk=person.pk).update(is_active=True)
    assert client.get("/api/v1/execution/events/").status_code == 200
    person.set_password("a-new-password-9")  # sessions signed with the old hash end
    person.save()
    assert client.get("/api/v1/execution/events/").status_code in (401, 403)
    client.force_login(person)
    key = client.session.session_key
    get_user_model().objects.filter(pk=person.pk).delete()
    assert not Session.objects.filter(session_key=key).exists()


def test_signed_in_request_reads_its_session(person, client):
    client.force_login(person)
    assert client.get("/api/v1/execution/events/").status_code == 200
    client.logout()
    assert client.get("/api/v1/execution/events/").status_code in (401, 403)


@pytest.mark.postgres
def test_hot_reads_are_prepared_on_postgresql(person, client):
    client.force_login(person)
    Operator.objects.filter(user=person).delete()
    assert client.get("/api/v1/execution/events/").status_code == 200
    user_operator(get_user_model().objects.get(pk=person.pk))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = " | ".join(statement for (statement,) in cursor.fetchall())
    assert "core_session" in prepared
    assert "auth_user_groups" in prepared
    assert "resources_operator" in prepared


def test_api_prefixes_are_not_shadowed_by_the_root_routers():
    """config/api_urls.py tries the apps under their own prefix first: nothing of the two
    routers mounted at the root may answer a path under one of those prefixes."""
    from config import api_urls  # noqa: PLC0415

    prefixed = [str(p.pattern) for p in api_urls.urlpatterns if str(p.pattern)]
    roots = [p for p in api_urls.urlpatterns if not str(p.pattern)]

    def flat(patterns):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from flat(p.url_patterns)
            else:
                yield p

    for prefix in prefixed:
        for tail in ("", "1/", "events/", "events/1/", "x.json"):
            for include in roots:
                for pattern in flat(include.url_patterns):
                    assert pattern.pattern.match(prefix + tail) is None, (prefix + tail, pattern)
    assert resolve("/api/v1/execution/events/").func.cls.__name__ == "ProductionEventViewSet"
