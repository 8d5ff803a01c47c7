"""One table of every URL outside /c/<client>/ against every role (the /c/ URLs have theirs
in test_access.py), and one test that fails when any URL of the site has no entry in either.
Also: every write refuses a request without a CSRF token."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLResolver, get_resolver

from graphs.models import EmbedToken
from memories.models import Membership
from tests.web import test_access

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "viewer", "editor", "admin", "staff", "superuser", "embed")
LOGIN = 302  # to the login page
ANY = {200, 302}

# The memorygraph cloud API (issue 12): (pattern under api/memorygraph/, method, url), every method.
CLOUD_API = [
    ("health", "get", "health"), ("memories", "post", "memories"),
    ("memories/recent", "get", "memories/recent"), ("memories/<memory_id:memory_id>", "get", "memories/{m}"),
    ("relationships", "post", "relationships"),
    ("search/memories/<memory_id:memory_id>/related", "get", "search/memories/{m}/related"),
    ("search/advanced", "post", "search/advanced"), ("search/recall", "post", "search/recall"),
    ("graphs/statistics", "get", "graphs/statistics"),
]
CLOUD_WRITES = {
    ("post", "memories"), ("put", "memories/{m}"), ("delete", "memories/{m}"), ("post", "relationships"),
}
CLOUD_CALLS = [(m, u) for _, m, u in CLOUD_API] + [("put", "memories/{m}"), ("delete", "memories/{m}")]

# pattern -> (method, url, {role: expected status or set of statuses})
TABLE = {
    "": ("get", "/", {"anonymous": LOGIN, "embed": LOGIN, "default": ANY}),
    "accounts/login/": ("get", "/accounts/login/", {"default": 200}),
    "accounts/password_change/": (
        "get", "/accounts/password_change/", {"anonymous": LOGIN, "embed": LOGIN, "default": 200},
    ),
    "accounts/password_change/done/": (
        "get", "/accounts/password_change/done/", {"anonymous": LOGIN, "embed": LOGIN, "default": 200},
    ),
    "accounts/password_reset/": ("get", "/accounts/password_reset/", {"default": 200}),
    "accounts/password_reset/done/": ("get", "/accounts/password_reset/done/", {"default": 200}),
    "accounts/reset/<uidb64>/<token>/": ("get", "/accounts/reset/MQ/bad-token/", {"default": 200}),
    "accounts/reset/done/": ("get", "/accounts/reset/done/", {"default": 200}),
    "admin/": ("get", "/admin/", {"staff": 200, "superuser": 200, "default": 302}),
    "admin/ (an action)": (
        "post", "/admin/memories/clientdatabase/", {"superuser": 302, "staff": 403, "default": 302},
    ),
    "sync/": (
        "get", "/sync/", {"anonymous": LOGIN, "embed": LOGIN, "viewer": 403, "editor": 403, "default": 200},
    ),
    "sync/<slug:slug>/": (
        "get", "/sync/acme/",
        {"anonymous": LOGIN, "embed": LOGIN, "viewer": 403, "editor": 403, "default": 200},
    ),
    "sync/<slug:slug>/now/": (
        "post", "/sync/acme/now/",
        {"anonymous": LOGIN, "embed": LOGIN, "viewer": 403, "editor": 403, "default": 400},
    ),
    "sync/<slug:slug>/rebuild/": (
        "post", "/sync/acme/rebuild/",
        {"anonymous": LOGIN, "embed": LOGIN, "viewer": 403, "editor": 403, "default": ANY},
    ),
    "embed/<str:token>/": ("get", "/embed/{token}/", {"default": 200}),
    "embed/<str:token>/image.svg": ("get", "/embed/{token}/image.svg", {"default": 200}),
    "oembed": ("get", "/oembed?url=http://testserver/embed/{token}/", {"default": 200}),
    # API keys page (issue 12): client admins and superusers only.
    "c/<slug:client>/keys/": (
        "get", "/c/acme/keys/",
        {"anonymous": LOGIN, "embed": LOGIN, "viewer": 403, "editor": 403, "staff": 404, "default": 200},
    ),
    "c/<slug:client>/keys/<int:key_id>/revoke/": (
        "post", "/c/acme/keys/999999/revoke/",
        {"anonymous": LOGIN, "embed": LOGIN, "viewer": 403, "editor": 403, "default": 404},
    ),
    **{
        f"c/<slug:client>/api/memorygraph/{pattern}": (
            method, "/c/acme/api/memorygraph/" + url.replace("{m}", "some-id"), {"default": 401},
        )
        for pattern, method, url in CLOUD_API
    },  # a session opens none of them: only a key does
    # The MCP endpoint (issue 12): only a key opens it (tests/test_mcp_endpoint.py has the key matrix).
    "c/<slug:client>/mcp/": ("post", "/c/acme/mcp/", {"default": 401}),
    "favicon.ico": ("get", "/favicon.ico", {"default": 301}),  # to static/favicon.svg
    # The memory picker (graphs/picker/): a read of one client database, so viewers and up.
    "c/<slug:client>/pick/": (
        "get", "/c/acme/pick/?q=redis", {"anonymous": LOGIN, "embed": LOGIN, "staff": 404, "default": 200},
    ),
    "accounts/logout/": ("post", "/accounts/logout/", {"default": 302}),  # last: it ends the session
}


def browser_for(role, client_db, token):
    browser = Client()
    if role in ("anonymous", "embed"):
        if role == "embed":
            assert browser.get(f"/embed/{token}/").status_code == 200
        return browser
    user = get_user_model().objects.create_user(
        f"u-{role}", password="x", is_staff=role in ("staff", "superuser"), is_superuser=role == "superuser"
    )
    if role in ("viewer", "editor", "admin"):
        Membership.objects.create(user=user, client=client_db, role=role)
    browser.force_login(user)
    return browser


@pytest.mark.parametrize("role", ROLES)
def test_every_url_outside_client_scope_by_role(client_db, handle, role):
    memory_id = handle.readmodel.conn.execute("SELECT id FROM memory LIMIT 1").fetchone()[0]
    token = EmbedToken.objects.create(client=client_db, view=f"memory={memory_id}", title="t").token
    browser = browser_for(role, client_db, token)
    for pattern, (method, url, expected) in TABLE.items():
        want = expected.get(role, expected["default"])
        data = {"action": "restore", "_selected_action": [client_db.pk]} if "action" in pattern else {}
        status = getattr(browser, method)(url.format(token=token), data).status_code
        assert status in (want if isinstance(want, set) else {want}), (role, pattern, status)
    if role in ("anonymous", "embed"):
        # An embed link opens its one view, nothing else of the database.
        assert browser.get("/c/acme/memories/").status_code == LOGIN
        assert browser.get(f"/c/acme/graph/?memory={memory_id}&format=json").status_code == LOGIN


def test_revoked_or_forged_embed_tokens_get_403(client_db, handle):
    memory_id = handle.readmodel.conn.execute("SELECT id FROM memory LIMIT 1").fetchone()[0]
    embed = EmbedToken.objects.create(client=client_db, view=f"memory={memory_id}", title="t")
    token = embed.token
    from django.utils import timezone

    embed.revoked_at = timezone.now()
    embed.save()
    anonymous = Client()
    for url in (f"/embed/{token}/", f"/embed/{token}/image.svg", f"/embed/{token[:-3]}abc/"):
        assert anonymous.get(url).status_code == 403, url


def all_url_patterns(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if text == "admin/":
                yield text  # Django's admin: one entry, its own permission checks
                continue
            yield from all_url_patterns(pattern.url_patterns, text)
        else:
            yield text


def test_every_url_of_the_site_has_an_entry():
    """A new URL must be added to TABLE here or to READS/WRITES in test_access.py."""
    client_scoped = {"c/<slug:client>/" + p for p in test_access.listed_patterns()}
    listed = set(TABLE) | client_scoped
    missing = [p for p in all_url_patterns() if p not in listed]
    assert not missing, missing


def test_every_write_needs_a_csrf_token(client_db, handle, user):
    """Forms and htmx requests alike: htmx sends the token in X-CSRFToken (base.html's hx-headers)."""
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    memory_id = handle.readmodel.conn.execute("SELECT id FROM memory LIMIT 1").fetchone()[0]
    values = {
        "m": memory_id, "r": "x", "b": 1, "e": 1, "i": 1, "j": 1, "x": 1,
    }  # refused before the view looks them up
    posts = [url for method, url in test_access.WRITES if method == "post"]
    posts += [
        "/sync/acme/now/", "/sync/acme/rebuild/", "/accounts/logout/", "/c/acme/keys/",
        "/c/acme/keys/1/revoke/",
    ]
    for url in posts:
        response = strict.post(url.format(**values), {"tag": "x"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 403, url
    page = strict.get("/c/acme/memories/")
    assert b'hx-headers=\'{"X-CSRFToken": "' in page.content


KEY_CASES = ("none", "wrong", "expired", "revoked", "other client", "read", "write")


@pytest.mark.parametrize("case", KEY_CASES)
def test_every_cloud_api_call_by_key(client_db, handle, user, empty_file, case):
    """Keys, not sessions, open the cloud API: 401 for every bad key, 403 for a read key writing."""
    from datetime import timedelta

    from django.utils import timezone

    from memories.agents import keys
    from memories.models import ApiKey, ClientDatabase

    memory_id = handle.readmodel.conn.execute("SELECT from_id FROM edge LIMIT 1").fetchone()[0]
    other = ClientDatabase.objects.create(slug="other", name="Other", path=str(empty_file))
    role = "read" if case == "read" else "write"
    key, raw = keys.api_key_create(
        client=other if case == "other client" else client_db, actor=user, name=case, role=role
    )
    if case == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    if case == "revoked":
        keys.api_key_revoke(key=key, actor=user)
    header = {"none": {}, "wrong": {"HTTP_X_API_KEY": raw[:-2] + "zz"}}.get(case, {"HTTP_X_API_KEY": raw})
    browser = Client()
    browser.force_login(user)  # a session changes nothing on these URLs
    for method, url in CLOUD_CALLS:
        path = "/c/acme/api/memorygraph/" + url.replace("{m}", memory_id)
        if method == "delete":
            continue  # checked last, below, so the memory is there for the others
        status = browser.generic(
            method.upper(), path, "{}", content_type="application/json", **header
        ).status_code
        if case in ("read", "write"):
            write = (method, url) in CLOUD_WRITES
            if case == "read" and write:
                assert status == 403, (case, method, url, status)
            else:
                assert status not in (401, 403, 404, 500), (case, method, url, status)
        else:
            assert status == 401, (case, method, url, status)
    path = "/c/acme/api/memorygraph/memories/" + memory_id
    status = browser.delete(path, **header).status_code
    assert status == {"read": 403, "write": 204}.get(case, 401), (case, status)
