"""Fixtures of the web tests."""
import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def staff(client):
    """The test client signed in as `root`, a superuser (the admin's pages)."""
    client.force_login(get_user_model().objects.create_superuser("root", "", "pw"))
    return client
