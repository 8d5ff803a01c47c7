"""The main journeys in a real browser, against the site as it runs in production: gunicorn
and the sync worker of two instances sharing a real `tursodb --sync-server` primary."""
import re

import pytest
from playwright.sync_api import expect

from tests.support.browsers import SCREENSHOTS
from tests.support.instances import Instance, wait_until
from tests.support.wiki import wiki_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TIMEOUT_MS = 10_000
SHOTS = SCREENSHOTS / "everywhere"


@pytest.fixture
def wiki():
    """A wiki page on another origin: (url, publish(html))."""
    with wiki_server() as served:
        yield served


@pytest.fixture
def instances(tmp_path, turso_server, wiki):
    origin, _ = wiki
    one = Instance(tmp_path, "one", turso_server.url, env={"KB_EMBED_ORIGINS": origin}).setup()
    two = Instance(tmp_path, "two", turso_server.url).setup()
    for instance in (one, two):
        instance.start()
    yield one, two
    for instance in (one, two):
        instance.stop()


def test_a_day_with_the_team_database(browser, instances, wiki):
    one, two = instances
    wait_until(lambda: one.badge()["level"] == "ok" and two.badge()["level"] == "ok", 20, what="both synced")
    oom = one.create("Indexer OOMKilled on big batches", type="error")
    stream = one.create("Stream the batches through a generator", type="fix")
    pattern = one.create("Generator pipelines keep memory flat", type="code_pattern")
    one.relate(stream, oom, "SOLVES")
    one.relate(pattern, stream, "GENERALIZES")

    context = browser.new_context(base_url=one.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        # Log in.
        page.goto("/c/team/memories/")
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill((one.dir / "data" / "admin-password.txt").read_text().strip())
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(re.compile(r"/c/team/memories/$"))
        expect(page.locator("#freshness")).to_contain_text("synced")

        # Search and open a memory.
        page.locator("#q").fill("OOMKilled")
        first = page.locator(".memory-item a.title").first
        expect(first).to_contain_text("Indexer OOMKilled")
        first.click()
        expect(page.locator("h1")).to_have_text("Indexer OOMKilled on big batches")

        # Tag it, and see the tag facet count it.
        page.get_by_placeholder("add tag").fill("capacity")
        page.get_by_role("button", name="Add").click()
        expect(page.locator("#tags")).to_contain_text("#capacity")
        page.goto("/c/team/memories/")
        facet = page.locator(".facets a", has_text="capacity")
        expect(facet).to_have_count(1)
        expect(facet.locator("xpath=..")).to_contain_text("1")

        # Graph the search results and expand a node.
        page.goto("/c/team/search/?q=OOMKilled")
        page.get_by_role("link", name="Graph these results").click()
        canvas = page.locator("#graph-canvas")
        expect(canvas.locator("canvas")).to_have_count(1)
        expect(canvas).to_have_attribute("data-stable", "1")
        shown = set(page.evaluate("kbGraph.nodes.getIds()"))
        assert {oom, stream} <= shown and pattern not in shown
        page.evaluate("""(id) => { kbGraph.network.selectNodes([id]);
            kbGraph.network.body.emitter.emit("click", {nodes: [id], edges: []}); }""", stream)
        page.locator("#graph-panel").get_by_role("button", name="Expand").click()
        expect(canvas).to_have_attribute("data-node-count", str(len(shown) + 1))
        assert pattern in page.evaluate("kbGraph.nodes.getIds()")

        # Create an embed link and load it inside an iframe of another origin.
        page.get_by_role("button", name="Create embed link").click()
        link = page.locator(".embed-row").last.get_by_label("Link", exact=True).input_value()
        wiki_url, publish = wiki
        publish(
            "<!doctype html><title>Wiki</title>"
            f'<iframe id="embed" src="{link}" width=800 height=600></iframe>'
        )
        reader = context.browser.new_context()
        wiki_page = reader.new_page()
        wiki_page.goto(wiki_url + "/team.html")
        frame = wiki_page.frame_locator("#embed")
        expect(frame.locator("#graph-canvas canvas")).to_have_count(1, timeout=TIMEOUT_MS)
        expect(frame.locator("#graph-canvas")).to_have_attribute("data-node-count", re.compile(r"^[1-9]\d*$"))
        reader.close()

        # A write on the second instance: the badge here says the page is out of date.
        page.goto("/c/team/memories/")
        badge = page.locator("#freshness")
        expect(badge).not_to_contain_text("updated")
        remote = two.create("Written on the other laptop's instance")
        expect(badge).to_contain_text("updated, reload", timeout=20_000)
        badge.click()
        expect(page.locator(".memory-item a.title", has_text="Written on the other laptop")).to_have_count(1)
        assert remote in one.memories()

        # On a phone the badge stays in the one-line header, not behind Menu.
        phone = browser.new_context(
            base_url=one.url, viewport={"width": 375, "height": 812}, is_mobile=True,
            storage_state=context.storage_state(),
        )
        small = phone.new_page()
        small.goto("/c/team/memories/")
        expect(small.locator("header.top #freshness")).to_be_visible()
        expect(small.locator("details.menu > summary")).to_be_visible()
        assert small.locator("header.top").bounding_box()["height"] <= 64
        SHOTS.mkdir(parents=True, exist_ok=True)
        small.screenshot(path=str(SHOTS / "synced-header-375-light.png"))
        small.locator("#q").focus()  # typing: the search takes the badge's and the switcher's room
        expect(small.locator("header.top #freshness")).to_be_hidden()
        assert small.locator("#q").bounding_box()["width"] >= 200
        small.screenshot(path=str(SHOTS / "synced-header-search-375-light.png"))
        phone.close()
    finally:
        context.close()
