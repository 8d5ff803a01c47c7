"""Views: full page, htmx fragment, boosted and history-restore requests, JSON twins, bad input."""
import json

import pytest

from memories import services
from memories.models import AuditEntry

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
BOOSTED = {"HTTP_HX_REQUEST": "true", "HTTP_HX_BOOSTED": "true"}
RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}


@pytest.fixture
def a_memory(handle):
    row = handle.readmodel.conn.execute(
        "SELECT id, title FROM memory WHERE type = 'problem' LIMIT 1"
    ).fetchone()
    return row["id"], row["title"]


def test_login_required_everywhere(client, client_db):
    for url in ("/", "/c/acme/memories/", "/c/acme/search/?q=x", "/c/acme/tags/", "/c/acme/memories/x/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    assert client.get("/accounts/login/").status_code == 200


def test_browse_full_page_fragment_boosted_and_restore(web, client_db):
    full = web.get("/c/acme/memories/")
    assert full.status_code == 200 and b"<html" in full.content and b'id="main"' in full.content
    fragment = web.get("/c/acme/memories/", **HX)
    assert b"<html" not in fragment.content and b'class="listing"' in fragment.content
    assert b"<html" in web.get("/c/acme/memories/", **BOOSTED).content
    assert b"<html" in web.get("/c/acme/memories/", **RESTORE).content
    assert "HX-Request" in full["Vary"]


def test_browse_json_twin_and_facets(web, client_db):
    data = web.get("/c/acme/memories/?format=json").json()
    assert data["total"] > 200 and len(data["items"]) == 25 and data["next"]
    some_type = next(iter(data["facets"]["type"]))
    filtered = web.get(f"/c/acme/memories/?format=json&type={some_type}").json()
    assert filtered["total"] == data["facets"]["type"][some_type]
    assert all(i["type"] == some_type for i in filtered["items"])
    page2 = web.get(f"/c/acme/memories/?format=json&after={data['next']}").json()
    assert not {i["id"] for i in page2["items"]} & {i["id"] for i in data["items"]}
    tag = next(iter(data["facets"]["tag"]))
    tagged = web.get(f"/c/acme/memories/?format=json&tag={tag}&sort=importance").json()
    assert all(tag in i["tags"] for i in tagged["items"])
    importances = [i["importance"] for i in tagged["items"]]
    assert importances == sorted(importances, reverse=True)


@pytest.mark.parametrize(
    "query", ["type=bogus", "band=huge", "month=2024-1", "after=garbage", "sort=random", "page=0"]
)
def test_bad_filters_get_400_with_message(web, client_db, query):
    response = web.get(f"/c/acme/memories/?{query}")
    assert response.status_code == 400
    assert b"not valid" in response.content or b"Select a valid" in response.content
    assert web.get(f"/c/acme/search/?q=x&{query}&format=json").status_code == 400


def test_search_page_fragment_and_json(web, client_db, a_memory):
    memory_id, title = a_memory
    word = max(title.split(), key=len)
    page = web.get(f"/c/acme/search/?q={word}")
    assert page.status_code == 200 and b"<mark>" in page.content
    fragment = web.get(f"/c/acme/search/?q={word}", **HX)
    assert b"<html" not in fragment.content and b"result" in fragment.content
    data = web.get(f"/c/acme/search/?q={word}&format=json").json()
    assert data["total"] >= 1 and data["query"] == word
    assert web.get('/c/acme/search/?q="""((*&format=json').status_code == 200


def test_browse_with_q_redirects_to_search(web, client_db):
    response = web.get("/c/acme/memories/?q=redis")
    assert response.status_code == 302 and response["Location"].startswith("/c/acme/search/?q=redis")


def test_memory_page_and_json(web, client_db, a_memory):
    memory_id, title = a_memory
    page = web.get(f"/c/acme/memories/{memory_id}/")
    assert page.status_code == 200 and title.encode() in page.content.replace(b"&#x27;", b"'")
    data = web.get(f"/c/acme/memories/{memory_id}/?format=json").json()
    assert data["memory"]["id"] == memory_id and "outgoing" in data["memory"]
    assert web.get("/c/acme/memories/nope/").status_code == 404
    assert web.get("/c/nobody/memories/").status_code == 404


def test_markdown_is_sanitised(web, handle, user):
    memory_id = services.memory_create(
        handle=handle,
        actor=user,
        fields={
            "type": "general", "title": "<img src=x onerror=alert(1)>", "tags": [],
            "content": "<script>alert(1)</script>\n\n[x](javascript:alert(1)) **bold**",
        },
    )
    body = web.get(f"/c/acme/memories/{memory_id}/").content.decode()
    assert "<script>alert" not in body and 'href="javascript:' not in body and "<img src=x" not in body
    assert "<strong>bold</strong>" in body


def test_create_edit_and_validation_messages(web, client_db):
    form = {
        "type": "fix", "title": "Pin urllib3 below 2", "content": "x", "tags": "Deps, python",
        "importance": "0.6", "confidence": "0.9",
    }
    response = web.post("/c/acme/memories/new/", form)
    assert response.status_code == 302
    memory_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    data = web.get(f"/c/acme/memories/{memory_id}/?format=json").json()["memory"]
    assert data["tags"] == ["deps", "python"]
    bad = web.post("/c/acme/memories/new/", {**form, "title": "x" * 201, "type": "nonsense"})
    assert bad.status_code == 400
    assert b"at most 200 characters" in bad.content and b"Select a valid choice" in bad.content
    edit = web.get(f"/c/acme/memories/{memory_id}/edit/")
    assert b"Pin urllib3 below 2" in edit.content
    stamp = edit.context["form"].initial["updated_at"]
    assert (
        web.post(
            f"/c/acme/memories/{memory_id}/edit/", {**form, "title": "Pinned", "updated_at": stamp}
        ).status_code
        == 302
    )
    stale = web.post(f"/c/acme/memories/{memory_id}/edit/", {**form, "title": "Lost?", "updated_at": stamp})
    assert stale.status_code == 409 and b"changed by someone else" in stale.content


def test_tagging_inline_fragment(web, client_db, a_memory):
    memory_id, _ = a_memory
    url = f"/c/acme/memories/{memory_id}/tags/"
    fragment = web.post(url, {"tag": "Triage", "action": "add"}, **HX)
    assert (
        fragment.status_code == 200 and b'id="tags"' in fragment.content and b"<html" not in fragment.content
    )
    assert b"#triage" in fragment.content
    assert web.post(url, {"tag": "triage", "action": "remove"}).status_code == 302
    assert web.post(url, {"tag": "x" * 101, "action": "add"}, **HX).status_code == 400
    facets = web.get("/c/acme/memories/?format=json").json()["facets"]["tag"]
    assert "triage" not in facets


def test_relationship_form(web, client_db, a_memory, handle):
    memory_id, _ = a_memory
    other = handle.readmodel.conn.execute("SELECT id FROM memory WHERE type = 'general' LIMIT 1").fetchone()[
        0
    ]
    url = f"/c/acme/memories/{memory_id}/relationships/new/"
    assert web.get(url).status_code == 200
    ok = web.post(
        url,
        {
            "direction": "in", "rel_type": "RELATED_TO", "other": f"/c/acme/memories/{other}/",
            "strength": "0.5", "confidence": "0.8",
        },
    )
    assert ok.status_code == 302
    incoming = web.get(f"/c/acme/memories/{memory_id}/?format=json").json()["memory"]["incoming"]
    assert other in [e["other_id"] for e in incoming["RELATED_TO"]]
    self_loop = web.post(
        url,
        {
            "direction": "out", "rel_type": "SOLVES", "other": memory_id, "strength": "0.5",
            "confidence": "0.8",
        },
    )
    assert self_loop.status_code == 400 and b"cannot be related to itself" in self_loop.content


def test_tag_index_rename_and_bulk_with_undo(web, client_db):
    tags = web.get("/c/acme/tags/?format=json").json()["tags"]
    first = tags[0]
    assert web.get("/c/acme/tags/").status_code == 200
    assert web.post("/c/acme/tags/rename/", {"old": first["tag"], "new": "renamed-tag"}).status_code == 302
    renamed = {t["tag"]: t["count"] for t in web.get("/c/acme/tags/?format=json").json()["tags"]}
    assert renamed["renamed-tag"] >= first["count"] and first["tag"] not in renamed
    assert web.post("/c/acme/tags/rename/", {"old": "no-such-tag", "new": "x"}).status_code == 404

    preview = web.get("/c/acme/tags/bulk/?type=error&format=json").json()
    assert preview["count"] > 0
    assert web.get("/c/acme/tags/bulk/").status_code == 400  # refuses to tag everything
    applied = web.post("/c/acme/tags/bulk/?type=error&format=json", {"tag": "Needs-Review"}).json()
    assert applied["changed"] == preview["count"]
    assert web.get("/c/acme/memories/?tag=needs-review&format=json").json()["total"] == preview["count"]
    assert web.post(f"/c/acme/tags/bulk/{applied['batch']}/undo/").status_code == 302
    assert web.get("/c/acme/memories/?tag=needs-review&format=json").json()["total"] == 0
    assert web.post(f"/c/acme/tags/bulk/{applied['batch']}/undo/").status_code == 409


def test_unresolved_is_one_click_away(web, client_db):
    page = web.get("/c/acme/memories/")
    assert b'href="/c/acme/unresolved/"' in page.content
    data = web.get("/c/acme/memories/?unresolved=1&format=json").json()
    assert data["total"] > 0 and set(data["facets"]["type"]) <= {"problem", "error"}


def test_writes_need_csrf(client, user, client_db, a_memory):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    memory_id, _ = a_memory
    assert (
        strict.post(f"/c/acme/memories/{memory_id}/tags/", {"tag": "x", "action": "add"}).status_code == 403
    )


def test_json_is_valid_json_everywhere(web, client_db, a_memory):
    memory_id, _ = a_memory
    for url in (
        "/c/acme/memories/", "/c/acme/search/?q=error", "/c/acme/tags/", f"/c/acme/memories/{memory_id}/",
    ):
        response = web.get(url + ("&" if "?" in url else "?") + "format=json")
        assert response["Content-Type"] == "application/json"
        json.loads(response.content)


# Untrusted parameters: a 4xx with a message, or a normal answer, never a 500 -------------------------


def _cursor(raw):
    import base64

    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw, sort",
    [
        ('[18446744073709551616,"x"]', "newest"), ('[18446744073709551616,"x"]', "importance"),
        ('[-9223372036854775809,"x"]', "importance"), ('[1,"x"]', "title"), ('[1e999,"x"]', "importance"),
        ('[NaN,"x"]', "importance"), ('["\\ud800","x"]', "newest"), ('["a","\\udfff"]', "title"),
        ('[true,"x"]', "importance"), ("[1,2]", "newest"), ('{"a":1}', "newest"),
    ],
)
def test_a_page_link_that_is_not_ours_gets_400(web, client_db, raw, sort):
    # The cursor is base64 JSON, so anyone can write a number past 64 bits or a lone surrogate
    # into it; SQLite takes neither as a parameter.
    for url in ("/c/acme/memories/", "/c/acme/search/?q=error&"):
        response = web.get(f"{url}{'&' if '?' in url else '?'}sort={sort}&after={_cursor(raw)}")
        if raw == '[1,"x"]':
            assert response.status_code == 200  # a number where a title is expected is still ours
            continue
        assert response.status_code == 400, (raw, response.status_code)
        assert b"page link is not valid" in response.content
        assert "page link is not valid" in str(
            web.get(f"{url}{'&' if '?' in url else '?'}format=json&after={_cursor(raw)}").json()["errors"]
        )


