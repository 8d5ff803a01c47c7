"""Fuzzing the search box and every form with Hypothesis: never a 500, and nothing stored
that breaks the memorygraph format's rules (what the memorygraph server would hide)."""
import json
import re
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from django.urls import resolve, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from memorygraph.models import Relationship, RelationshipProperties, RelationshipType
from memorygraph.utils.memory_parser import parse_memory_from_properties

from memories.format import (
    CONTEXT_RULES,
    MEMORY_TYPES,
    REL_TYPES,
    TAG_MAX,
    TAGS_MAX,
    memory_row_errors,
    relationship_row_errors,
    validate_memory,
)
from memories.models import ImportJob
from memories.store.copies import EdgeRow

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
nasty = st.one_of(
    text,
    st.sampled_from(
        [
            '"', "*", "NOT", "a OR", "(", ")", "-", '""', "NEAR(", "^", ":", "\x00", "title:x",
            "'; DROP TABLE memory; --", "a" * 5000, "🦀*", "AND AND",
        ]
    ),
)


def stored_memories_follow_the_rules(handle):
    for memory_id, props, _ in handle.store.iter_nodes():
        validate_memory(props)
        assert not memory_row_errors(memory_id, props), memory_row_errors(memory_id, props)
        assert props["tags"] == [t for t in props["tags"] if t == t.lower()]
        assert len(props["tags"]) <= TAGS_MAX and all(len(t) <= TAG_MAX for t in props["tags"])


@FUZZ
@given(
    q=nasty, sort=st.sampled_from(["", "newest", "oldest", "importance", "title", "x"]),
    page=st.one_of(st.integers(-5, 10**9).map(str), text),
)
def test_search_never_fails(web, client_db, q, sort, page):
    for url in ("/c/acme/search/", "/c/acme/memories/"):
        response = web.get(url, {"q": q, "sort": sort, "page": page})
        assert response.status_code in (200, 302, 400), (q, sort, page, response.status_code)
        json_response = web.get(url, {"q": q, "format": "json"})
        assert json_response.status_code in (200, 302, 400)


@FUZZ
@given(
    fields=st.fixed_dictionaries(
        {
            "type": st.one_of(st.sampled_from(MEMORY_TYPES), text), "title": text, "summary": text,
            "content": st.one_of(text, st.just("")), "tags": text,
            "importance": st.one_of(st.floats(allow_nan=True), text).map(str),
            "confidence": st.one_of(st.floats(-2, 2), text).map(str), "project_path": text, "languages": text,
        }
    )
)
def test_create_form_stores_only_valid_memories(web, handle, fields):
    response = web.post("/c/acme/memories/new/", fields)
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        memory_id = response["Location"].rstrip("/").split("/")[-1]
        validate_memory(handle.store.node(memory_id))


@FUZZ
@given(tag=text, action=st.sampled_from(["add", "remove", "x"]), new=text)
def test_tag_forms(web, handle, tag, action, new):
    memory_id = handle.readmodel.conn.execute("SELECT id FROM memory ORDER BY id LIMIT 1").fetchone()[0]
    assert web.post(f"/c/acme/memories/{memory_id}/tags/", {"tag": tag, "action": action}).status_code in (
        302, 400,
    )
    # Renaming a tag no memory has is a 404.
    assert web.post("/c/acme/tags/rename/", {"old": tag, "new": new}).status_code in (302, 400, 404)
    assert web.post("/c/acme/tags/bulk/?q=redis", {"tag": tag}).status_code in (302, 400)
    stored_memories_follow_the_rules(handle)


