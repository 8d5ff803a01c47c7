"""Graph pages in a real browser: the vis-network canvas, in-place expansion, the table twin,
embeds in iframes.

Playwright drives Debian's chromium against live_server; opt-in by marker like tests/browser/test_browser.py,
and failing, not skipping, without /usr/bin/chromium.
"""

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.support.wiki import wiki_server

pytestmark = pytest.mark.browser

TIMEOUT_MS = 5000


def _new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def _log_in(page, next_url):
    """Log in as alice through the login form, landing on next_url."""
    page.goto(f"/accounts/login/?{urlencode({'next': next_url})}")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("pw-alice-123")
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def page(browser, live_server, client_db, user):
    context, page = _new_page(browser, live_server)
    yield page
    context.close()


@pytest.fixture
def anonymous(browser, live_server, client_db):
    context, page = _new_page(browser, live_server)
    yield page
    context.close()


@pytest.fixture
def wiki(settings):
    """A page on another origin (127.0.0.1, while live_server is localhost) that the embed may be framed by.

    Returns (url, publish): publish(html) sets what the wiki page serves.
    """
    with wiki_server() as (origin, publish):
        settings.KB_EMBED_ORIGINS = [origin]
        yield f"{origin}/wiki.html", publish


def _open_graph(page, hub):
    """Log in, open the hub's neighbourhood and wait for the canvas; return the node ids of its JSON twin."""
    view = f"/c/acme/graph/?memory={hub}&depth=1"
    _log_in(page, view)
    expect(page).to_have_url(re.compile(re.escape(view) + "$"))
    ids = [n["id"] for n in page.request.get(f"{view}&format=json").json()["nodes"]]
    canvas = page.locator("#graph-canvas")
    expect(canvas.locator("canvas")).to_have_count(1)
    expect(canvas).to_have_attribute("data-node-count", str(len(ids)))
    expect(canvas).to_have_attribute("data-stable", "1")
    return ids


def _select(page, node_id):
    """What a click on the node does: vis selects it and emits "click", which opens the panel."""
    page.evaluate(
        """(id) => {
        kbGraph.network.selectNodes([id]);
        kbGraph.network.body.emitter.emit("click", {nodes: [id], edges: []});
    }""",
        node_id,
    )
    expect(page.locator("#graph-panel")).to_be_visible()


def test_neighbourhood_draws_one_node_per_memory(page, hub):
    ids = _open_graph(page, hub)
    assert hub in ids and len(ids) > 2
    assert sorted(page.evaluate("kbGraph.nodes.getIds()")) == sorted(ids)
    assert page.evaluate("kbGraph.nodes.length") == len(ids)
    page.screenshot(path="/tmp/shot-graph.png", full_page=True)


def test_expand_and_collapse_a_node_in_place(page, hub):
    ids = _open_graph(page, hub)
    # A neighbour whose own neighbourhood (what the Expand button fetches) brings memories not yet shown.
    for candidate in sorted(set(ids) - {hub}):
        theirs = page.request.get(
            f"/c/acme/graph/?view=neighbourhood&memory={candidate}&depth=1&limit=60&format=json"
        ).json()
        added = {n["id"] for n in theirs["nodes"]} - set(ids)
        if added:
            break
    else:
        pytest.fail("no neighbour of the hub has neighbours outside the hub's neighbourhood")
    canvas, panel = page.locator("#graph-canvas"), page.locator("#graph-panel")
    original, grown = str(len(ids)), str(len(ids) + len(added))
    undo = page.get_by_role("button", name="Undo expansion")
    expect(undo).to_be_hidden()

    _select(page, candidate)
    panel.get_by_role("button", name="Expand").click()
    expect(canvas).to_have_attribute("data-node-count", grown)
    expect(page).to_have_url(re.compile(rf"[?&]expand={candidate}(&|$)"))
    assert set(page.evaluate("kbGraph.nodes.getIds()")) == set(ids) | added

    undo.click()
    expect(canvas).to_have_attribute("data-node-count", original)
    expect(page).not_to_have_url(re.compile(r"[?&]expand="))
    expect(undo).to_be_hidden()

    panel.get_by_role("button", name="Expand").click()
    expect(canvas).to_have_attribute("data-node-count", grown)
    panel.get_by_role("button", name="Collapse").click()
    expect(canvas).to_have_attribute("data-node-count", original)
    expect(page).not_to_have_url(re.compile(r"[?&]expand="))
    assert sorted(page.evaluate("kbGraph.nodes.getIds()")) == sorted(ids)