@pytest.mark.parametrize(
    "encoded",
    [
        "%F4%8F%BF%BF", "%ED%9F%BF", "%EE%80%80", "%EF%BF%BF", "%ED%A0%80", "%FF%FE", "%00", "%01%1F%7F",
        "%C0%80",
    ],
)
def test_search_box_with_any_code_point_in_front(web, client_db, encoded):
    # Percent-encoded UTF-8 of U+10FFFF, U+D7FF, U+E000, U+FFFF, then a lone surrogate,
    # bytes that are not UTF-8, NUL and other controls, each before a misspelt word.
    for suffix in ("zorbalx", "qwertyuiop", ""):
        for fmt in ("", "&format=json"):
            response = web.get(f"/c/acme/search/?q={encoded}{suffix}{fmt}")
            if encoded == "%00":  # Django's own form fields refuse NUL, with a message
                assert response.status_code == 400 and b"Null characters are not allowed" in response.content
                continue
            assert response.status_code == 200, (encoded, suffix, response.status_code)
    assert web.get(f"/c/acme/graph/?view=results&q={encoded}qwerty&format=json").status_code in (200, 400)
    assert web.get(f"/c/acme/tags/bulk/?q={encoded}qwerty&format=json").status_code in (200, 400)


@pytest.mark.parametrize(
    "query", ["page=" + "9" * 5000, "page=99999999999999999999999", "page=%C2%B2", "page=-1", "page=1e3"]
)
def test_search_page_numbers_out_of_range_get_400(web, client_db, query):
    response = web.get(f"/c/acme/search/?q=error&{query}")
    assert response.status_code == 400


