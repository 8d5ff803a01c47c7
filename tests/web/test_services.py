"""Writes go to the canonical file in the server's key set, then to the read model at once."""
import json
import sqlite3

import pytest

from memories import selectors, services, tagging
from memories.format import FormatError
from memories.models import AuditEntry, TagBatch
from memories.search.engine import memory_search
from memories.selectors import Filters

pytestmark = pytest.mark.django_db

SERVER_KEYS = {"id", "type", "title", "content", "tags", "importance", "confidence", "usage_count",
               "created_at", "updated_at"}


def canonical(path, memory_id):
    conn = sqlite3.connect(path)
    row = conn.execute(
        "SELECT label, properties, created_at, updated_at FROM nodes WHERE id = ?", (memory_id,)
    ).fetchone()
    conn.close()
    return row


def create(handle, user, **fields):
    base = {
        "type": "problem", "title": "Celery worker leaks memory", "content": "RSS grows by **20 MB**/hour.",
        "summary": "", "tags": ["Celery", "performance"], "importance": 0.7, "confidence": 0.8,
    }
    return services.memory_create(handle=handle, actor=user, fields={**base, **fields})


def test_create_writes_server_keys_and_shows_at_once(handle, user):
    memory_id = create(handle, user, project_path="/srv/app", languages=["python"])
    label, properties, created_col, updated_col = canonical(handle.client.path, memory_id)
    props = json.loads(properties)
    assert label == "Memory"
    assert SERVER_KEYS <= props.keys()
    assert props["tags"] == ["celery", "performance"]
    assert props["context_project_path"] == "/srv/app" and props["context_languages"] == ["python"]
    assert props["created_at"].endswith("+00:00") and len(created_col) == 19
    # Read-your-writes: the read model reflects the new memory in the same request.
    found = memory_search(rm=handle.readmodel, text="celery leaks", filters=Filters())
    assert found["page_data"].items[0]["id"] == memory_id
    assert AuditEntry.objects.get(object_id=memory_id).action == "memory.create"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"title": "x" * 201}, "title"), ({"title": "   "}, "title"), ({"summary": "s" * 501}, "summary"),
        ({"content": "c" * 50_001}, "content"), ({"type": "bogus"}, "type"),
        ({"importance": 1.5}, "importance"), ({"tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({"tags": ["x" * 101]}, "tags"),
    ],
)
def test_invalid_memory_is_refused_and_nothing_written(handle, user, fields, field):
    before = selectors.graph_counts(rm=handle.readmodel)["memories"]
    with pytest.raises(FormatError) as info:
        create(handle, user, **fields)
    assert field in info.value.errors
    conn = sqlite3.connect(handle.client.path)
    assert conn.execute("SELECT count(*) FROM nodes").fetchone()[0] == before
    assert selectors.graph_counts(rm=handle.readmodel)["memories"] == before


def test_content_of_exactly_50000_characters_is_accepted(handle, user):
    memory_id = create(handle, user, content="a" * 50_000)
    assert len(json.loads(canonical(handle.client.path, memory_id)[1])["content"]) == 50_000


def test_update_keeps_keys_it_does_not_edit_and_detects_conflicts(handle, user):
    memory_id = create(handle, user)
    conn = sqlite3.connect(handle.client.path)
    props = json.loads(conn.execute("SELECT properties FROM nodes WHERE id = ?", (memory_id,)).fetchone()[0])
    props["usage_count"] = 7
    conn.execute("UPDATE nodes SET properties = ? WHERE id = ?", (json.dumps(props), memory_id))
    conn.commit()
    stale = props["updated_at"]
    after = services.memory_update(
        handle=handle, actor=user, memory_id=memory_id, fields={"title": "Renamed"}, expected_updated_at=stale
    )
    assert after["usage_count"] == 7 and after["title"] == "Renamed"
    with pytest.raises(services.Conflict):
        services.memory_update(
            handle=handle, actor=user, memory_id=memory_id, fields={"title": "Again"},
            expected_updated_at=stale,
        )
    assert json.loads(canonical(handle.client.path, memory_id)[1])["title"] == "Renamed"


def test_delete_removes_memory_and_its_edges(handle, user):
    a, b = create(handle, user), create(handle, user, type="solution", title="Set max-tasks-per-child")
    services.relationship_create(handle=handle, actor=user, from_id=b, to_id=a, rel_type="SOLVES")
    services.memory_delete(handle=handle, actor=user, memory_id=a)
    conn = sqlite3.connect(handle.client.path)
    assert (
        conn.execute("SELECT count(*) FROM relationships WHERE from_id = ? OR to_id = ?", (a, a)).fetchone()[
            0
        ]
        == 0
    )
    assert selectors.memory_detail(rm=handle.readmodel, memory_id=a) is None
    assert selectors.memory_detail(rm=handle.readmodel, memory_id=b)["outgoing"] == {}
    with pytest.raises(services.NotFound):
        services.memory_delete(handle=handle, actor=user, memory_id=a)