@FUZZ
@given(
    other=st.one_of(text, st.just("")), rel_type=st.one_of(st.sampled_from(REL_TYPES), text),
    direction=st.sampled_from(["out", "in", "sideways"]),
    strength=st.one_of(st.floats(allow_nan=True), text).map(str), context=text,
)
def test_relationship_form(web, handle, other, rel_type, direction, strength, context):
    ids = [r[0] for r in handle.readmodel.conn.execute("SELECT id FROM memory ORDER BY id LIMIT 2")]
    target = other if other else ids[1]
    response = web.post(
        f"/c/acme/memories/{ids[0]}/relationships/new/",
        {
            "other": target, "rel_type": rel_type, "direction": direction, "strength": strength,
            "confidence": "0.5", "context": context,
        },
    )
    assert response.status_code in (302, 400), response.status_code
    for edge in handle.store.iter_edges():
        assert edge["rel_type"] in REL_TYPES and edge["from_id"] != edge["to_id"]
        assert 0 <= edge["props"]["strength"] <= 1


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "view", "memory", "depth", "node_type", "category", "expand", "limit", "source", "target",
                "size", "format", "q", "t",
            ]
        ),
        st.one_of(text, st.integers(-10, 10**6).map(str)),
        max_size=6,
    )
)
def test_graph_parameters(web, client_db, params):
    response = web.get("/c/acme/graph/", params)
    assert response.status_code in (200, 202, 302, 400, 404), (params, response.status_code)


