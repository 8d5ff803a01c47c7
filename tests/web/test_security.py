"""Security headers on every kind of page, and login throttling."""
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from graphs.analytics.services import analytics_run
from graphs.models import EmbedToken
from tests.support.paths import ROOT

pytestmark = pytest.mark.django_db


def directives(response):
    policy = response["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in policy.split("; ")}


def test_every_kind_of_page_gets_a_strict_policy(client, web, client_db, handle, settings):
    settings.KB_EMBED_ORIGINS = ["https://wiki.example.com"]
    analytics_run(rm=handle.readmodel)  # as the worker does: the overview reads its ranks
    memory_id = handle.readmodel.conn.execute("SELECT id FROM memory LIMIT 1").fetchone()[0]
    embed = EmbedToken.objects.create(client=client_db, view=f"memory={memory_id}", title="t")
    admin = get_user_model().objects.create_superuser("root", "", "pw")
    pages = {
        "/accounts/login/": client, "/c/acme/memories/": web, f"/c/acme/memories/{memory_id}/": web,
        "/c/acme/search/?q=redis": web, "/c/acme/graph/": web, "/c/acme/import/": web,
        "/c/acme/memories/?format=json": web, f"/embed/{embed.token}/": client,
    }
    for url, browser in pages.items():
        response = browser.get(url)
        assert response.status_code == 200, url
        policy = directives(response)
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'", url
        assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'", url
        assert (
            response["X-Content-Type-Options"] == "nosniff" and response["Referrer-Policy"] == "same-origin"
        ), url
        if url.startswith("/embed/"):
            assert policy["frame-ancestors"] == "'self' https://wiki.example.com"
        else:
            assert policy["frame-ancestors"] == "'none'" and response["X-Frame-Options"] == "DENY", url
    client.force_login(admin)
    policy = directives(client.get("/admin/"))
    assert policy["script-src"] == "'self'" and "'unsafe-inline'" in policy["style-src"]
    assert directives(client.get("/sync/"))["style-src"] == "'self'"


def test_no_inline_script_in_any_template():
    """Scripts are static files; inline data is application/json, which browsers never run."""
    import re

    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (template, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), template  # no inline event handlers


def test_secure_mode_adds_hsts_and_secure_cookies():
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'kbsite.settings'; django.setup(); "
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DEBUG)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**__import__("os").environ, "KB_SECURE": "1"}, check=True,
    ).stdout.split()
    assert out == ["31536000", "True", "True", "False"]
    missing = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={
            **{k: v for k, v in __import__("os").environ.items() if k != "KB_SECRET_KEY"},
            "KB_PRODUCTION": "1",
        },
    )
    assert missing.returncode != 0 and "KB_SECRET_KEY must be set" in missing.stderr


def test_login_is_throttled_after_repeated_failures(client, user):
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert response.status_code == 200 and b"didn't match" in response.content
    blocked = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})
    assert blocked.status_code == 429 and b"Too many failed logins" in blocked.content
    assert "_auth_user_id" not in client.session
    other = get_user_model().objects.create_user("bob", password="pw-bob-12345")
    assert (
        other and client.post("/accounts/login/", {"username": "bob", "password": "pw-bob-12345"}).status_code
        == 302
    )


def test_a_good_login_resets_the_count(client, user):
    for _ in range(4):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert (
        client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"}).status_code == 302
    )
    client.logout()
    for _ in range(4):
        assert client.post("/accounts/login/", {"username": "alice", "password": "wrong"}).status_code == 200


def test_every_write_is_in_the_memorys_history_with_before_and_after(web, handle, user):
    from memories import services, tagging

    memory_id = services.memory_create(
        handle=handle, actor=user, fields={"type": "fix", "title": "Before title", "content": "body"}
    )
    services.memory_update(handle=handle, actor=user, memory_id=memory_id, fields={"title": "After title"})
    tagging.tag_add(handle=handle, actor=user, memory_id=memory_id, tag="audited")
    page = web.get(f"/c/acme/memories/{memory_id}/").content.decode()
    assert page.count("memory.update by alice") == 2 and "memory.create by alice" in page
    assert "<td>Before title</td><td>After title</td>" in page
    assert '<th scope="row" title="tags">Tags</th><td>[]</td><td>[&quot;audited&quot;]</td>' in page


