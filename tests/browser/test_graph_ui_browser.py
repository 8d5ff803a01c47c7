"""Graph pages as people meet them (issue 13), in chromium: the tooltip at the pointer inside the
canvas, the panel in view, the memory picker end to end, every View without an error page, embed
copy buttons, a 600x400 iframe, and screenshots of every graph page left in test-artifacts/."""
import re

import pytest
from playwright.sync_api import expect

from graphs.analytics.services import analytics_run
from graphs.forms import VIEWS
from graphs.models import EmbedToken
from tests.support.browsers import SCREENSHOTS
from tests.support.wiki import wiki_server

pytestmark = pytest.mark.browser

TIMEOUT_MS = 8000
SHOTS = SCREENSHOTS
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 375, "height": 800}


@pytest.fixture
def ranked(handle):
    analytics_run(rm=handle.readmodel)  # as the worker does: the overview and causal views read it
    return handle


@pytest.fixture
def session(client_db, user):
    from django.test import Client

    web = Client()
    web.force_login(user)
    return web.cookies["sessionid"].value


@pytest.fixture
def open_page(browser, live_server, session):
    contexts = []

    def make(viewport=DESKTOP, scheme="light", **extra):
        context = browser.new_context(base_url=live_server.url, viewport=viewport, color_scheme=scheme,
                                      is_mobile=viewport["width"] < 500, **extra)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _stable(page):
    canvas = page.locator("#graph-canvas")
    expect(canvas.locator("canvas")).to_have_count(1)
    expect(canvas).to_have_attribute("data-stable", "1")
    page.wait_for_timeout(300)  # the fit after stabilising
    return canvas


def _node_point(page, node_id):
    """Where the node is drawn, in page coordinates."""
    return page.evaluate("""(id) => {
        const p = kbGraph.network.canvasToDOM(kbGraph.network.getPositions([id])[id]);
        const box = document.querySelector('#graph-canvas').getBoundingClientRect();
        return {x: box.left + p.x, y: box.top + p.y};
    }""", node_id)


def _inside(inner, outer):
    return (inner["x"] >= outer["x"] - 1 and inner["y"] >= outer["y"] - 1
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1)


def _in_viewport(box, viewport):
    return box["y"] >= 0 and box["x"] >= 0 and box["y"] + min(box["height"], 80) <= viewport["height"] \
        and box["x"] + box["width"] <= viewport["width"] + 1


def test_hover_shows_the_tooltip_inside_the_canvas_at_the_pointer(open_page, hub, handle):
    page = open_page()
    page.goto(f"/c/acme/graph/?memory={hub}&depth=1")
    canvas = _stable(page)
    title = handle.readmodel.conn.execute("SELECT title FROM memory WHERE id = ?", (hub,)).fetchone()[0]
    point = _node_point(page, hub)
    page.mouse.move(point["x"] - 30, point["y"] - 30)
    page.mouse.move(point["x"], point["y"], steps=4)
    tip = page.locator("#graph-canvas .graph-tip")
    expect(tip).to_be_visible()
    expect(tip.locator(".tip-title")).to_have_text(title)
    expect(tip.locator(".tip-type")).not_to_be_empty()
    box, frame = tip.bounding_box(), canvas.bounding_box()
    assert _inside(box, frame), (box, frame)
    assert abs(box["x"] - point["x"]) < 40 + box["width"] and abs(box["y"] - point["y"]) < 40 + box["height"]
    near = min(abs(box["x"] - point["x"]), abs(box["x"] + box["width"] - point["x"]))
    assert near <= 20, "the tooltip starts beside the pointer"
    page.mouse.move(frame["x"] + 3, frame["y"] + 3)
    expect(tip).to_be_hidden()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_a_click_opens_the_panel_in_view_with_its_actions(open_page, hub, viewport):
    page = open_page(viewport)
    page.goto(f"/c/acme/graph/?memory={hub}&depth=1")
    _stable(page)
    page.locator("#graph-canvas").scroll_into_view_if_needed()
    point = _node_point(page, hub)
    page.mouse.click(point["x"], point["y"])
    panel = page.locator("#graph-panel")
    expect(panel).to_be_visible()
    assert _in_viewport(panel.bounding_box(), viewport), panel.bounding_box()
    for name in ("Open", "Path to…", "Graph from here"):
        expect(panel.get_by_role("link", name=name)).to_be_visible()
    for name in ("Expand", "Collapse"):
        expect(panel.get_by_role("button", name=name)).to_be_visible()
    if viewport is DESKTOP:
        canvas, box = page.locator("#graph-canvas").bounding_box(), panel.bounding_box()
        assert box["x"] >= canvas["x"] + canvas["width"] - 1, "beside the canvas, not over or below it"
    expect(panel.get_by_role("link", name="Path to…")).to_have_attribute(
        "href", re.compile(r"view=path&source="))


