"""Roles per client database, checked for every URL: pages, fragments, JSON twins, exports, embeds.

anonymous -> login; not a member -> 404 (the database's existence is not revealed);
viewer -> reads only (403 on writes); editor and admin -> reads and writes.
"""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import get_resolver

from graphs.analytics.services import analytics_run
from graphs.models import EmbedToken
from memories.models import ImportJob, Membership, TagBatch
from memories.worker.kinds import exports_folder
from memories.worker.models import Job

pytestmark = pytest.mark.django_db

READS = [
    ("get", "/c/acme/memories/"),
    ("get", "/c/acme/memories/?format=json"),
    ("get", "/c/acme/memories/{m}/"),
    ("get", "/c/acme/memories/{m}/?format=json"),
    ("get", "/c/acme/search/?q=redis"),
    ("get", "/c/acme/search/?q=redis&format=json"),
    ("get", "/c/acme/tags/"),
    ("get", "/c/acme/tags/?format=json"),
    ("get", "/c/acme/unresolved/"),
    ("get", "/c/acme/graph/"),
    ("get", "/c/acme/graph/?memory={m}&format=json"),
    ("get", "/c/acme/graph/?memory={m}&format=graphml"),
    ("get", "/c/acme/graph/?memory={m}&format=svg"),
    ("get", "/c/acme/graph/embeds/"),
    ("get", "/c/acme/freshness/"),
    ("get", "/c/acme/freshness/?format=json"),
    ("get", "/c/acme/export/?format=json"),
    ("get", "/c/acme/export/?format=csv"),
    ("get", "/c/acme/jobs/{x}/"),
    ("get", "/c/acme/jobs/{x}/download/"),  # an export's job: its readers
]
WRITES = [
    ("get", "/c/acme/memories/new/"),
    ("post", "/c/acme/memories/new/"),
    ("get", "/c/acme/memories/{m}/edit/"),
    ("post", "/c/acme/memories/{m}/edit/"),
    ("post", "/c/acme/memories/{m}/tags/"),
    ("get", "/c/acme/memories/{m}/relationships/new/"),
    ("post", "/c/acme/memories/{m}/relationships/new/"),
    ("post", "/c/acme/relationships/{r}/delete/"),
    ("post", "/c/acme/tags/rename/"),
    ("get", "/c/acme/tags/bulk/?type=error"),
    ("post", "/c/acme/tags/bulk/?type=error"),
    ("post", "/c/acme/tags/bulk/{b}/undo/"),
    ("post", "/c/acme/graph/embeds/"),
    ("post", "/c/acme/graph/embeds/{e}/revoke/"),
    ("post", "/c/acme/memories/{m}/delete/"),
    ("get", "/c/acme/import/"),
    ("post", "/c/acme/import/"),
    ("get", "/c/acme/import/{i}/"),
    ("post", "/c/acme/import/{i}/run/"),
    ("post", "/c/acme/import/{i}/discard/"),
    # The worker's jobs (issue 11): editors and admins; Retry of a finished job is a 409.
    ("get", "/c/acme/jobs/"),
    ("get", "/c/acme/jobs/?format=json"),
    ("get", "/c/acme/jobs/{j}/"),
    ("post", "/c/acme/jobs/{j}/retry/"),
    # Cancel (issue 11): who may retry a kind may cancel it; a finished job's Cancel is a 409.
    ("post", "/c/acme/jobs/{j}/cancel/"),
]

# Everywhere (issue 13): /c/<client>/ redirects to the memories; tag suggestions are reads; the
# Markdown preview and the page confirming a relationship's removal are editors'.
READS += [
    ("get", "/c/acme/"), ("get", "/c/acme/tags/suggest/?q=re"),
    ("get", "/c/acme/tags/suggest/?q=re&format=json"),
]
# The memory picker (graph views, Add relationship) is a read.
READS += [("get", "/c/acme/pick/?q=redis"), ("get", "/c/acme/pick/?q=redis&format=json")]
WRITES = (
    [("get", "/c/acme/relationships/{r}/delete/")] + WRITES + [("post", "/c/acme/preview/")]
)  # asks before


@pytest.fixture
def ids(handle, user):
    conn = handle.readmodel.conn
    analytics_run(rm=handle.readmodel)  # as the worker does: the overview reads its ranks
    memory_id = conn.execute("SELECT from_id FROM edge LIMIT 1").fetchone()[0]
    rel_id = conn.execute("SELECT id FROM edge WHERE from_id = ?", (memory_id,)).fetchone()[0]
    batch = TagBatch.objects.create(client=handle.client, tag="x", selection="", memory_ids=[])
    embed = EmbedToken.objects.create(client=handle.client, view=f"memory={memory_id}", title="t")
    job = ImportJob.objects.create(client=handle.client, filename="x.db", path="/nonexistent/upload")
    work = Job.objects.create(client=handle.client, kind="import", status=Job.DONE, params={"import": job.pk})
    export = Job.objects.create(
        client=handle.client, kind="export", status=Job.DONE, result={"file": "1-x.json"}
    )
    exports_folder(handle.client).mkdir(parents=True)
    (exports_folder(handle.client) / "1-x.json").write_text("{}")
    return {
        "m": memory_id, "r": rel_id, "b": batch.pk, "e": embed.pk, "i": job.pk, "j": work.pk, "x": export.pk,
    }


