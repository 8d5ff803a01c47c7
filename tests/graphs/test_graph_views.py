"""Graph views: page, JSON twin, exports, embeds (tokens, scope, framing) and oEmbed."""
import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.utils import timezone

from graphs.analytics.services import analytics_run
from graphs.models import EmbedToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub(handle):
    """The memory with the most relationships, and its direct neighbours."""
    conn = handle.readmodel.conn
    hub_id = conn.execute(
        "SELECT id FROM (SELECT from_id AS id FROM edge UNION ALL SELECT to_id FROM edge) "
        "GROUP BY id ORDER BY count(*) DESC, id LIMIT 1").fetchone()[0]
    neighbours = {
        r[0]
        for r in conn.execute(
            "SELECT to_id FROM edge WHERE from_id = ? AND current = 1 "
            "UNION SELECT from_id FROM edge WHERE to_id = ? AND current = 1", (hub_id, hub_id),
        ).fetchall()
    }
    return hub_id, neighbours


def test_neighbourhood_json_has_the_memory_and_its_neighbours(web, hub):
    hub_id, neighbours = hub
    data = web.get(f"/c/acme/graph/?memory={hub_id}&depth=1&format=json").json()
    ids = {n["id"] for n in data["nodes"]}
    assert ids == neighbours | {hub_id}
    assert data["shown"] == data["total"] == len(ids)
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])
    deeper = web.get(f"/c/acme/graph/?memory={hub_id}&depth=2&format=json").json()
    assert deeper["total"] >= data["total"]
    limited = web.get(f"/c/acme/graph/?memory={hub_id}&depth=3&limit=5&format=json").json()
    assert limited["shown"] == 5 and limited["total"] >= 5


def test_neighbourhood_filters(web, hub):
    hub_id, _ = hub
    data = web.get(f"/c/acme/graph/?memory={hub_id}&depth=2&node_type=solution&format=json").json()
    assert {n["type"] for n in data["nodes"] if n["id"] != hub_id} <= {"solution"}
    data = web.get(f"/c/acme/graph/?memory={hub_id}&depth=2&category=solution&format=json").json()
    assert all(e["category"] == "solution" for e in data["edges"])


def test_expand_adds_neighbours_of_expanded_nodes(web, hub, handle):
    hub_id, neighbours = hub
    other = sorted(neighbours)[0]
    plain = web.get(f"/c/acme/graph/?memory={hub_id}&depth=1&format=json").json()
    expanded = web.get(f"/c/acme/graph/?memory={hub_id}&depth=1&expand={other}&format=json").json()
    assert expanded["total"] >= plain["total"]


