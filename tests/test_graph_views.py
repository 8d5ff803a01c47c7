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
    neighbours = {r[0] for r in conn.execute(
        "SELECT to_id FROM edge WHERE from_id = ? AND current = 1 UNION SELECT from_id FROM edge WHERE to_id = ? AND current = 1",
        (hub_id, hub_id)).fetchall()}
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
    payload = json.loads(re.search(r'<script id="graph-data" type="application/json">(.*?)</script>', html, re.S).group(1))
    # Nothing but memory text (hover titles, written by agents) may hold a URL: no scripts or images load.
    structure = json.dumps({**payload, "nodes": [{k: v for k, v in n.items() if k != "title"} for n in payload["nodes"]]})
    assert payload["nodes"] and "http://" not in structure and "https://" not in structure
    assert "/static/vendor/vis-network-9.1.2/vis-network.min.js" in html
    assert 'id="twin"' in html and "<table" in html
    assert page["X-Frame-Options"] == "DENY"


def test_bad_parameters_get_400_and_unknown_memory_404(web, client_db):
    assert web.get("/c/acme/graph/?depth=9&memory=x").status_code == 400
    assert web.get("/c/acme/graph/?view=bogus").status_code == 400
    assert web.get("/c/acme/graph/?view=neighbourhood").status_code == 400
    assert web.get("/c/acme/graph/?view=path&source=a").status_code == 400
    assert web.get("/c/acme/graph/?memory=nope&format=json").status_code == 404


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


@pytest.mark.parametrize("fmt, check", [
    ("graphml", lambda body: ElementTree.fromstring(body).tag.endswith("graphml")),
    ("gexf", lambda body: ElementTree.fromstring(body).tag.endswith("gexf")),
    ("svg", lambda body: ElementTree.fromstring(body).tag.endswith("svg")),
    ("nodelink", lambda body: "nodes" in json.loads(body)),
])
def test_exports(web, hub, fmt, check):
    hub_id, _ = hub
    response = web.get(f"/c/acme/graph/?memory={hub_id}&depth=2&format={fmt}")
    assert response.status_code == 200 and check(response.content)


def _embed(web, hub, **extra):
    hub_id, _ = hub
    response = web.post("/c/acme/graph/embeds/", {"view": f"memory={hub_id}&depth=1", "title": "Hub", **extra})
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
    assert b'application/json+oembed' in page.content
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
    payload = json.loads(re.search(r'<script id="graph-data" type="application/json">(.*?)</script>', html, re.S).group(1))
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
    data = Client().get("/oembed", {"url": f"http://testserver/embed/{token}/", "maxwidth": value,
                                    "maxheight": value}).json()
    assert data["width"] == 800 and data["height"] == 600


@pytest.mark.parametrize("query", ["depth=" + "9" * 5000, "depth=99999999999999999999999", "depth=%C2%B2",
                                   "limit=" + "9" * 5000, "limit=-1", "limit=%C2%B2"])
def test_graph_integers_out_of_range_get_400(web, hub, query):
    hub_id, _ = hub
    response = web.get(f"/c/acme/graph/?memory={hub_id}&{query}&format=json")
    assert response.status_code == 400 and response.json()["error"]
