"""Stored XSS: hostile text in every field renders inert on every surface.

Agents write memories, so titles, content, summaries, tags, relationship context and even
client names are untrusted. The browser check runs with the Content-Security-Policy
bypassed, so it proves the escaping itself (the CSP is a second wall, tested elsewhere).
"""
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model

from graphs.models import EmbedToken
from memories import services

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>window.__xss=1</script>", "<img src=x onerror=\"window.__xss=1\">",
    "<svg onload=\"window.__xss=1\"><script>window.__xss=1</script></svg>",
    "\"><iframe srcdoc=\"<script>parent.__xss=1</script>\">", "javascript:window.__xss=1",
    "[click](javascript:window.__xss=1)", "<a href=\"javascript:window.__xss=1\">x</a>",
    "![x](x\" onerror=\"window.__xss=1)", "<details open ontoggle=\"window.__xss=1\">",
    "{{ 7*7 }} {% debug %}",
]


@pytest.fixture
def hostile(handle, client_db):
    """Memories whose every field is a payload, linked with a hostile context."""
    client_db.name = "<script>window.__xss=1</script> Corp"
    client_db.save()
    ids = []
    for n, payload in enumerate(PAYLOADS):
        ids.append(services.memory_create(handle=handle, actor=None, fields={
            "type": "general", "title": f"T{n} {payload}"[:200], "summary": payload,
            "content": f"{payload}\n\n{payload}", "tags": [f"tag{n}{payload}"[:100]]}))
    for a, b in zip(ids, ids[1:]):
        services.relationship_create(handle=handle, actor=None, from_id=a, to_id=b, rel_type="RELATED_TO",
                                     context=PAYLOADS[0])
    return ids


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the page."""

    def __init__(self):
        super().__init__()
        self.problems = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.problems.append("inline script")
        if tag in ("object", "embed") or "srcdoc" in attrs:
            self.problems.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}>")
            if name in ("href", "src", "action", "formaction", "xlink:href") and \
                    (value or "").strip().lower().startswith(("javascript:", "data:text/html")):
                self.problems.append(f"<{tag} {name}={value}>")


def test_pages_escape_every_payload(web, hostile):
    urls = ["/c/acme/memories/?sort=newest", "/c/acme/search/?q=window", "/c/acme/tags/",
            f"/c/acme/graph/?memory={hostile[0]}&depth=2", f"/c/acme/graph/?memory={hostile[0]}&format=svg",
            f"/c/acme/graph/?memory={hostile[0]}&t=1", "/c/acme/graph/embeds/"]
    urls += [f"/c/acme/memories/{i}/" for i in hostile] + [f"/c/acme/memories/{i}/edit/" for i in hostile[:3]]
    for url in urls:
        parser = Elements()
        parser.feed(web.get(url).content.decode())
        assert not parser.problems, (url, parser.problems[:5])
    data = web.get(f"/c/acme/memories/{hostile[0]}/?format=json")
    assert data["Content-Type"].startswith("application/json")


def test_exports_are_downloads_not_pages(web, hostile):
    for fmt, kind in (("json", "application/json"), ("csv", "text/csv"), ("markdown", "application/zip"),
                      ("sqlite", "application/")):
        response = web.get(f"/c/acme/export/?format={fmt}")
        assert response["Content-Type"].startswith(kind), fmt
        assert response["Content-Disposition"].startswith("attachment"), fmt
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.browser
def test_nothing_runs_in_a_browser_on_any_surface(browser, live_server, web, hostile, client_db, handle):
    admin = get_user_model().objects.create_superuser("root", "", "pw-root-123")
    from django.test import Client

    staff = Client()
    staff.force_login(admin)
    embed = EmbedToken.objects.create(client=client_db, view=f"memory={hostile[0]}&depth=2",
                                      title=PAYLOADS[1])
    urls = [
        "/c/acme/memories/", "/c/acme/search/?q=window", "/c/acme/tags/",
        f"/c/acme/graph/?memory={hostile[0]}&depth=2", f"/embed/{embed.token}/", "/c/acme/graph/embeds/",
        "/sync/", "/admin/memories/clientdatabase/", "/admin/memories/auditentry/",
        f"/admin/memories/clientdatabase/{client_db.pk}/change/",
    ] + [f"/c/acme/memories/{i}/" for i in hostile]
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    context.set_default_timeout(10_000)
    context.add_cookies(
        [{"name": "sessionid", "value": staff.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        for url in urls:
            page.goto(url)
            if "memory=" in url or url.startswith("/embed/"):
                page.wait_for_selector("#graph-canvas[data-stable='1']")
                # Hover every node: tooltips are built from titles and summaries.
                for node in page.evaluate("kbGraph.nodes.getIds()"):
                    page.evaluate("(id) => kbGraph.network.body.emitter.emit('hoverNode', {node: id})", node)
            for link in page.locator("main a[href^='javascript:' i]").all():
                pytest.fail(f"{url}: a javascript: link {link.get_attribute('href')}")
            assert page.evaluate("window.__xss") is None, url
    finally:
        context.close()
    assert not dialogs
