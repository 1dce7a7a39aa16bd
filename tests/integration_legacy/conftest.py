"""Legacy sync against real sources: a scratch PostgreSQL database created and dropped per
test, an SQLite file and a CSV drop folder under tmp_path."""

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.roles import Role
from planning.models import Routing, RoutingStep
from resources.models import Item
from tests.factories import ItemFactory, LocationFactory, UserFactory, WorkCenterFactory

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

INTEG = Role.INTEGRATION
OPERATOR = Role.OPERATOR
PM = Role.PLANT_MANAGER


@pytest.fixture(autouse=True)
def drop_root(settings, tmp_path):
    """Drop folders live under LEGACY_SYNC_ROOT: here, the test's own tmp_path."""
    root = tmp_path / "legacy"
    root.mkdir()
    settings.LEGACY_SYNC_ROOT = root
    return root


@pytest.fixture
def plant(db):
    """An engine block made by a one-step routing, a bought bearing, a lot-tracked casting
    and a warehouse location."""
    block = ItemFactory(code="EB-500", source=Item.Source.MAKE)
    routing = Routing.objects.create(item=block, version="1")
    RoutingStep.objects.create(
        routing=routing, step_no=10, name="Casting", work_center=WorkCenterFactory()
    )
    bearing = ItemFactory(code="BRG-6204", source=Item.Source.BUY)
    location = LocationFactory(code="WH-01")
    return {"block": block, "bearing": bearing, "location": location}


@pytest.fixture
def pg_url():
    """A scratch PostgreSQL database standing for the old system; dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable ({exc.__class__.__name__})")
    name = f"closedloop_legacy_src_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def pg_execute(url: str, sql: str, params=None) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql, params)


@pytest.fixture
def api(db):
    def make(*roles) -> APIClient:
        client = APIClient()
        client.force_authenticate(UserFactory(roles=list(roles)))
        return client

    return make


def qty(value) -> Decimal:
    return Decimal(str(value))
