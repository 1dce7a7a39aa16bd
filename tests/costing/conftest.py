import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient


@pytest.fixture
def api_as():
    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(get_user_model().objects.get(username=username))
        return client

    return make


# The worked order of tests/costing/test_actual.py and test_variance.py: casting (operation
# 10) of the demo's first batch MO-2026-00001 (50 EB-500), run on the floor through
# execution's own services by `manage.py cost_demo_floor` (costing/demo.py floor_run), then
# posted by the outbox dispatcher. Its figures are worked out by hand in test_actual.py.
# Its events lie in the late shift of casting's last working day before today: it runs the
# same at any instant (tests/costing/test_demo_history.py pins the hard ones).


@pytest.fixture
def worked_order(scenario):
    from costing.demo import floor_run
    from planning.models import ProductionOrder

    def build():
        assert floor_run() == "MO-2026-00001: actual cost 212.00 posted (casting)"

    scenario("costing.worked_order", build)
    return ProductionOrder.objects.get(number="MO-2026-00001")
