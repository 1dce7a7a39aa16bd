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