def _an_edge(handle):
    return handle.readmodel.conn.execute("SELECT id, from_id FROM edge WHERE current = 1 LIMIT 1").fetchone()


@pytest.mark.parametrize("back", ["a/b", "/", "//evil.example/x", "https://evil.example/", "x" * 1001])
def test_relationship_delete_refuses_a_return_page_that_is_not_one_of_its_ends_before_deleting(
    web, handle, back
):
    edge_id, _ = _an_edge(handle)
    response = web.post(f"/c/acme/relationships/{edge_id}/delete/", {"memory": back})
    assert response.status_code == 400 and b"one end of this relationship" in response.content
    assert any(edge_id == e["id"] for e in handle.store.iter_edges([edge_id]))
    assert handle.readmodel.conn.execute("SELECT 1 FROM edge WHERE id = ?", (edge_id,)).fetchone()


def test_relationship_delete_returns_to_the_memory_page_on_this_site(web, handle):
    edge_id, from_id = _an_edge(handle)
    response = web.post(f"/c/acme/relationships/{edge_id}/delete/?memory=a/b", {"memory": from_id})
    assert response.status_code == 302 and response["Location"] == f"/c/acme/memories/{from_id}/"
    assert not list(handle.store.iter_edges([edge_id]))
    other, _ = _an_edge(handle)
    assert web.post(f"/c/acme/relationships/{other}/delete/?memory=a/b")["Location"] == "/c/acme/memories/"