def test_relationship_rules(handle, user):
    a, b, c = (create(handle, user, title=t) for t in ("A", "B", "C"))
    rel_id = services.relationship_create(
        handle=handle, actor=user, from_id=a, to_id=b, rel_type="DEPENDS_ON", strength=0.9, context="needs it"
    )
    props = json.loads(
        sqlite3.connect(handle.client.path)
        .execute("SELECT properties FROM relationships WHERE id = ?", (rel_id,)) .fetchone()[0]
    )
    assert {
        "strength", "confidence", "context", "evidence_count", "created_at", "last_validated", "valid_from",
        "valid_until", "recorded_at", "invalidated_by", "id",
    } <= props.keys()
    services.relationship_create(handle=handle, actor=user, from_id=b, to_id=c, rel_type="DEPENDS_ON")
    for kwargs, field in (
        ({"from_id": a, "to_id": a, "rel_type": "SOLVES"}, "to_id"),
        ({"from_id": a, "to_id": b, "rel_type": "DEPENDS_ON"}, "rel_type"),  # duplicate
        ({"from_id": c, "to_id": a, "rel_type": "DEPENDS_ON"}, "rel_type"),  # closes a cycle
        ({"from_id": a, "to_id": b, "rel_type": "LIKES"}, "rel_type"),
        ({"from_id": a, "to_id": "missing", "rel_type": "SOLVES"}, "to_id"),
        ({"from_id": a, "to_id": b, "rel_type": "SOLVES", "strength": 2}, "strength"),
    ):
        with pytest.raises(FormatError) as info:
            services.relationship_create(handle=handle, actor=user, **kwargs)
        assert field in info.value.errors
    # A cycle of another type is fine.
    services.relationship_create(handle=handle, actor=user, from_id=c, to_id=a, rel_type="RELATED_TO")
    detail = selectors.memory_detail(rm=handle.readmodel, memory_id=a)
    assert [e["other_id"] for e in detail["outgoing"]["DEPENDS_ON"]] == [b]
    assert [e["other_id"] for e in detail["incoming"]["RELATED_TO"]] == [c]
    services.relationship_delete(handle=handle, actor=user, rel_id=rel_id)
    assert "DEPENDS_ON" not in selectors.memory_detail(rm=handle.readmodel, memory_id=a)["outgoing"]


def test_tags_add_remove_rename_merge_and_bulk_undo(handle, user):
    a = create(handle, user, tags=["alpha"])
    b = create(handle, user, tags=["alpha", "beta"])
    tagging.tag_add(handle=handle, actor=user, memory_id=a, tag="  New Tag ")
    assert selectors.memory_detail(rm=handle.readmodel, memory_id=a)["tags"] == ["alpha", "new tag"]
    tagging.tag_remove(handle=handle, actor=user, memory_id=a, tag="new tag")
    # Merge: renaming alpha to beta leaves b with one beta.
    ids = selectors.tag_memory_ids(rm=handle.readmodel, tag="alpha")
    changed = tagging.tag_rename(handle=handle, actor=user, old="alpha", new="beta", memory_ids=ids)
    assert sorted(changed) == sorted([a, b])
    assert selectors.memory_detail(rm=handle.readmodel, memory_id=b)["tags"] == ["beta"]
    assert "alpha" not in {t["tag"] for t in selectors.tag_index(rm=handle.readmodel)["tags"]}
    batch, _ = tagging.bulk_tag(
        handle=handle, actor=user, tag="Reviewed", memory_ids=[a, b], selection="tag=beta"
    )
    assert sorted(batch.memory_ids) == sorted([a, b])
    assert selectors.memory_detail(rm=handle.readmodel, memory_id=a)["tags"] == ["beta", "reviewed"]
    tagging.bulk_tag_undo(handle=handle, actor=user, batch=batch)
    assert selectors.memory_detail(rm=handle.readmodel, memory_id=a)["tags"] == ["beta"]
    with pytest.raises(services.Conflict):
        tagging.bulk_tag_undo(handle=handle, actor=user, batch=TagBatch.objects.get(pk=batch.pk))


def test_bulk_tag_undo_leaves_memories_that_already_had_the_tag(handle, user):
    a = create(handle, user, tags=["keep"])
    b = create(handle, user, tags=[])
    batch, _ = tagging.bulk_tag(handle=handle, actor=user, tag="keep", memory_ids=[a, b], selection="")
    assert batch.memory_ids == [b]
    tagging.bulk_tag_undo(handle=handle, actor=user, batch=batch)
    assert selectors.memory_detail(rm=handle.readmodel, memory_id=a)["tags"] == ["keep"]


def test_bulk_tag_over_the_limit_writes_nothing(handle, user, monkeypatch):
    monkeypatch.setattr(tagging, "CHUNK", 1)  # the good memory is written in a chunk of its own
    full = create(handle, user, tags=[f"t{i}" for i in range(50)])
    other = create(handle, user, tags=["x"])
    ids = [other, full]
    with pytest.raises(FormatError):
        tagging.bulk_tag(handle=handle, actor=user, tag="one-more", memory_ids=ids, selection="")
    assert "one-more" not in selectors.memory_detail(rm=handle.readmodel, memory_id=other)["tags"]
    assert not TagBatch.objects.exists()


@pytest.mark.parametrize("expected", ["", "garbage"])
def test_update_with_an_empty_or_wrong_version_is_a_conflict_not_an_unchecked_write(handle, user, expected):
    # Only None (a change computed from the row inside the transaction) skips the check.
    memory_id = create(handle, user)
    with pytest.raises(services.Conflict):
        services.memory_update(
            handle=handle, actor=user, memory_id=memory_id, fields={"title": "Blind"},
            expected_updated_at=expected,
        )
    assert json.loads(canonical(handle.client.path, memory_id)[1])["title"] == "Celery worker leaks memory"
    assert not AuditEntry.objects.filter(object_id=memory_id, action="memory.update").exists()
