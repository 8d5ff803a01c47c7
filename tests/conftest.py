"""Fixtures tests in several folders use; a folder's conftest.py holds those only its own tests use."""
import os

import pytest
from django.contrib.auth import get_user_model

from memories.devdata.demo import demo_graph
from memories.devdata.loader import load_graph
from memories.models import ClientDatabase, Membership
from memories.store import cache, registry
from tests.support.browsers import CHROMIUM, CHROMIUM_ARGS, CSP_VIOLATIONS, watch_csp
from tests.support.clients import register_client
from tests.support.sites import Site


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Every test gets its own data dir (read models live there) and no cached handles."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    registry.close_all()
    cache.clear()
    yield
    registry.close_all()


@pytest.fixture
def memory_file(tmp_path):
    """A memorygraph file holding the demo graph."""
    path = tmp_path / "memory.db"
    memories, relationships = demo_graph()
    load_graph(str(path), memories, relationships)
    return path


@pytest.fixture
def empty_file(tmp_path):
    path = tmp_path / "empty.db"
    load_graph(str(path), [], [])
    return path


@pytest.fixture
def client_db(db, memory_file, user):
    """The demo graph as client database `acme`, where `user` (alice) is an editor."""
    client = ClientDatabase.objects.create(slug="acme", name="Acme", path=str(memory_file))
    Membership.objects.create(user=user, client=client, role=Membership.EDITOR)
    return client


@pytest.fixture
def handle(client_db):
    h = registry.handle_for(client_db)
    h.ensure_fresh()
    return h


@pytest.fixture
def hub(handle):
    """The id of the memory with the most relationships."""
    return handle.readmodel.conn.execute(
        "SELECT id FROM (SELECT from_id AS id FROM edge UNION ALL SELECT to_id FROM edge) "
        "GROUP BY id ORDER BY count(*) DESC, id LIMIT 1").fetchone()[0]


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", password="pw-alice-123")


@pytest.fixture
def web(client, user):
    client.force_login(user)
    return client


@pytest.fixture(scope="module")
def browser():
    """One Debian chromium per module of browser tests; the tests fail, not skip, without it.

    Per module, not per session: while Playwright's sync API is started, this thread counts as
    running an event loop, so tests after the browser tests that run asyncio themselves (the
    MCP endpoint's async_to_sync, the memorygraph client over stdio) would find it running."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"Browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium), "
                    "or deselect them with -m 'not browser'.", pytrace=False)
    # Playwright's sync API runs an event loop in this thread, which trips Django's async-safety check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    watch_csp(browser)
    yield browser
    browser.close()
    playwright.stop()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _no_csp_violations(request):
    """Browser tests fail when a page broke the Content-Security-Policy (an inline script or style)."""
    CSP_VIOLATIONS.clear()
    yield
    if request.node.get_closest_marker("browser") and CSP_VIOLATIONS:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(CSP_VIOLATIONS[:10]), pytrace=False)


@pytest.fixture
def team(db, empty_file, user):
    """An empty local client database `team`, where `user` (alice) is an editor; its handle."""
    handle = registry.handle_for(register_client("team", empty_file))
    handle.ensure_fresh()
    return handle


@pytest.fixture
def turso_server(tmp_path):
    """A real `tursodb --sync-server` on a free loopback port, killed after the test."""
    from tests.support.turso_server import TursoServer

    server = TursoServer(tmp_path).start()
    yield server
    server.kill()


@pytest.fixture
def worker_site(tmp_path):
    """A real site in a temporary KB_DATA_DIR (tests/support/sites.py), its kb_worker stopped after
    the test."""
    site = Site(tmp_path)
    yield site
    site.stop()
