"""Issue 13, "Everywhere": the client switcher and start URL, error pages in the site's layout,
the confirmation before a relationship is removed, favicon, admin names and help texts, history
labels, the editor's Markdown preview and tag suggestions. (Browser checks: test_everywhere_browser.py.)"""
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from memories import services, tagging
from memories.models import ClientDatabase, Membership
from tests.support.clients import register_client

pytestmark = pytest.mark.django_db

MENU = '<nav aria-label="Main">'


def assert_in_layout(response, status):
    page = response.content.decode()
    assert response.status_code == status, (status, page[:300])
    assert '<header class="top">' in page and MENU in page, page[:500]
    assert "Resolver404" not in page and "__all__" not in page
    # A message printed one character at a time ("T h i s i s …") is a string joined as a list.
    text = re.sub(r"<[^>]+>", "", page)
    assert not re.search(r"(\b[A-Za-z] ){5,}", text), "a message split into characters"
    return page


def as_member(client_db, role, name="bob"):
    user = get_user_model().objects.create_user(name, password="x")
    Membership.objects.create(user=user, client=client_db, role=role)
    browser = Client()
    browser.force_login(user)
    return browser


# Client databases ---------------------------------------------------------------------

def test_the_client_start_url_redirects_to_its_memories(web, client_db):
    response = web.get("/c/acme/")
    assert response.status_code == 302 and response["Location"] == "/c/acme/memories/"
    assert web.get("/c/nowhere/").status_code == 404
    assert Client().get("/c/acme/")["Location"].startswith("/accounts/login/")


def test_the_switcher_lists_the_databases_the_user_may_open(web, client_db, empty_file, tmp_path):
    register_client("team", empty_file, name="Team <b>room</b>")  # alice is an editor there too
    other = tmp_path / "other.db"
    other.write_bytes(empty_file.read_bytes())
    ClientDatabase.objects.create(slug="secret", name="Secret", path=str(other))  # alice is no member
    ClientDatabase.objects.create(slug="old", name="Old", path=str(tmp_path / "old.db"), archived=True)
    page = web.get("/c/acme/memories/").content.decode()
    switcher = page[page.index('<details class="switcher">'):page.index("</details>")]
    assert 'href="/c/acme/memories/"' in switcher and 'href="/c/team/memories/"' in switcher
    assert 'aria-current="page">Acme<' in switcher
    assert "Team &lt;b&gt;room&lt;/b&gt;" in switcher  # a name is text
    assert "/c/secret/" not in switcher and "/c/old/" not in switcher


def test_a_new_empty_database_points_to_import_and_new_memory(web, team):
    page = web.get("/c/team/memories/").content.decode()
    assert "has no memories yet" in page
    assert 'href="/c/team/import/"' in page and 'href="/c/team/memories/new/"' in page
    # The search index needs no Rebuild: a memory written now is found at once.
    services.memory_create(handle=team, actor=None, fields={
        "type": "solution", "title": "Pin the zeppelin client", "content": "Use version 2.",
        "tags": ["zeppelin"]})
    found = web.get("/c/team/search/?q=zeppelin&format=json").json()
    assert found["total"] == 1
    assert "has no memories yet" not in web.get("/c/team/memories/").content.decode()


def test_a_viewer_of_an_empty_database_is_not_offered_edits(team, empty_file):
    browser = as_member(team.client, Membership.VIEWER)
    page = browser.get("/c/team/memories/").content.decode()
    assert "has no memories yet" in page and "/c/team/import/" not in page


# Error pages ----------------------------------------------------------------------------

def test_404_pages_keep_the_layout_and_never_say_resolver404(web, client_db):
    for url in ("/no/such/page/", "/c/acme/no-such-page/", "/c/acme/memories/no-such-id/",
                "/c/nowhere/memories/"):
        page = assert_in_layout(web.get(url), 404)
        assert "Not found" in page, url
    page = web.get("/c/acme/memories/no-such-id/").content.decode()
    assert "No memory with id no-such-id." in page and 'href="/c/acme/tags/"' in page  # the database's menu


def test_400_403_409_413_and_503_keep_the_layout(web, client_db, handle, settings, tmp_path):
    assert_in_layout(web.get("/c/acme/memories/?band=huge"), 400)
    viewer = as_member(client_db, Membership.VIEWER)
    page = assert_in_layout(viewer.get("/c/acme/memories/new/"), 403)
    assert "Your role in Acme is viewer" in page
    memory_id = handle.readmodel.conn.execute("SELECT id FROM memory LIMIT 1").fetchone()[0]
    edit = web.get(f"/c/acme/memories/{memory_id}/edit/").content.decode()
    version = re.search(r'name="updated_at" value="([^"]+)"', edit).group(1)
    tagging.tag_add(handle=handle, actor=None, memory_id=memory_id, tag="meanwhile")
    fields = {"type": "problem", "title": "Changed", "content": "x", "importance": 0.5, "confidence": 0.5,
              "updated_at": version}
    assert_in_layout(web.post(f"/c/acme/memories/{memory_id}/edit/", fields), 409)
    settings.KB_UPLOAD_MAX_MB, settings.KB_UPLOAD_MAX_BYTES = 1, 1024
    from django.core.files.uploadedfile import SimpleUploadedFile
    big = SimpleUploadedFile("big.json", b" " * (200 * 1024))
    page = assert_in_layout(web.post("/c/acme/import/", {"file": big}), 413)
    assert "upload limit" in page and "Back to the form" in page
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database at all " * 100)
    register_client("broken", broken)
    page = assert_in_layout(web.get("/c/broken/memories/"), 503)
    assert 'href="/c/broken/tags/"' in page  # the database's own menu


