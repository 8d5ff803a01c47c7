"""kbsite/sessions.py: Django's database sessions read with one raw query keep Django's rules."""
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from kbsite.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_site_uses_it():
    assert settings.SESSION_ENGINE == "kbsite.sessions"


def test_a_signed_in_user_stays_signed_in_until_logout(handle, web):
    assert web.get("/c/acme/search/?q=redis&format=json").status_code == 200
    web.logout()
    assert web.get("/c/acme/search/?q=redis&format=json").status_code == 302  # to the login page


def test_an_expired_or_unknown_session_is_empty(handle, web):
    key = web.session.session_key
    assert SessionStore(key).load()
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.load() == {} and expired.session_key is None
    assert web.get("/c/acme/search/?q=redis&format=json").status_code == 302
    assert SessionStore("x" * 32).load() == {}
    assert SessionStore(None).load() == {}


def test_a_session_still_valid_for_a_second_is_kept(handle, web):
    key = web.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(seconds=1))
    assert SessionStore(key).load()