@FUZZ
@given(
    mode=st.sampled_from(["local", "synced"]),
    path=st.one_of(
        text,
        st.sampled_from(
            [
                "{tmp}/new.db", "{tmp}/memory.db", "{tmp}/memory.db-wal", "{tmp}", "{tmp}/../x.db",
                "{data}/kbsite.sqlite3", "{data}/index/acme.sqlite3", "/etc/passwd", "/dev/zero", "~/x.db",
                "./x.db", "",
            ]
        ),
    ),
    token_ref=st.one_of(
        text,
        st.builds(
            lambda kind, where: f"{kind}:{where}",
            st.sampled_from(["env", "file"]),
            st.one_of(
                text,
                st.sampled_from(["/etc/passwd", "/dev/zero", "HOME", "/proc/self/environ", "KB_X_TOKEN"]),
            ),
        ),
    ),
)
def test_client_database_form_never_fails_shows_files_or_shares_them(
    admin_client, client_db, tmp_path, settings, mode, path, token_ref
):
    """Issue 10, defects 2 and 9: any path and token reference in the admin is a form error or a
    database of its own; never a 500, never a file's content on the page."""
    from memories.models import ClientDatabase
    from tests.support.turso_server import free_port

    path = path.replace("{tmp}", str(tmp_path)).replace("{data}", str(settings.DATA_DIR))
    if (
        path.startswith("/") and not path.startswith(str(tmp_path))
        and path not in ("/etc/passwd", "/dev/zero")
    ):
        path = ""  # never create files around the machine
    response = admin_client.post(
        "/admin/memories/clientdatabase/add/",
        {
            "slug": "fuzz", "name": "Fuzz", "mode": mode, "source": "new", "path": path,
            "remote_url": f"http://127.0.0.1:{free_port()}", "token_ref": token_ref, "sync_interval": "1",
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code in (200, 302), response.status_code
    assert b"root:x:0:0" not in response.content
    created = ClientDatabase.objects.filter(slug="fuzz").first()
    if created is not None:
        assert created.path.startswith("/") and created.path != client_db.path
        created.delete()


@settings(
    max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payload=st.one_of(
        st.binary(max_size=2000),
        text.map(str.encode),
        st.builds(
            lambda m: json.dumps({"format_version": "2.0", "memories": m, "relationships": []}).encode(),
            st.lists(
                st.dictionaries(
                    st.sampled_from(["id", "type", "title", "content", "tags", "importance"]),
                    st.one_of(text, st.floats(), st.integers()), max_size=6,
                ),
                max_size=5,
            ),
        ),
    )
)
def test_import_uploads(web, handle, payload):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = web.post("/c/acme/import/", {"file": SimpleUploadedFile("fuzz.json", payload)})
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        job = web.get(response["Location"] + "?format=json").json()
        assert web.post(f"/c/acme/import/{job['id']}/run/").status_code == 302
    stored_memories_follow_the_rules(handle)


@FUZZ
@given(
    memory_id=st.one_of(
        st.text(max_size=300),
        st.from_regex(r"[A-Za-z0-9_-]{1,128}", fullmatch=True),
        st.sampled_from(["..", ".", "new", "~", "~abc", "a/b", "%2F", "a?b#c", "\ud800"]),
    )
)
def test_any_id_has_a_url_that_names_it(memory_id):
    """Whatever id another writer chose, its page has a URL, and that URL resolves to it."""
    for name in ("memory_detail", "memory_delete", "relationship_delete"):
        url = reverse(name, args=["acme", memory_id])
        match = resolve(unquote(url))  # what the server's WSGI layer hands Django
        assert match.url_name == name and memory_id in match.kwargs.values()
    if re.fullmatch(r"[A-Za-z0-9_-]+", memory_id) and memory_id != "new":
        assert (
            reverse("memory_detail", args=["acme", memory_id]) == f"/c/acme/memories/{memory_id}/"
        )  # stable


@FUZZ
@given(
    username=nasty, password=nasty, forwarded=st.one_of(nasty, st.ip_addresses().map(str)),
    url=st.sampled_from(["/accounts/login/", "/admin/login/"]),
)
def test_login_forms_never_fail_and_never_let_in(client, user, settings, username, password, forwarded, url):
    """Both login pages, any text, behind a trusted proxy sending any X-Forwarded-For (login throttle)."""
    import ipaddress

    settings.KB_TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.0/8")]
    response = client.post(url, {"username": username, "password": password}, HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code in (200, 429), (username, forwarded, response.status_code)
    assert "_auth_user_id" not in client.session


# Every code point, in front of a word too (the typo fallback scans the terms of its first
# letter), any page link, and edits naming any version: never a 500, nothing written unless
# the edit names the version it replaces.
EDGE_LETTERS = st.sampled_from(
    ["\U0010ffff", "\ud7ff", "\ue000", "\uffff", "\x00", "\x7f", "\u0085", "\U000f0000"]
)
every_code_point = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=60)
# The test client sends text as UTF-8, which cannot hold a lone surrogate.
sendable = st.text(alphabet=st.characters(max_codepoint=0x10FFFF, blacklist_categories=("Cs",)), max_size=60)


@FUZZ
@given(first=EDGE_LETTERS, rest=st.one_of(sendable, st.sampled_from(["zorbalx", "qwertyuiop", "ab"])))
def test_search_box_takes_any_code_point_in_front(web, client_db, first, rest):
    for fmt in ("html", "json"):
        response = web.get("/c/acme/search/", {"q": first + rest, "format": fmt})
        assert response.status_code in (200, 400), (first, rest, response.status_code)


@FUZZ
@given(first=EDGE_LETTERS, rest=every_code_point)
def test_search_takes_any_string_with_any_code_point(handle, first, rest):
    from memories.search.engine import memory_search
    from memories.selectors import Filters

    assert memory_search(rm=handle.readmodel, text=first + rest, filters=Filters())["page_data"].total >= 0


@FUZZ
@given(
    value=st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), every_code_point),
    memory_id=st.one_of(every_code_point, st.integers()),
    sort=st.sampled_from(["newest", "oldest", "updated", "importance", "title"]),
)
def test_any_page_link_is_a_page_or_a_400(web, client_db, value, memory_id, sort):
    import base64

    cursor = base64.urlsafe_b64encode(json.dumps([value, memory_id]).encode()).decode().rstrip("=")
    for url in ("/c/acme/memories/", "/c/acme/tags/bulk/"):
        response = web.get(url, {"after": cursor, "sort": sort, "type": "error"})
        assert response.status_code in (200, 400), (value, memory_id, response.status_code)