def as_role(client_db, role):
    user = get_user_model().objects.create_user(f"u-{role}", password="x")
    if role in ("viewer", "editor", "admin"):
        Membership.objects.create(user=user, client=client_db, role=role)
    if role == "superuser":
        user.is_superuser = True
        user.save()
    browser = Client()
    if role != "anonymous":
        browser.force_login(user)
    return browser


def call(browser, method, url, ids):
    return getattr(browser, method)(url.format(**ids))


@pytest.mark.parametrize("role", ["anonymous", "stranger", "viewer"])
def test_reads_and_writes_by_role(client_db, ids, role):
    browser = as_role(client_db, role)
    for method, url in READS + WRITES:
        status = call(browser, method, url, ids).status_code
        if role == "anonymous":
            assert status == 302, url
        elif role == "stranger":
            assert status == 404, url
        elif (method, url) in READS:
            assert status in (200, 302) if "unresolved" in url or url == "/c/acme/" else status == 200, url
        else:
            assert status == 403, url


@pytest.mark.parametrize("role", ["editor", "admin", "superuser"])
def test_writers_are_let_through(client_db, ids, role):
    browser = as_role(client_db, role)
    for method, url in WRITES:
        status = call(browser, method, url, ids).status_code
        assert status not in (403, 404), (url, status)


def listed_patterns():
    """The URL patterns (relative to /c/<client>/) that READS and WRITES cover."""
    return {
        url.split("?")[0] .replace("{m}", "<memory_id:memory_id>") .replace("{r}", "<memory_id:rel_id>")
        .replace("{b}", "<int:batch_id>") .replace("{e}", "<int:embed_id>") .replace("{i}", "<int:job_id>")
        .replace("{j}", "<int:job_id>") .replace("{x}", "<int:job_id>") .replace("/c/acme/", "")
        for _, url in READS + WRITES
    }


def test_every_client_url_is_in_the_table():
    """A new URL under /c/<client>/ must be added to READS or WRITES above."""
    listed = listed_patterns()
    patterns = set()
    for resolver in get_resolver().url_patterns:
        if str(resolver.pattern) == "c/<slug:client>/":
            # Included rooms (keys and APIs for agents) are checked whole by test_authorization.
            patterns |= {str(p.pattern) for p in resolver.url_patterns if not hasattr(p, "url_patterns")}
    assert patterns <= listed, patterns - listed


def test_home_shows_only_member_databases(client_db):
    stranger = as_role(client_db, "stranger")
    page = stranger.get("/")
    assert page.status_code == 200 and b"not a member of any client database" in page.content
    viewer = as_role(client_db, "viewer")
    assert viewer.get("/")["Location"].startswith("/c/")


def test_viewer_sees_no_edit_controls(client_db, ids):
    page = as_role(client_db, "viewer").get(f"/c/acme/memories/{ids['m']}/").content.decode()
    assert "Delete memory" not in page and "/edit/" not in page and 'name="tag"' not in page
    editor_page = as_role(client_db, "editor").get(f"/c/acme/memories/{ids['m']}/").content.decode()
    assert "Delete memory" in editor_page


# The sync status page and its actions: staff see every database, a client's admins theirs.
SYNC_URLS = [
    ("get", "/sync/"), ("get", "/sync/?format=json"), ("get", "/sync/acme/"), ("post", "/sync/acme/rebuild/"),
    ("post", "/sync/acme/now/"),
]


@pytest.mark.parametrize(
    "role, expected",
    [
        ("anonymous", {302}), ("stranger", {403, 404}), ("viewer", {403}), ("editor", {403}),
        ("admin", {200, 302, 400, 409}), ("superuser", {200, 302, 400, 409}),
    ],
)
def test_sync_status_by_role(client_db, role, expected):
    browser = as_role(client_db, role)
    for method, url in SYNC_URLS:
        status = getattr(browser, method)(url).status_code
        if role == "stranger" and url in ("/sync/", "/sync/?format=json"):
            assert status == 403, url
        else:
            assert status in expected, (url, status)


def test_client_admin_sees_only_their_databases(client_db, tmp_path):
    from memories.models import ClientDatabase

    other = ClientDatabase.objects.create(slug="globex", name="Globex", path=str(tmp_path / "g.db"))
    browser = as_role(client_db, "admin")
    data = browser.get("/sync/?format=json").json()
    assert [d["slug"] for d in data["databases"]] == ["acme"]
    assert browser.get(f"/sync/{other.slug}/").status_code == 404