def test_picker_to_path_end_to_end(open_page, hub, handle):
    conn = handle.readmodel.conn
    target, title = conn.execute(
        "SELECT m.id, m.title FROM edge e JOIN memory m ON m.id IN (e.to_id, e.from_id) AND m.id != ?1 "
        "WHERE ?1 IN (e.from_id, e.to_id) AND e.current ORDER BY m.id LIMIT 1", (hub,),
    ).fetchone()
    page = open_page()
    page.goto(f"/c/acme/graph/?memory={hub}&depth=1")
    _stable(page)
    page.locator("select[name=view]").select_option("path")  # the path's fields show before Show
    to = page.get_by_role("combobox", name="To")
    expect(to).to_be_visible()
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"view=path"))
    expect(page.locator(".error-page")).to_have_count(0)
    expect(page.get_by_role("combobox", name="From")).to_have_value(
        conn.execute("SELECT title FROM memory WHERE id = ?", (hub,)).fetchone()[0]
    )
    words = " ".join(title.split()[:3])
    to = page.get_by_role("combobox", name="To")
    to.fill(words)
    choice = page.locator("#pick-target-results [data-pick-id]", has_text=title).first
    expect(choice).to_be_visible()
    choice.click()
    expect(to).to_have_value(title)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"view=path.*target="))
    expect(page.get_by_role("heading", name="Shortest path")).to_be_visible()
    _stable(page)
    ids = set(page.evaluate("kbGraph.nodes.getIds()"))
    assert {hub, target} <= ids
    assert "q=" not in page.url, "only the picked ids go in the URL"


def test_choosing_any_view_never_gives_an_error_page(open_page, ranked, hub):
    page = open_page()
    for start in ("/c/acme/graph/", f"/c/acme/graph/?memory={hub}&depth=1"):
        for view in VIEWS:
            page.goto(start)
            page.locator("select[name=view]").select_option(view)
            page.get_by_role("button", name="Show", exact=True).click()
            expect(page.locator("header.top")).to_be_visible()
            expect(page.locator(".error-page")).to_have_count(0)
            expect(page.locator("select[name=view]")).to_have_value(view)
            assert "__all__" not in page.content()
            status = page.evaluate("performance.getEntriesByType('navigation')[0].responseStatus")
            assert status == 200, (start, view, status)


def test_find_in_the_graph_focuses_the_node(open_page, hub, handle):
    page = open_page()
    page.goto(f"/c/acme/graph/?memory={hub}&depth=1")
    _stable(page)
    other = page.evaluate("kbGraph.nodes.get().find((n) => !n.center)")
    find = page.get_by_placeholder("Find in this graph")
    find.fill(other["fullLabel"][:12])
    find.press("Enter")
    expect(page.locator("#graph-panel .panel-title")).not_to_be_empty()
    assert page.evaluate("kbGraph.network.getSelectedNodes()") != []
    find.fill("zzz no such memory")
    find.press("Enter")
    expect(page.locator("[data-find-status]")).to_contain_text("No memory in this graph matches")


def _visible_nodes(page):
    return page.evaluate("kbGraph.network.body.nodeIndices.length")