def test_the_import_error_reads_as_a_sentence_in_the_layout(web, client_db):
    from django.core.files.uploadedfile import SimpleUploadedFile
    text = SimpleUploadedFile("notes.txt", b"These are my notes, neither SQLite nor JSON.\n")
    page = assert_in_layout(web.post("/c/acme/import/", {"file": text}), 400)
    message = re.search(r'<p class="error" role="alert">([^<]+)</p>', page).group(1)
    assert message.startswith("notes.txt: ") and "  " not in message
    assert "<li><strong>File</strong>: T h" not in page


def test_429_and_500_keep_the_layout(client, user):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    blocked = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})
    assert_in_layout(blocked, 429)
    from memories.site.errors import server_error
    request = RequestFactory().get("/c/acme/memories/")
    request.user = user
    page = assert_in_layout(server_error(request), 500)
    assert "Something went wrong" in page


def test_403_and_400_handlers_say_our_message_only(user):
    from django.core.exceptions import PermissionDenied, SuspiciousOperation

    from memories.site.errors import bad_request, page_not_found, permission_denied
    request = RequestFactory().get("/x/")
    request.user = user
    assert b"/etc/secret" not in bad_request(request, SuspiciousOperation("/etc/secret")).content
    assert b"Your role" in permission_denied(request, PermissionDenied("Your role is viewer.")).content
    from django.urls import Resolver404
    page = page_not_found(request, Resolver404({"path": "x/", "tried": []})).content.decode()
    assert "Resolver404" not in page and "tried" not in page and "does not exist" in page


def test_a_csrf_failure_page_keeps_the_layout(user):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "alice", "password": "x"})
    assert response.status_code == 403 and b'<header class="top">' in response.content
    assert b"security token" in response.content


# Relationship removal asks first ------------------------------------------------------

def test_the_relationship_x_asks_before_removing(web, handle):
    from_id, rel_id = handle.readmodel.conn.execute("SELECT from_id, id FROM edge LIMIT 1").fetchone()
    page = web.get(f"/c/acme/memories/{from_id}/").content.decode()
    # The ✕ is a GET form (works without JavaScript) to the confirmation page.
    assert re.search(r'<form class="inline" method="get" action="/c/acme/relationships/[^"]+/delete/">', page)
    confirm = web.get(f"/c/acme/relationships/{rel_id}/delete/", {"memory": from_id})
    text = assert_in_layout(confirm, 200)
    assert "Remove this relationship?" in text and 'method="post"' in text and "Cancel" in text
    assert handle.readmodel.conn.execute("SELECT 1 FROM edge WHERE id = ?", (rel_id,)).fetchone()  # kept
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)
    back = re.search(r'name="memory" value="([^"]+)"', text).group(1)
    done = web.post(f"/c/acme/relationships/{rel_id}/delete/", {"memory": back, "csrfmiddlewaretoken": token})
    assert done.status_code == 302 and done["Location"] == f"/c/acme/memories/{from_id}/"
    handle.ensure_fresh()
    assert not handle.readmodel.conn.execute("SELECT 1 FROM edge WHERE id = ?", (rel_id,)).fetchone()
    assert web.get(f"/c/acme/relationships/{rel_id}/delete/").status_code == 404


def test_the_confirmation_ignores_a_return_page_of_another_memory(web, handle):
    from_id, rel_id = handle.readmodel.conn.execute("SELECT from_id, id FROM edge LIMIT 1").fetchone()
    page = web.get(f"/c/acme/relationships/{rel_id}/delete/", {"memory": "elsewhere"}).content.decode()
    assert f'name="memory" value="{from_id}"' in page


# Details ----------------------------------------------------------------------------------

def test_favicon(web, client_db):
    page = web.get("/c/acme/memories/").content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert href == "/static/favicon.svg"
    from django.contrib.staticfiles import finders
    assert finders.find("favicon.svg")
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == href


def test_the_search_box_includes_its_form_not_a_selector_that_may_match_nothing(web, client_db):
    page = web.get("/c/acme/memories/").content.decode()
    assert 'hx-include="this, [data-keep]"' not in page and 'hx-include="closest form"' in page