# Edits carry the version they were made on ---------------------------------------------------------


def _edit_form(web, memory_id):
    initial = web.get(f"/c/acme/memories/{memory_id}/edit/").context["form"].initial
    form = {k: v for k, v in initial.items() if v is not None}
    form.update(importance=str(initial["importance"]), confidence=str(initial["confidence"]))
    return form


def _stored(handle, memory_id):
    return handle.store.node(memory_id)


@pytest.mark.parametrize(
    "version",
    [None, "", "   ", "garbage", "2026-13-45T99:00:00+00:00", "x" * 5000, "\U0010ffff", "sha256:nothex"],
)
def test_an_edit_without_a_valid_version_is_a_400_and_writes_nothing(web, handle, a_memory, version):
    memory_id, _ = a_memory
    form = _edit_form(web, memory_id)
    form.pop("updated_at")
    if version is not None:
        form["updated_at"] = version
    before = _stored(handle, memory_id)
    audits = AuditEntry.objects.count()
    page = web.post(f"/c/acme/memories/{memory_id}/edit/", {**form, "title": "Overwritten?"})
    assert page.status_code == 400 and b"nothing was saved" in page.content and b"Reload" in page.content
    answer = web.post(
        f"/c/acme/memories/{memory_id}/edit/", {**form, "title": "Overwritten?"},
        HTTP_ACCEPT="application/json",
    )
    assert answer.status_code == 400 and "nothing was saved" in str(answer.json()["errors"]["updated_at"])
    assert _stored(handle, memory_id) == before and AuditEntry.objects.count() == audits


def test_the_edit_page_and_the_json_twin_carry_the_version(web, handle, a_memory):
    memory_id, _ = a_memory
    page = web.get(f"/c/acme/memories/{memory_id}/edit/")
    version = page.context["form"].initial["updated_at"]
    assert version == _stored(handle, memory_id)["updated_at"]
    assert f'name="updated_at" value="{version}"'.encode() in page.content
    assert web.get(f"/c/acme/memories/{memory_id}/?format=json").json()["memory"]["edit_version"] == version
    saved = web.post(
        f"/c/acme/memories/{memory_id}/edit/", {**_edit_form(web, memory_id), "title": "Renamed here"}
    )
    assert saved.status_code == 302 and _stored(handle, memory_id)["title"] == "Renamed here"