def test_overview_colours_by_community_and_groups_them(open_page, ranked):
    """300 memories start gathered into their communities (no hairball); each opens on a click."""
    page = open_page()
    page.goto("/c/acme/graph/")
    _stable(page)
    expect(page.get_by_label("Colour by")).to_have_value("community")
    total = page.evaluate("kbGraph.nodes.length")
    grouped = _visible_nodes(page)
    assert grouped < total / 3, (grouped, total)
    assert int(page.locator("#graph-canvas").get_attribute("data-labelled")) >= 5
    cluster = page.evaluate("kbGraph.network.body.nodeIndices.find((id) => kbGraph.network.isCluster(id))")
    point = page.evaluate(
        """(id) => {
        const p = kbGraph.network.canvasToDOM(kbGraph.network.getPositions([id])[id]);
        const box = document.querySelector('#graph-canvas').getBoundingClientRect();
        return {x: box.left + p.x, y: box.top + p.y};
    }""",
        cluster,
    )
    page.mouse.click(point["x"], point["y"])
    assert _visible_nodes(page) > grouped
    page.get_by_role("button", name="Show every memory").click()
    assert _visible_nodes(page) == total
    page.get_by_role("button", name="Group communities").click()
    assert _visible_nodes(page) == grouped


def test_load_more_adds_nodes_in_place(open_page, ranked):
    page = open_page()
    page.goto("/c/acme/graph/?limit=40")
    canvas = _stable(page)
    page.evaluate("window.kbMarker = 1")  # gone if the page reloads
    page.get_by_role("link", name="load more").click()
    expect(canvas).to_have_attribute("data-node-count", "80")
    assert page.evaluate("window.kbMarker") == 1
    expect(page.locator("[data-shown]")).to_have_text("80")


def _embed(client_db, hub):
    return EmbedToken.objects.create(
        client=client_db, view=f"memory={hub}&depth=1", title="Hub and neighbours"
    )


def test_embed_copy_buttons(open_page, client_db, hub, live_server):
    embed = _embed(client_db, hub)
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto("/c/acme/graph/embeds/")
    row = page.locator(f"#embed-{embed.pk}")
    link = row.get_by_label("Link", exact=True).input_value()
    assert link.startswith(f"{live_server.url}/embed/")
    for button, expected in (("Copy link", link), ("Copy image URL", f"{link}image.svg")):
        row.get_by_role("button", name=button).click()
        expect(row.locator("[data-copy-status]")).to_contain_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == expected
    page.get_by_label("Height of the iframe").fill("420")
    row.get_by_role("button", name="Copy iframe").click()
    expect(row.locator("[data-copy-status]")).to_contain_text("Copied the iframe")
    snippet = page.evaluate("navigator.clipboard.readText()")
    assert snippet.startswith(f'<iframe src="{link}"') and 'height="420"' in snippet


def test_the_graph_fills_a_600_by_400_iframe_with_labels(open_page, client_db, hub, settings, live_server):
    embed = _embed(client_db, hub)
    with wiki_server() as (origin, publish):
        settings.KB_EMBED_ORIGINS = [origin]
        publish(
            f'<!doctype html><title>Wiki</title><body style="margin:0">'
            f'<iframe id="embed" src="{live_server.url}/embed/{embed.token}/" width=600 height=400 '
            f'style="border:0"></iframe>'
        )
        page = open_page()
        page.goto(f"{origin}/wiki.html")
        frame = page.frame_locator("#embed")
        canvas = frame.locator("#graph-canvas")
        expect(canvas).to_have_attribute("data-stable", "1")
        box = canvas.bounding_box()
        assert box["width"] >= 560 and box["height"] >= 250, box
        assert box["y"] + box["height"] <= 400 + 1, "the canvas ends within the iframe"
        labelled = frame.locator("body").evaluate("() => kbGraph.nodes.get().filter((n) => n.label).length")
        assert labelled >= 3
        page.wait_for_timeout(400)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "embed-in-600x400-iframe.png"))


PAGES = {
    "neighbourhood": "/c/acme/graph/?memory={hub}&depth=1", "overview": "/c/acme/graph/",
    "path-picker": "/c/acme/graph/?view=path&source={hub}",
    "path": "/c/acme/graph/?view=path&source={hub}&target={far}", "unsolved": "/c/acme/graph/?view=unsolved",
    "embed": "/embed/{token}/", "embed-links": "/c/acme/graph/embeds/",
    "svg": "/c/acme/graph/?memory={hub}&depth=1&format=svg",  # the download, title and all
}