@pytest.mark.browser
def test_admin_pages_work_under_the_policy(browser, live_server, client_db):
    """Django's admin runs its scripts from files too (a violation fails the test, see conftest)."""
    admin = get_user_model().objects.create_superuser("root", "", "pw-root-123")
    from django.test import Client

    staff = Client()
    staff.force_login(admin)
    context = browser.new_context(base_url=live_server.url)
    context.add_cookies(
        [{"name": "sessionid", "value": staff.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        for url in (
            "/admin/", "/admin/memories/clientdatabase/", "/admin/memories/clientdatabase/add/",
            f"/admin/memories/clientdatabase/{client_db.pk}/change/",
        ):
            page.goto(url)
            page.wait_for_load_state("networkidle")
        page.goto("/admin/memories/clientdatabase/add/")
        page.locator("select#id_mode").select_option("synced")
        assert page.locator("#id_remote_url").is_visible()
    finally:
        context.close()
    assert not errors


def test_admin_login_is_throttled_like_the_site_login(client, user):
    """Ten wrong passwords at /admin/login/, then the right one: refused, as at /accounts/login/."""
    get_user_model().objects.create_superuser("root", "", "pw-root-123")
    statuses = [
        client.post("/admin/login/", {"username": "root", "password": "wrong", "next": "/admin/"}).status_code
        for _ in range(10)
    ]
    assert statuses == [200] * 5 + [429] * 5
    blocked = client.post("/admin/login/", {"username": "root", "password": "pw-root-123", "next": "/admin/"})
    assert blocked.status_code == 429 and b"Too many failed logins" in blocked.content
    assert "_auth_user_id" not in client.session and client.get("/admin/").status_code == 302


def test_failures_at_both_login_urls_count_together(client, user):
    for url in ("/accounts/login/", "/admin/login/", "/accounts/login/", "/admin/login/", "/accounts/login/"):
        assert client.post(url, {"username": "alice", "password": "wrong"}).status_code == 200, url
    for url in ("/admin/login/", "/accounts/login/"):
        blocked = client.post(url, {"username": "alice", "password": "pw-alice-123"})
        assert blocked.status_code == 429 and b"Too many failed logins" in blocked.content, url
    assert "_auth_user_id" not in client.session


def test_twenty_failures_from_one_address_lock_it_for_every_username(client, user):
    for n in range(20):
        assert (
            client.post("/accounts/login/", {"username": f"guess{n}", "password": "wrong"}).status_code == 200
        )
    assert (
        client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"}).status_code == 429
    )
    elsewhere = client.post(
        "/accounts/login/", {"username": "alice", "password": "pw-alice-123"}, REMOTE_ADDR="192.0.2.7"
    )
    assert elsewhere.status_code == 302


def test_a_good_login_of_another_account_does_not_clear_the_count(client, user):
    """Else an attacker holding any account could guess a victim's password forever, four at a time."""
    get_user_model().objects.create_user("mallory", password="pw-mallory-1")
    for _ in range(4):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert (
        client.post("/accounts/login/", {"username": "mallory", "password": "pw-mallory-1"}).status_code
        == 302
    )
    client.logout()
    assert client.post("/accounts/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    assert (
        client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"}).status_code == 429
    )


class CountingHasher(PBKDF2PasswordHasher):
    checked = 0

    def verify(self, password, encoded):
        CountingHasher.checked += 1
        return super().verify(password, encoded)


def test_throttled_attempts_do_not_check_the_password(client, settings):
    settings.PASSWORD_HASHERS = ["tests.web.test_security.CountingHasher"]
    get_user_model().objects.create_user("carol", password="pw-carol-123")
    for url in ("/accounts/login/", "/admin/login/") * 3:
        client.post(url, {"username": "carol", "password": "wrong"})
    checked = CountingHasher.checked
    for url in ("/accounts/login/", "/admin/login/"):
        assert client.post(url, {"username": "carol", "password": "pw-carol-123"}).status_code == 429
    assert CountingHasher.checked == checked


def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(client, user, settings):
    """X-Forwarded-For counts only from KB_TRUSTED_PROXIES; from anyone else it is the client's own text."""
    import ipaddress

    settings.KB_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    proxy = {"REMOTE_ADDR": "10.1.2.3"}
    for n in range(20):
        client.post(
            "/accounts/login/", {"username": f"guess{n}", "password": "wrong"},
            HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5", **proxy,
        )
    locked = client.post(
        "/accounts/login/", {"username": "alice", "password": "pw-alice-123"},
        HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy,
    )
    assert locked.status_code == 429
    other = client.post(
        "/accounts/login/", {"username": "alice", "password": "pw-alice-123"},
        HTTP_X_FORWARDED_FOR="203.0.113.5, 203.0.113.9", **proxy,
    )
    assert other.status_code == 302
    client.logout()
    for n in range(20):  # a client that is not a proxy cannot dodge the limit with a made-up header
        client.post(
            "/accounts/login/", {"username": f"spoof{n}", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}", REMOTE_ADDR="192.0.2.200",
        )
    assert (
        client.post(
            "/accounts/login/", {"username": "alice", "password": "pw-alice-123"}, REMOTE_ADDR="192.0.2.200"
        ).status_code
        == 429
    )


@pytest.mark.browser
def test_admin_login_and_its_lockout_work_under_the_policy(browser, live_server, transactional_db):
    """The admin's own login page, a wrong password, the lock page, and a good login of another user."""
    from playwright.sync_api import expect

    get_user_model().objects.create_superuser("root", "", "pw-root-123")
    get_user_model().objects.create_superuser("other", "", "pw-other-123")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def log_in(username, password):
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("input[type=submit], button[type=submit]")

    try:
        for _ in range(5):
            log_in("root", "wrong")
            expect(page.locator(".errornote")).to_be_visible()
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", "root")
        page.fill("#id_password", "pw-root-123")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.click("input[type=submit]")
        assert answer.value.status == 429
        expect(page.get_by_role("alert")).to_contain_text("Too many failed logins")
        log_in("other", "pw-other-123")
        expect(page).to_have_url(f"{live_server.url}/admin/")
        expect(page.locator("#site-name")).to_be_visible()
    finally:
        context.close()
    assert not errors


OLD_CONSTANT_KEY = "insecure-local-only-key-set-KB_SECRET_KEY-in-production"


def load_settings(data_dir, **env):
    """Start a process of the site (its settings) as `make run` would, with a umask a shell gives."""
    import os
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'kbsite.settings'; django.setup(); "
        "from django.conf import settings as s; print(s.SECRET_KEY)"
    )
    base = {k: v for k, v in os.environ.items() if k not in ("KB_SECRET_KEY", "KB_PRODUCTION", "KB_DEBUG")}
    return subprocess.Popen(
        [sys.executable, "-c", code], env={**base, "KB_DATA_DIR": str(data_dir), **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.umask(0o022),
    )


def test_without_a_key_every_process_shares_one_random_key_kept_in_the_data_dir(tmp_path):
    data = tmp_path / "data"
    started = [load_settings(data) for _ in range(3)]  # together, as gunicorn's workers and kb_sync start
    keys = {p.communicate(timeout=60)[0].strip() for p in started}
    assert all(p.returncode == 0 for p in started)
    assert len(keys) == 1 and len(key := keys.pop()) >= 50 and key != OLD_CONSTANT_KEY
    path = data / "secret-key.txt"
    assert path.read_text().strip() == key and path.stat().st_mode & 0o777 == 0o600
    assert load_settings(data).communicate(timeout=60)[0].strip() == key  # and later starts keep it
    other = load_settings(tmp_path / "elsewhere").communicate(timeout=60)[0].strip()
    assert other and other != key


def test_production_requires_a_key_even_with_debug_on(tmp_path):
    failed = load_settings(tmp_path / "data", KB_PRODUCTION="1", KB_DEBUG="1")
    _, stderr = failed.communicate(timeout=60)
    assert failed.returncode != 0 and "KB_SECRET_KEY must be set when KB_PRODUCTION=1" in stderr
    assert not (tmp_path / "data" / "secret-key.txt").exists()
    given = load_settings(tmp_path / "data", KB_PRODUCTION="1", KB_DEBUG="1", KB_SECRET_KEY="k" * 60)
    assert given.communicate(timeout=60)[0].strip() == "k" * 60


def test_an_embed_token_signed_with_the_old_constant_is_refused(client, client_db, handle):
    from django.core import signing

    from graphs.models import SALT

    memory_id = handle.readmodel.conn.execute("SELECT id FROM memory LIMIT 1").fetchone()[0]
    embed = EmbedToken.objects.create(client=client_db, view=f"memory={memory_id}", title="t")
    forged = signing.dumps({"e": embed.pk, "c": "acme"}, key=OLD_CONSTANT_KEY, salt=SALT, compress=True)
    assert client.get(f"/embed/{embed.token}/").status_code == 200
    for url in (f"/embed/{forged}/", f"/embed/{forged}/image.svg"):
        assert client.get(url).status_code == 403, url


VISIT = """
import json, os, django
os.environ['DJANGO_SETTINGS_MODULE'] = 'kbsite.settings'
django.setup()
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

web = Client()
password = (settings.DATA_DIR / 'admin-password.txt').read_text().strip()
assert web.post('/accounts/login/', {'username': 'admin', 'password': password}).status_code == 302
for url in ('/c/default/memories/', '/c/default/search/?q=redis', '/c/default/graph/'):
    assert web.get(url).status_code in (200, 202), url
added = web.post('/admin/memories/clientdatabase/add/', {'slug': 'second', 'name': 'Second', 'path': '',
                 'memberships-TOTAL_FORMS': '0', 'memberships-INITIAL_FORMS': '0'})
assert added.status_code == 302, added.content[-2000:]
assert web.get('/c/second/memories/').status_code == 200
export = json.dumps({'format_version': '2.0', 'relationships': [],
                     'memories': [{'id': 'kept-1', 'type': 'fix', 'title': 'Kept', 'content': 'ok'}]})
answer = web.post('/c/second/import/', {'file': SimpleUploadedFile('kept.json', export.encode())})
assert answer.status_code in (200, 302), answer.content[-2000:]
# While the connections are open: their -wal and -shm files go away with the last one.
print(json.dumps({str(p): p.stat().st_mode for p in settings.DATA_DIR.rglob('*')}))
"""


def test_a_fresh_site_keeps_every_data_file_to_its_own_user(tmp_path, memory_file):
    """migrate, kb_bootstrap, a session that reads, adds a client database and uploads, and a bridge
    run, all with the umask a shell gives (022), into a data dir that already existed (0755)."""
    import json
    import os
    import stat
    import subprocess
    import sys
    from pathlib import Path

    data = tmp_path / "site"
    data.mkdir()
    data.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("KB_SECRET_KEY", "KB_MEMORY_DB", "KB_PRODUCTION")}
    env.update(KB_DATA_DIR=str(data), DJANGO_SETTINGS_MODULE="kbsite.settings")

    def run(*args):
        done = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
            preexec_fn=lambda: os.umask(0o022),
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
        return done.stdout

    run("manage.py", "migrate", "--noinput", "-v0")
    run("manage.py", "kb_bootstrap", "--url", "http://127.0.0.1:9")
    during = json.loads(run("-c", VISIT).strip().splitlines()[-1])
    run("manage.py", "memorygraph_bridge", "--client", "default", "--file", str(memory_file), "-v0")
    found = {Path(p).relative_to(data).as_posix(): stat.S_IMODE(mode) for p, mode in during.items()}
    found.update(
        {p.relative_to(data).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [data, *data.rglob("*")]}
    )
    dirs = {p.relative_to(data).as_posix() for p in [data, *data.rglob("*")] if p.is_dir()}
    for expected in (
        "kbsite.sqlite3", "secret-key.txt", "admin-password.txt", "demo-memory.db", "index/default.sqlite3",
        "clients/second.db", "index/second.sqlite3", "uploads", "bridge",
    ):
        assert expected in found, sorted(found)
    assert {"kbsite.sqlite3-wal", "kbsite.sqlite3-shm", "index/second.sqlite3-wal"} <= set(found), sorted(
        found
    )
    wrong = {name: oct(mode) for name, mode in found.items() if mode != (0o700 if name in dirs else 0o600)}
    assert not wrong, wrong