@FUZZ
@given(
    version=st.one_of(
        st.none(), sendable, st.just(""), st.datetimes().map(lambda d: d.isoformat()),
        st.from_regex(r"sha256:[0-9a-f]{64}", fullmatch=True),
    )
)
def test_an_edit_saves_only_on_the_version_it_names(web, handle, version):
    """version None: the one the edit page gives, which must save; any other must not."""
    memory_id = handle.readmodel.conn.execute("SELECT id FROM memory ORDER BY id LIMIT 1").fetchone()[0]
    initial = web.get(f"/c/acme/memories/{memory_id}/edit/").context["form"].initial
    form = {k: str(v) for k, v in initial.items() if v is not None}
    current = form["updated_at"]
    form["updated_at"] = current if version is None else version
    before = handle.store.node(memory_id)
    response = web.post(f"/c/acme/memories/{memory_id}/edit/", {**form, "summary": "Fuzzed edit"})
    if form["updated_at"] == current:
        assert response.status_code == 302
    else:
        assert response.status_code in (400, 409), (version, response.status_code)
        assert handle.store.node(memory_id) == before


def _zipped(data):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("memory.json", data)
    return buffer.getvalue()


def _claude_flow_file(values):
    """A claude-flow v2 store with whatever SQLite lets a column hold (blobs, huge numbers, text)."""
    import sqlite3
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "memory.db"
        conn = sqlite3.connect(path)
        conn.execute(
            "CREATE TABLE memory_entries (id INTEGER PRIMARY KEY, key, value, namespace, metadata, "
            "created_at, updated_at, expires_at)"
        )
        conn.executemany(
            "INSERT INTO memory_entries (key, value, namespace, metadata, created_at, updated_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)", values,
        )
        conn.commit()
        conn.close()
        return path.read_bytes()


column = st.one_of(
    st.none(), st.integers(-(2**63), 2**63 - 1), st.floats(), text, st.binary(max_size=20),
    st.integers(0, 2000).map(lambda n: "[" * n + "]" * n), st.sampled_from(["1e20", "-1", "nan"]),
)
hostile = st.one_of(
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.builds(
        lambda bom, body: bom + body,
        st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b""]),
        st.sampled_from(
            [
                b'{"format_version": "2.0", "format_version": "2.0"}', b"1" * 5000, b"null", b'"x"',
                b'{"memories": [], "relationships": [], "format_version": "2.0", "x": "\\ud800"}',
                b'{"format_version": "2.0", "memories": [{"created_at": 1e400}], "relationships": []}',
                b"\xff\xfe\xfd", b'{"a": "caf\xe9"}',
            ]
        ),
    ),
    st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),
    st.builds(
        lambda data, depth: (lambda z: [z := _zipped(z) for _ in range(depth)][-1])(data),
        st.sampled_from([b"[]", b'{"format_version": "2.0", "memories": [], "relationships": []}']),
        st.integers(1, 3),
    ),
    st.builds(
        lambda data, cut: _zipped(data)[:cut], st.just(b'{"format_version": "2.0"}' * 50),
        st.integers(10, 120),
    ),
    st.lists(st.tuples(text, column, column, column, column, column, column), min_size=1, max_size=3).map(
        _claude_flow_file
    ),
)


@settings(
    max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=hostile)