def _drawing(page):
    """Where the canvas draws its nodes and its labels, in the canvas's own pixels (vis's label
    boxes are in graph units), and the canvas's size."""
    return page.evaluate("""() => {
        const net = kbGraph.network, canvas = document.querySelector('#graph-canvas');
        const dom = (x, y) => net.canvasToDOM({x, y});
        const nodes = net.body.nodeIndices.map(
            (id) => dom(net.getPositions([id])[id].x, net.getPositions([id])[id].y));
        const labels = net.body.nodeIndices.map((id) => net.body.nodes[id]).filter((n) => n.options.label)
            .map((n) => { const s = n.labelModule.size, a = dom(s.left, s.top),
                                b = dom(s.left + s.width, s.top + s.height);
                          return {text: n.options.label, left: a.x, top: a.y, right: b.x, bottom: b.y}; });
        return {nodes, labels, width: canvas.clientWidth, height: canvas.clientHeight};
    }""")


def _fits_and_is_centred(page, name):
    """The view fits the canvas and is centred in it; no label is cut at its edges."""
    drawn = _drawing(page)
    xs, ys = [p["x"] for p in drawn["nodes"]], [p["y"] for p in drawn["nodes"]]
    width, height = drawn["width"], drawn["height"]
    assert min(xs) >= 0 and max(xs) <= width and min(ys) >= 0 and max(ys) <= height, (name, drawn)
    if len(xs) > 1:
        assert abs((min(xs) + max(xs)) / 2 - width / 2) <= 0.05 * width, (name, min(xs), max(xs), width)
        assert abs((min(ys) + max(ys)) / 2 - height / 2) <= 0.05 * height, (name, min(ys), max(ys), height)
        # Not a speck in a corner: the drawing spans most of the canvas one way or the other.
        assert max((max(xs) - min(xs)) / width, (max(ys) - min(ys)) / height) >= 0.5, (name, drawn)
    cut = [
        label for label in drawn["labels"] if label["left"] < -1 or label["right"] > width + 1
        or label["top"] < -1 or label["bottom"] > height + 1
    ]
    assert not cut, (name, cut)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_every_graph_page(open_page, ranked, client_db, hub, scheme):
    """Left in test-artifacts/screenshots/ to be looked at (not compared); on the way, each drawing
    fits its canvas, centred, with no label cut at the edges, at 1280 px and on a phone."""
    conn = ranked.readmodel.conn
    # A memory two steps from the hub (in either direction), so the path has a middle.
    far = conn.execute(
        "WITH n1 AS (SELECT to_id AS id FROM edge WHERE from_id = ?1 UNION SELECT from_id FROM edge "
        "WHERE to_id = ?1) SELECT e.to_id FROM edge e JOIN n1 ON e.from_id = n1.id "
        "WHERE e.to_id != ?1 AND e.to_id NOT IN (SELECT id FROM n1) ORDER BY e.to_id LIMIT 1", (hub,),
    ).fetchone()[0]
    token = _embed(client_db, hub).token
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in (("1280", DESKTOP), ("375", PHONE)):
        page = open_page(viewport, scheme)
        for name, url in PAGES.items():
            page.goto(url.format(hub=hub, far=far, token=token))
            if page.locator("#graph-canvas").count():
                _stable(page)
                if name != "embed":  # the embed's own test: the 600x400 iframe
                    _fits_and_is_centred(page, f"{name}-{size}")
                if name == "neighbourhood":  # with the panel open and a tooltip showing
                    page.locator("#graph-canvas").scroll_into_view_if_needed()
                    point = _node_point(page, hub)
                    page.mouse.click(point["x"], point["y"])
                    page.wait_for_timeout(300)
                    point = _node_point(page, hub)  # the canvas narrowed beside the panel
                    page.mouse.move(point["x"] + 2, point["y"] + 2, steps=3)
                    page.wait_for_timeout(400)
            if name == "path-picker":
                page.get_by_role("combobox", name="To").fill("redis")
                page.wait_for_timeout(700)
            page.screenshot(path=str(SHOTS / f"{name}-{size}-{scheme}.png"))
            if name == "neighbourhood":  # zoomed in: every label and the edges' types
                page.keyboard.press("Escape")
                page.evaluate(
                    "kbGraph.network.moveTo({scale: 2.2, position: kbGraph.network.getViewPosition()})"
                )
                page.evaluate("kbGraph.network.emit('zoom', {})")
                page.wait_for_timeout(500)
                page.screenshot(path=str(SHOTS / f"{name}-zoomed-{size}-{scheme}.png"))