def test_admin_plural_names_help_texts_and_the_mode_script(staff, client_db):
    index = staff.get("/admin/").content.decode()
    assert "Audit entries" in index and "Tag batches" in index
    assert "entrys" not in index and "batchs" not in index
    add = staff.get("/admin/memories/clientdatabase/add/").content.decode()
    assert "libsql://&lt;db&gt;.turso.io" in add and "libsql://.turso.io" not in add
    assert "KB_DATA_DIR/replicas/&lt;slug&gt;.db" in add
    assert "/static/kb/admin_client.js" in add
    again = staff.get("/admin/memories/clientdatabase/add/").content.decode()
    assert "&amp;lt;" not in again  # escaped once, not once per request


def test_history_shows_field_labels(web, handle):
    memory_id = handle.readmodel.conn.execute("SELECT id FROM memory LIMIT 1").fetchone()[0]
    edit = web.get(f"/c/acme/memories/{memory_id}/edit/").content.decode()
    version = re.search(r'name="updated_at" value="([^"]+)"', edit).group(1)
    fields = {"type": "problem", "title": "A new title", "content": "x", "importance": 0.5, "confidence": 0.5,
              "frameworks": "django, htmx", "project_path": "/srv/x", "git_branch": "main",
              "updated_at": version}
    assert web.post(f"/c/acme/memories/{memory_id}/edit/", fields).status_code == 302
    page = web.get(f"/c/acme/memories/{memory_id}/").content.decode()
    history = page[page.index('<section class="audit">'):]
    headers = re.findall(r'<th scope="row"[^>]*>([^<]+)</th>', history)
    assert {"Frameworks", "Project path", "Git branch", "Title"} <= set(headers), headers
    assert not [h for h in headers if "_" in h], headers


XSS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '[x](javascript:alert(1))',
       '<svg onload=alert(1)>', '<a href="javascript:alert(1)">x</a>', '<iframe src="//evil">',
       '[x](data:text/html;base64,PHNjcmlwdD4=)', '<details open ontoggle=alert(1)>', '"><script>x</script>']


def test_the_markdown_preview_renders_and_sanitises(web, client_db):
    content = "# Title\n\n**bold** and `code`\n\n" + "\n\n".join(XSS)
    response = web.post("/c/acme/preview/", {"content": content},
                        HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert "<html" not in html  # a fragment for htmx
    tags = re.findall(r"<[a-z][^>]*>", html.lower())  # payloads may stay as text, never as markup
    names = {re.match(r"<([a-z0-9]+)", t).group(1) for t in tags}
    assert names <= {"div", "h1", "p", "strong", "code", "a"}, tags
    for tag in tags:
        assert not re.search(r"\son\w+=|javascript:|data:", tag), tag
    data = web.post("/c/acme/preview/?format=json", {"content": "*hi*"}).json()
    assert data == {"html": "<p><em>hi</em></p>\n"}
    too_long = web.post("/c/acme/preview/", {"content": "x" * 50_001})
    assert too_long.status_code == 400 and b"longer than" in too_long.content
    assert web.get("/c/acme/preview/").status_code == 405
    viewer = as_member(client_db, Membership.VIEWER)
    assert viewer.post("/c/acme/preview/", {"content": "x"}).status_code == 403


def test_the_editor_has_a_preview_and_tag_suggestions(web, handle):
    page = web.get("/c/acme/memories/new/").content.decode()
    assert 'hx-post="/c/acme/preview/"' in page and 'id="content-preview"' in page
    assert 'list="tag-options"' in page and 'hx-get="/c/acme/tags/suggest/"' in page
    memory_id = handle.readmodel.conn.execute("SELECT id FROM memory LIMIT 1").fetchone()[0]
    detail = web.get(f"/c/acme/memories/{memory_id}/").content.decode()
    assert 'list="tag-options"' in detail and '<datalist id="tag-options">' in detail


def test_tag_suggestions(web, handle):
    conn = handle.readmodel.conn
    tag, count = conn.execute(
        "SELECT value, n FROM facet_count WHERE facet = 'tag' ORDER BY n DESC LIMIT 1").fetchone()
    data = web.get("/c/acme/tags/suggest/", {"q": tag[:2], "format": "json"}).json()
    assert data["tags"] and all(t["tag"].startswith(tag[:2]) for t in data["tags"])
    assert {"tag": tag, "count": count} in data["tags"]
    counts = [t["count"] for t in data["tags"]]
    assert counts == sorted(counts, reverse=True)
    # The comma-separated box: each option completes the last tag and keeps the ones before.
    html = web.get("/c/acme/tags/suggest/", {"tags": f"first, {tag[:2].upper()}"}).content.decode()
    assert f'<option value="first, {tag}">' in html and "<html" not in html
    already = web.get("/c/acme/tags/suggest/", {"tags": f"{tag}, {tag[:2]}"}).content.decode()
    assert f'value="{tag}, {tag}"' not in already
    for hostile in ("%", "_", "'", '"><script>', "\x00", "a" * 5000):
        response = web.get("/c/acme/tags/suggest/", {"q": hostile})
        assert response.status_code == 200 and b"<script>" not in response.content
    assert web.get("/c/acme/tags/suggest/", {"q": "", "format": "json"}).json()["tags"]