def test_t_toggles_the_sortable_table_twin(page, hub):
    ids = _open_graph(page, hub)
    twin, canvas = page.locator("#twin"), page.locator("#graph-canvas")
    expect(twin).to_be_hidden()

    page.keyboard.press("t")
    expect(twin).to_be_visible()
    expect(canvas).to_be_hidden()
    expect(twin.locator("tbody tr")).to_have_count(len(ids))

    header = twin.get_by_role("columnheader", name="Links")
    links = header.get_by_role("button")
    links.click()
    expect(header).to_have_attribute("aria-sort", "descending")
    degrees = [int(d) for d in twin.locator("tbody tr td:nth-child(3)").all_inner_texts()]
    assert degrees == sorted(degrees, reverse=True)
    links.click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    degrees = [int(d) for d in twin.locator("tbody tr td:nth-child(3)").all_inner_texts()]
    assert degrees == sorted(degrees)

    page.keyboard.press("t")
    expect(twin).to_be_hidden()
    expect(canvas).to_be_visible()


def _create_embed_link(page, hub):
    """Create an embed link of the hub's neighbourhood through the graph page's form; return the link."""
    _open_graph(page, hub)
    page.get_by_role("button", name="Create embed link").click()
    expect(page).to_have_url(re.compile(r"/c/acme/graph/embeds/#embed-\d+$"))
    link = page.locator(".embed-row").last.get_by_label("Link", exact=True)
    expect(link).to_have_value(re.compile(r"^http://localhost:\d+/embed/[^/]+/$"))
    return link.input_value()


def test_embed_shows_the_graph_inside_another_origins_iframe(page, anonymous, hub, wiki, live_server):
    link = _create_embed_link(page, hub)
    wiki_url, publish = wiki
    publish(
        f"<!doctype html><title>Wiki</title><h1>Team wiki</h1>"
        f'<iframe id="embed" src="{link}" width=800 height=600></iframe>'
        f'<iframe id="login" src="{live_server.url}/accounts/login/" width=400 height=300'
        f' onload="this.dataset.loaded = 1"></iframe>'
    )

    anonymous.goto(wiki_url)
    frame = anonymous.frame_locator("#embed")
    expect(frame.locator("#graph-canvas canvas")).to_have_count(1)
    expect(frame.locator("#graph-canvas")).to_have_attribute("data-node-count", re.compile(r"^[1-9]\d*$"))
    expect(frame.locator("#graph-canvas")).to_have_attribute("data-stable", "1")
    # X-Frame-Options: DENY on everything but embeds: chromium loads an error page instead of the form.
    expect(anonymous.locator("#login")).to_have_attribute("data-loaded", "1")
    expect(anonymous.frame_locator("#login").locator("#id_username")).to_have_count(0)
    # That refusal is the one expected CSP report: frame-ancestors 'none' on the login page.
    from tests.support.browsers import CSP_VIOLATIONS

    refused = [v for v in CSP_VIOLATIONS if "frame-ancestors 'none'" in v]
    assert refused
    CSP_VIOLATIONS[:] = [v for v in CSP_VIOLATIONS if v not in refused]


def test_revoked_embed_shows_403_inside_the_iframe(page, anonymous, hub, wiki):
    link = _create_embed_link(page, hub)
    row = page.locator(".embed-row").last
    row.get_by_text("Revoke…").click()  # a confirmation step first (a <details>, no script needed)
    row.get_by_role("button", name="Revoke this link").click()
    expect(page.get_by_text("Embed link revoked")).to_be_visible()
    wiki_url, publish = wiki
    publish(f'<!doctype html><title>Wiki</title><iframe src="{link}" width=800 height=600></iframe>')

    anonymous.goto(wiki_url)
    frame = anonymous.frame_locator("iframe")
    expect(frame.get_by_role("heading")).to_have_text("This graph cannot be shown")
    expect(frame.locator(".error")).to_contain_text("revoked")
    expect(frame.locator("#graph-canvas")).to_have_count(0)