def test_a_memory_written_without_updated_at_can_still_be_edited_safely(web, handle, a_memory):
    # Another writer's row with no (or an odd) updated_at: the version is a digest of its properties.
    import sqlite3

    memory_id, _ = a_memory
    props = _stored(handle, memory_id)
    props.pop("updated_at")
    conn = sqlite3.connect(handle.client.path)
    conn.execute("UPDATE nodes SET properties = ? WHERE id = ?", (json.dumps(props), memory_id))
    conn.commit()
    form = _edit_form(web, memory_id)
    assert form["updated_at"].startswith("sha256:")
    props["usage_count"] = 99  # someone else changes it meanwhile
    conn.execute("UPDATE nodes SET properties = ? WHERE id = ?", (json.dumps(props), memory_id))
    conn.commit()
    conn.close()
    stale = web.post(f"/c/acme/memories/{memory_id}/edit/", {**form, "title": "Lost?"})
    assert stale.status_code == 409 and _stored(handle, memory_id)["title"] != "Lost?"
    fresh = web.post(f"/c/acme/memories/{memory_id}/edit/", {**_edit_form(web, memory_id), "title": "Kept"})
    assert fresh.status_code == 302 and _stored(handle, memory_id)["title"] == "Kept"
    assert _stored(handle, memory_id)["usage_count"] == 99


def _text(response):
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.parametrize(
    "question, title",
    [
        ("how to fix CORS", "Configure django-cors-headers with an explicit origin allowlist"),
        ("why is billing slow", "N+1 queries on /api/v1/invoices/"),
        ("safari logout", "Safari users are logged out every 5 minutes"),
    ],
)
def test_plain_questions_find_memories_and_say_how(web, client_db, question, title):
    page = web.get("/c/acme/search/", {"q": question})
    text = _text(page)
    assert page.status_code == 200
    assert "No memory has all the words; best matches for any of them" in text
    assert 'href="?q=' in page.content.decode() and "exact=1" in page.content.decode()
    data = web.get("/c/acme/search/", {"q": question, "format": "json"}).json()
    assert data["total"] == 0 and data["partial"] and any(title in i["title"] for i in data["items"][:5])
    exact = web.get("/c/acme/search/", {"q": question, "exact": "1", "format": "json"}).json()
    assert exact["items"] == [] and exact["partial"] is None


def test_snippets_on_the_page_are_never_the_tags_json(web, client_db):
    for q in ("kubernetes", "kuberntes", "celery"):
        data = web.get("/c/acme/search/", {"q": q, "format": "json"}).json()
        assert data["items"] and all(not i["snippet_html"].startswith("[&quot;") for i in data["items"])


def test_typo_banner_shows_the_corrected_query_once(web, client_db):
    text = _text(web.get("/c/acme/search/", {"q": "kuberntes"}))
    assert "Showing results for kubernetes ." in text
    assert text.count("kubernetes kubernetes") == 0


def test_a_page_with_no_results_offers_suggestions_not_actions(web, client_db):
    page = web.get("/c/acme/search/", {"q": "zzqqxx wwqqyy", "type": "problem"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Tag all" not in html and "Graph these results" not in html and "Export:" not in html
    assert "/tags/bulk/" not in html and "view=results" not in html
    text = _text(page)
    assert "Search all memories for “zzqqxx wwqqyy”" in text and "popular tag" in text
    assert 'href="?q=zzqqxx+wwqqyy"' in html  # the search without its filters


def test_first_search_defers_facets_to_a_second_request(web, client_db):
    page = web.get("/c/acme/search/", {"q": "redis", "type": "problem"})
    html = page.content.decode()
    assert 'class="facet-sections"' not in html and 'hx-trigger="load"' in html
    assert "part=facets" in html
    facets = web.get("/c/acme/search/", {"q": "redis", "type": "problem", "part": "facets"}, **HX)
    fragment = facets.content.decode()
    assert 'class="facet-sections"' in fragment and "<html" not in fragment
    assert 'id="search-total" hx-swap-oob="true"' in fragment
    # OR within the type facet: the other types stay offered, choosing one widens the search.
    assert "type=problem&amp;type=error" in fragment
    data = web.get("/c/acme/search/", {"q": "redis", "format": "json"}).json()
    assert data["facets"] is None and data["facets_url"]
    full = web.get(data["facets_url"]).json()
    assert full["facets"]["type"] and full["total"] == data["total"]


def test_facet_or_within_type_and_importance_labels_match_the_rows(web, client_db):
    one = web.get("/c/acme/search/?q=redis&type=problem&format=json").json()["total"]
    two = web.get("/c/acme/search/?q=redis&type=problem&type=error&format=json").json()["total"]
    assert two > one > 0
    page = web.get("/c/acme/search/?q=redis&facets=1").content.decode()
    assert "★ 70–100%" in page and "· high" in page