def test_hostile_uploads_get_a_4xx_or_a_preview_and_leave_nothing_behind(web, handle, settings, payload):
    """Issue 10, defect 7: deep nesting, odd encodings, duplicate keys, zips in zips, damaged zips
    and stores of any column type: a 400 or a preview, never a 500, no file left when refused."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = web.post("/c/acme/import/", {"file": SimpleUploadedFile("hostile.bin", payload)})
    assert response.status_code in (302, 400), response.status_code
    uploads = settings.DATA_DIR / "uploads"
    kept = [p for p in uploads.rglob("*") if p.is_file() and p.name != ".lock"] if uploads.exists() else []
    if response.status_code == 400:
        assert response.content and len(kept) == ImportJob.objects.filter(status__in=ImportJob.LIVE).count()
    else:
        job = web.get(response["Location"] + "?format=json").json()
        assert web.get(response["Location"]).status_code == 200
        assert web.post(f"/c/acme/import/{job['id']}/run/").status_code in (302, 409)
    stored_memories_follow_the_rules(handle)


# The row rules against memorygraph's own models: a valid row with a few fields changed to
# anything; whatever the rules accept, memorygraph 0.12.4 must parse.
DROP = object()
STAMP = "2026-11-22T15:51:34.238800+00:00"
times = st.one_of(
    st.datetimes(timezones=st.sampled_from([None, UTC])).map(datetime.isoformat),
    st.sampled_from(["garbage", "2026-13-01", "2026-11-22 15:51:34", "2026-11-22T15:51:34Z", ""]),
)
anything = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(), text, times, st.just(DROP),
    st.lists(text, max_size=3), st.lists(text, max_size=3).map(json.dumps),
    st.dictionaries(text, text, max_size=2), st.dictionaries(text, text, max_size=2).map(json.dumps),
    st.sampled_from(MEMORY_TYPES + REL_TYPES + ("private", "team", "m-1", "m-2", "a/b")),
)
GOOD_MEMORY = {
    "id": "m-1", "type": "fix", "title": "Title", "content": "Body", "tags": ["a"], "importance": 0.5,
    "confidence": 0.8, "usage_count": 0, "created_at": STAMP, "updated_at": STAMP,
}
MEMORY_KEYS = [
    *GOOD_MEMORY, "summary", "effectiveness", "last_accessed", *(f"context_{k}" for k in CONTEXT_RULES),
    "context_other",
]
GOOD_EDGE = {
    "id": "r-1", "strength": 0.5, "confidence": 0.8, "context": None, "evidence_count": 1,
    "success_rate": None, "created_at": STAMP, "last_validated": STAMP, "validation_count": 0,
    "counter_evidence_count": 0, "valid_from": STAMP, "valid_until": None, "recorded_at": STAMP,
    "invalidated_by": None,
}
GOOD_COLUMNS = {
    "id": "r-1", "from_id": "m-1", "to_id": "m-2", "rel_type": "SOLVES", "created_at": "2026-11-22 15:51:34",
    "valid_from": STAMP, "valid_until": None, "recorded_at": STAMP, "invalidated_by": None,
}


def _changed(base, changes):
    row = dict(base)
    for key, value in changes:
        row.pop(key, None) if value is DROP else row.__setitem__(key, value)
    return json.loads(json.dumps(row))  # as read back from the file (NaN and Infinity included)


@settings(max_examples=300, deadline=None)
@given(changes=st.lists(st.tuples(st.sampled_from(MEMORY_KEYS), anything), max_size=3))
def test_memory_rows_the_rules_accept_memorygraph_reads(changes):
    props = _changed(GOOD_MEMORY, changes)
    if not memory_row_errors("m-1", props):
        assert parse_memory_from_properties(props) is not None, props


@settings(max_examples=300, deadline=None)
@given(
    changes=st.lists(st.tuples(st.sampled_from(list(GOOD_EDGE)), anything), max_size=3),
    columns=st.lists(st.tuples(st.sampled_from(list(GOOD_COLUMNS)), anything), max_size=2),
)
def test_relationship_rows_the_rules_accept_memorygraph_reads(changes, columns):
    props = _changed(GOOD_EDGE, changes)
    row = EdgeRow(
        properties=json.dumps(props), **{**dict.fromkeys(GOOD_COLUMNS), **_changed(GOOD_COLUMNS, columns)}
    )
    if relationship_row_errors(row, props):
        return

    # As get_related_memories and get_relationship_history build them (a missing valid_from or
    # recorded_at column is written as created_at).
    def parse(value):
        return datetime.fromisoformat(value) if value else None

    for extra in (
        {},
        {
            "valid_from": parse(row.valid_from or row.created_at), "valid_until": parse(row.valid_until),
            "recorded_at": parse(row.recorded_at or row.created_at), "invalidated_by": row.invalidated_by,
        },
    ):
        Relationship(
            id=row.id,
            from_memory_id=row.from_id,
            to_memory_id=row.to_id,
            type=RelationshipType(row.rel_type),
            properties=RelationshipProperties(
                strength=props.get("strength", 0.5), confidence=props.get("confidence", 0.8),
                context=props.get("context"), evidence_count=props.get("evidence_count", 1), **extra,
            ),
        )
    RelationshipProperties(**{k: v for k, v in props.items() if k in RelationshipProperties.model_fields})