def test_graph_page_full_and_payload_is_local(web, hub):
    hub_id, _ = hub
    page = web.get(f"/c/acme/graph/?memory={hub_id}&depth=2")
    assert page.status_code == 200
    html = page.content.decode()
    payload = json.loads(
        re.search(r'<script id="graph-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    # Nothing but memory text (hover titles, written by agents) may hold a URL: no scripts or images load.
    structure = json.dumps(
        {**payload, "nodes": [{k: v for k, v in n.items() if k != "title"} for n in payload["nodes"]]}
    )
    assert payload["nodes"] and "http://" not in structure and "https://" not in structure
    assert "/static/vendor/vis-network-9.1.2/vis-network.min.js" in html
    assert 'id="twin"' in html and "<table" in html
    assert page["X-Frame-Options"] == "DENY"


def test_bad_parameters_get_400_and_unknown_memory_404(web, client_db):
    assert web.get("/c/acme/graph/?depth=9&memory=x").status_code == 400
    assert web.get("/c/acme/graph/?view=bogus").status_code == 400
    assert web.get("/c/acme/graph/?view=neighbourhood&format=json").status_code == 400
    assert web.get("/c/acme/graph/?view=path&source=a&format=json").status_code == 400
    assert web.get("/c/acme/graph/?memory=nope&format=json").status_code == 404


@pytest.mark.parametrize(
    "query, pickers",
    [
        ("view=neighbourhood", ["memory"]), ("view=path", ["source", "target"]),
        ("view=path&source=", ["target"]),
    ],
)
def test_a_view_still_missing_its_memories_shows_the_form_with_pickers(web, client_db, query, pickers):
    page = web.get(f"/c/acme/graph/?{query}")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'class="top"' in html and 'name="view"' in html, "the page keeps the site's menu and the form"
    for name in pickers:
        assert f'id="pick-{name}"' in html and 'hx-get="/c/acme/pick/"' in html
    assert "Pick the" in html and "__all__" not in html


def test_invalid_values_show_the_form_and_plain_messages(web, client_db):
    page = web.get("/c/acme/graph/?memory=x&depth=9")
    html = page.content.decode()
    assert page.status_code == 400 and 'name="view"' in html and 'class="top"' in html
    assert "Depth: Ensure this value is less than or equal to 3." in html and "__all__" not in html


def test_words_where_an_id_goes_list_the_matching_memories(web, hub, handle):
    """The form sent without JavaScript: the picker's box held words, not an id."""
    page = web.get("/c/acme/graph/?view=neighbourhood&memory=redis")
    html = page.content.decode()
    assert page.status_code == 200 and 'type="radio" name="memory"' in html
    chosen = re.search(r'type="radio" name="memory" value="([^"]+)"', html).group(1)
    assert handle.readmodel.conn.execute("SELECT 1 FROM memory WHERE id = ?", (chosen,)).fetchone()
    assert web.get("/c/acme/graph/?view=neighbourhood&memory=zzqqxxnothing").status_code == 404


def test_path_view_keeps_the_memory_as_its_start_and_lists_the_path_in_order(web, handle):
    conn = handle.readmodel.conn
    a, b, c = conn.execute(
        "SELECT e1.from_id, e1.to_id, e2.to_id FROM edge e1 JOIN edge e2 ON e2.from_id = e1.to_id "
        "WHERE e1.current AND e2.current AND e2.to_id NOT IN (e1.from_id, e1.to_id) "
        "AND NOT EXISTS (SELECT 1 FROM edge x WHERE x.current "
        "AND ((x.from_id = e1.from_id AND x.to_id = e2.to_id) "
        "OR (x.to_id = e1.from_id AND x.from_id = e2.to_id))) LIMIT 1"
    ).fetchone()
    data = web.get(f"/c/acme/graph/?view=path&memory={a}&target={c}&format=json").json()
    assert len(data["nodes"]) == 3
    html = web.get(f"/c/acme/graph/?view=path&source={a}&target={c}").content.decode()
    titles = dict(conn.execute(f"SELECT id, title FROM memory WHERE id IN ('{a}', '{b}', '{c}')").fetchall())
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    positions = [
        body.index(titles[n].replace("&", "&amp;").replace('"', "&quot;").replace("'", "&#x27;"))
        for n in (a, b, c)
    ]
    assert positions == sorted(positions), "the table lists the path from its start to its end"
    assert f'data-title="{titles[a]}"'.replace("&", "&amp;") in html or 'id="pick-source"' in html


def test_picker_endpoint_finds_memories_by_words_prefixes_and_ids(web, handle):
    conn = handle.readmodel.conn
    memory_id, title = conn.execute(
        "SELECT id, title FROM memory WHERE title LIKE '%Redis%' LIMIT 1"
    ).fetchone()
    results = web.get("/c/acme/pick/?q=redis&format=json").json()["results"]
    assert results and all(set(r) == {"id", "title", "type"} for r in results)
    assert any("redis" in r["title"].lower() for r in results)
    prefix = web.get("/c/acme/pick/?q=redi&format=json").json()["results"]
    assert prefix, "a word being typed matches as a prefix"
    by_id = web.get(f"/c/acme/pick/?q={memory_id}&format=json").json()["results"]
    assert by_id[0]["id"] == memory_id
    address = web.get(f"/c/acme/pick/?q=http://x/c/acme/memories/{memory_id}/&format=json").json()["results"]
    assert address[0]["id"] == memory_id
    fragment = web.get("/c/acme/pick/?q=redis", HTTP_HX_REQUEST="true").content.decode()
    assert "data-pick-id=" in fragment and "<html" not in fragment
    page = web.get("/c/acme/pick/?q=redis").content.decode()
    assert "<html" in page and "/c/acme/memories/" in page
    for q in ("", '"', "AND OR NOT", "*", "x" * 5000):
        assert web.get("/c/acme/pick/", {"q": q, "format": "json"}).status_code == 200


def test_picker_asks_for_two_characters_before_it_searches(web, handle, monkeypatch):
    from memories.search.backends import fts as search_module

    searched = []
    monkeypatch.setattr(search_module, "ranked_rids", lambda *a, **k: searched.append(a) or [])
    one = web.get("/c/acme/pick/?q=r&format=json").json()
    assert one["results"] == [] and one["hint"] == "Type at least 2 characters." and not searched
    fragment = web.get("/c/acme/pick/?q=%20r%20", HTTP_HX_REQUEST="true").content.decode()
    assert "Type at least 2 characters." in fragment and "No memory matches" not in fragment
    assert "hint" not in web.get("/c/acme/pick/?q=&format=json").json(), "an empty box: no hint"
    web.get("/c/acme/pick/?q=re&format=json")
    assert searched, "two characters are searched"


def test_picker_never_searches_a_one_letter_prefix(handle):
    from graphs.picker.selectors import memory_pick
    from memories.search.backends import fts as search_module

    seen = []
    real = search_module.ranked_rids

    def spy(conn, parsed, *args, **kwargs):
        seen.append(parsed.match)
        return real(conn, parsed, *args, **kwargs)

    search_module.ranked_rids = spy
    try:
        memory_pick(rm=handle.readmodel, text="redis q")
    finally:
        search_module.ranked_rids = real
    assert seen and not any('"q"*' in m for m in seen), seen


def test_nodes_mark_the_start_and_the_unsolved_problems(web, hub, handle):
    hub_id, _ = hub
    page = web.get(f"/c/acme/graph/?memory={hub_id}&depth=1").content.decode()
    payload = json.loads(
        re.search(r'<script id="graph-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    )
    assert [n["id"] for n in payload["nodes"] if n.get("center")] == [hub_id]
    assert payload["options"]["layout"]["randomSeed"] == 7
    analytics_run(rm=handle.readmodel)
    page = web.get("/c/acme/graph/?view=unsolved").content.decode()
    payload = json.loads(
        re.search(r'<script id="graph-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    )
    open_ = [n for n in payload["nodes"] if n.get("role") == "open"]
    assert open_ and all(n["type"] in ("problem", "error") and n["important"] for n in open_)
    assert "unsolved problem" in page


def test_whole_graph_views(web, handle):
    analytics_run(rm=handle.readmodel)
    overview = web.get("/c/acme/graph/?format=json").json()
    assert overview["view"] == "overview" and overview["stats"]["isolated"] >= 1
    assert overview["shown"] <= 300 and overview["total"] > 200
    assert all("pagerank" in n and "community" in n for n in overview["nodes"])
    for view in ("chains", "unsolved", "contradictions", "superseded"):
        data = web.get(f"/c/acme/graph/?view={view}&format=json").json()
        assert data["shown"] > 0, view
    contradictions = web.get("/c/acme/graph/?view=contradictions&format=json").json()
    assert {e["rel_type"] for e in contradictions["edges"]} == {"CONTRADICTS"}
    assert web.get("/c/acme/graph/?view=unsolved").status_code == 200


def test_path_between_two_memories(web, hub):
    hub_id, neighbours = hub
    a, b = sorted(neighbours)[:2]
    data = web.get(f"/c/acme/graph/?view=path&source={a}&target={b}&format=json").json()
    ids = [n["id"] for n in data["nodes"]]
    assert {a, b} <= set(ids) and len(ids) <= 3
    assert web.get(f"/c/acme/graph/?view=path&source={a}&target=missing&format=json").status_code == 404


def test_results_graph(web, client_db):
    data = web.get("/c/acme/graph/?view=results&q=postgres&format=json").json()
    assert data["stats"]["hits"] > 0 and data["shown"] >= data["stats"]["hits"] or data["shown"] == 300


@pytest.mark.parametrize(
    "fmt, check",
    [
        ("graphml", lambda body: ElementTree.fromstring(body).tag.endswith("graphml")),
        ("gexf", lambda body: ElementTree.fromstring(body).tag.endswith("gexf")),
        ("svg", lambda body: ElementTree.fromstring(body).tag.endswith("svg")),
        ("nodelink", lambda body: "nodes" in json.loads(body)),
    ],
)
def test_exports(web, hub, fmt, check):
    hub_id, _ = hub
    response = web.get(f"/c/acme/graph/?memory={hub_id}&depth=2&format={fmt}")
    assert response.status_code == 200 and check(response.content)


def _embed(web, hub, **extra):
    hub_id, _ = hub
    response = web.post(
        "/c/acme/graph/embeds/", {"view": f"memory={hub_id}&depth=1", "title": "Hub", **extra}
    )
    assert response.status_code == 302
    return EmbedToken.objects.latest("pk")


def test_embed_renders_without_login_and_only_its_view(web, hub):
    hub_id, neighbours = hub
    token = _embed(web, hub).token
    anonymous = Client()
    page = anonymous.get(f"/embed/{token}/")
    assert page.status_code == 200
    assert "X-Frame-Options" not in page
    assert "frame-ancestors 'self'" in page["Content-Security-Policy"].split("; ")
    assert b"application/json+oembed" in page.content
    data = anonymous.get(f"/embed/{token}/?format=json&memory=other&depth=3").json()
    assert {n["id"] for n in data["nodes"]} == neighbours | {hub_id}
    assert b"/c/acme/memories/" not in page.content  # no links into the private site
    assert anonymous.get(f"/embed/{token}/image.svg")["Content-Type"] == "image/svg+xml"
    assert anonymous.get("/c/acme/memories/").status_code == 302


def test_embed_origins_setting(web, hub, settings):
    settings.KB_EMBED_ORIGINS = ["http://wiki.localhost:9000"]
    token = _embed(web, hub).token
    policy = Client().get(f"/embed/{token}/")["Content-Security-Policy"].split("; ")
    assert "frame-ancestors 'self' http://wiki.localhost:9000" in policy and "script-src 'self'" in policy


def test_revoked_expired_and_forged_tokens_get_403(web, hub):
    embed = _embed(web, hub)
    token = embed.token
    assert web.post(f"/c/acme/graph/embeds/{embed.pk}/revoke/").status_code == 302
    denied = Client().get(f"/embed/{token}/")
    assert denied.status_code == 403 and b"revoked" in denied.content
    expiring = _embed(web, hub, expires_days="1")
    EmbedToken.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = Client().get(f"/embed/{expiring.token}/")
    assert expired.status_code == 403 and b"expired" in expired.content
    assert Client().get(f"/embed/{token[:-2]}xx/").status_code == 403
    assert web.post("/c/acme/graph/embeds/", {"view": "depth=9"}).status_code == 400
    assert web.post("/c/acme/graph/embeds/", {"view": "", "expires_days": "-3"}).status_code == 400


def test_oembed(web, hub):
    token = _embed(web, hub).token
    url = f"http://testserver/embed/{token}/"
    data = Client().get("/oembed", {"url": url, "maxwidth": "640", "maxheight": "480"}).json()
    assert data["type"] == "rich" and data["version"] == "1.0"
    assert data["width"] == 640 and data["height"] == 480
    assert f'src="{url}"' in data["html"]
    assert Client().get("/oembed", {"url": "http://evil.example/embed/x/"}).status_code == 404
    assert Client().get("/oembed", {"url": url, "format": "xml"}).status_code == 501


def test_large_views_get_positions_from_networkx(web, hub, settings):
    hub_id, _ = hub
    settings.KB_GRAPH_PHYSICS_MAX = 5
    html = web.get(f"/c/acme/graph/?memory={hub_id}&depth=1").content.decode()
    payload = json.loads(
        re.search(r'<script id="graph-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    assert all("x" in n and "y" in n for n in payload["nodes"])
    assert payload["options"]["physics"] == {"enabled": False}


@pytest.mark.parametrize("days", ["²", "9" * 5000, "0", "3651", "1.5"])
def test_embed_expiry_that_is_not_a_small_number_gets_400(web, hub, days):
    # "²" passes str.isdigit() and int() refuses it; int() also refuses 4,301 digits.
    hub_id, _ = hub
    before = EmbedToken.objects.count()
    response = web.post("/c/acme/graph/embeds/", {"view": f"memory={hub_id}", "expires_days": days})
    assert response.status_code == 400 and b"between 1 and 3650" in response.content
    assert EmbedToken.objects.count() == before


@pytest.mark.parametrize("value", ["²", "9" * 5000, "99999999999999999999999", "-5", "0", "abc"])
def test_oembed_odd_dimensions_fall_back_to_the_default(web, hub, value):
    token = _embed(web, hub).token
    data = (
        Client()
        .get("/oembed", {"url": f"http://testserver/embed/{token}/", "maxwidth": value, "maxheight": value})
        .json()
    )
    assert data["width"] == 800 and data["height"] == 600


@pytest.mark.parametrize(
    "query",
    [
        "depth=" + "9" * 5000, "depth=99999999999999999999999", "depth=%C2%B2", "limit=" + "9" * 5000,
        "limit=-1", "limit=%C2%B2",
    ],
)
def test_graph_integers_out_of_range_get_400(web, hub, query):
    hub_id, _ = hub
    response = web.get(f"/c/acme/graph/?memory={hub_id}&{query}&format=json")
    assert response.status_code == 400 and response.json()["error"]


def test_add_relationship_picks_the_other_memory(web, handle):
    conn = handle.readmodel.conn
    (a,), (b, _title) = (
        conn.execute("SELECT id FROM memory LIMIT 1").fetchone(),
        conn.execute(
            "SELECT id, title FROM memory WHERE title LIKE '%Redis%' ORDER BY id LIMIT 1"
        ).fetchone(),
    )
    form = web.get(f"/c/acme/memories/{a}/relationships/new/").content.decode()
    assert 'id="pick-other"' in form and 'hx-get="/c/acme/pick/"' in form and "/static/kb/picker.js" in form
    # Without JavaScript the box sends words: the form comes back listing the memories they match.
    sent = {
        "rel_type": "RELATED_TO", "direction": "out", "strength": "0.5", "confidence": "0.8", "context": "",
    }
    words = web.post(f"/c/acme/memories/{a}/relationships/new/", {**sent, "other": "redis"})
    assert words.status_code == 400
    assert f'type="radio" name="other" value="{b}"' in words.content.decode()
    # The radio of a match comes after the box: the last value of "other" is the id picked.
    picked = web.post(f"/c/acme/memories/{a}/relationships/new/", {**sent, "other": ["redis", b]})
    assert picked.status_code == 302
    assert conn.execute("SELECT 1 FROM edge WHERE from_id = ? AND to_id = ?", (a, b)).fetchone()


def test_embed_links_page_height_option_and_revoke_confirmation(web, hub):
    embed = _embed(web, hub)
    page = web.get("/c/acme/graph/embeds/?height=420").content.decode()
    assert 'height="420" style="border:0"' in page
    assert f'data-copy="embed-{embed.pk}-link"' in page and "Copy image URL" in page
    assert '<details class="revoke-confirm"><summary>Revoke…</summary>' in page
    for odd in ("9" * 50, "-1", "abc", "10"):
        assert (
            'height="600" style="border:0"' in web.get(f"/c/acme/graph/embeds/?height={odd}").content.decode()
        )
