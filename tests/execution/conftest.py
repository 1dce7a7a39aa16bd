import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from planning.models import ProductionOrder
from planning.services.orders import production_order_release


@pytest.fixture
def released(demo_plant):
    """The demo's first batch of 50 engine blocks, released to the floor."""
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    return production_order_release(order=order)


@pytest.fixture
def api_as():
    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(get_user_model().objects.get(username=username))
        return client

    return make
