"""Fixtures only the worker's tests use."""
import pytest

from memories.models import Membership


@pytest.fixture
def admin_web(client_db, django_user_model):
    """A second browser session, signed in as `boss`, an admin of `acme`."""
    from django.test import Client

    boss = django_user_model.objects.create_user("boss", password="x")
    Membership.objects.create(user=boss, client=client_db, role=Membership.ADMIN)
    browser = Client()
    browser.force_login(boss)
    return browser
