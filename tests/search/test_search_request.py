"""A first search's way through Django (issue 13): what the JSON view costs besides the search.

The client row and the member's role come in one query; the JSON twin builds none of the
page's context. Every check stays: a role change, a revoked membership or an archived
database takes effect on the next request.
"""
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from memories.models import ClientDatabase, Membership

pytestmark = pytest.mark.django_db

SEARCH = "/c/acme/search/?q=redis&format=json"


def _queries(web, url):
    with CaptureQueriesContext(connection) as captured:
        response = web.get(url)
    return response, [q["sql"] for q in captured.captured_queries]


def test_a_json_search_makes_three_queries_of_djangos_tables(handle, web):
    response, queries = _queries(web, SEARCH)
    assert response.status_code == 200 and response.json()["items"]
    # The session, its user, and the membership with its client database.
    assert len(queries) == 3, queries
    assert "memories_membership" in queries[2] and "memories_clientdatabase" in queries[2]


def test_the_json_twin_keeps_its_fields(handle, web):
    data = web.get(SEARCH).json()
    assert {"total", "items", "facets", "next", "query", "corrected", "page", "partial", "total_more",
            "titles_only", "facets_url"} <= set(data)
    assert data["facets"] is None and data["facets_url"].endswith("facets=1&format=json")
    assert web.get(data["facets_url"]).json()["facets"]["type"]


def test_the_html_page_still_has_its_context(handle, web):
    response = web.get("/c/acme/search/?q=redis")
    assert response.status_code == 200
    assert "counts" in response.context and "links" in response.context


def test_role_changes_take_effect_on_the_next_request(handle, web, user):
    assert web.get(SEARCH).status_code == 200
    membership = Membership.objects.get(user=user, client=handle.client)
    membership.role = Membership.VIEWER
    membership.save()
    assert web.post("/c/acme/tags/rename/", {"old": "redis", "new": "redis2"}).status_code == 403
    membership.delete()
    assert web.get(SEARCH).status_code == 404
    Membership.objects.create(user=user, client=handle.client, role=Membership.VIEWER)
    assert web.get(SEARCH).status_code == 200
    ClientDatabase.objects.filter(pk=handle.client.pk).update(archived=True)
    assert web.get(SEARCH).status_code == 404
    assert web.get("/c/acme/search/?q=redis").status_code == 404


def test_a_superuser_needs_no_membership(handle):
    admin = get_user_model().objects.create_user("root", password="x", is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    response, queries = _queries(browser, SEARCH)
    assert response.status_code == 200 and response.json()["items"]
    assert not any("memories_membership" in q for q in queries)


def test_another_clients_member_gets_a_404(handle, empty_file):
    other = ClientDatabase.objects.create(slug="other", name="Other", path=str(empty_file))
    bob = get_user_model().objects.create_user("bob", password="x")
    Membership.objects.create(user=bob, client=other, role=Membership.ADMIN)
    browser = Client()
    browser.force_login(bob)
    assert browser.get(SEARCH).status_code == 404
    assert browser.get("/c/nowhere/search/?q=redis&format=json").status_code == 404
