"""store/audit.py: a group commit's audit entries in one INSERT, the rows bulk_create wrote."""
import pytest
from django.db import connection

from memories.agents import keys
from memories.models import AuditEntry
from memories.store.audit import MAX_ROWS, audit_record

pytestmark = pytest.mark.django_db


def _entries(client, user, key):
    odd = {"title": "Ünïcode \u2028 \"quoted\" \\", "tags": ["a", "b"], "nested": {"n": [1, 2.5, None, True]}}
    return [
        AuditEntry(client=client, actor=user, action="memory.create", object_id="m-1", after=odd),
        AuditEntry(client=client, actor=None, action="memory.delete", object_id="m-2", before={"x": 1}),
        AuditEntry(client=client, actor=user, api_key=key, via_key="agent", action="memory.update",
                   object_id="m-3", before=[], after={"empty": ""}),
    ]


def _rows():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_id, actor_id, api_key_id, via_key, action, object_id, before, after, at "
            "FROM memories_auditentry ORDER BY id"
        )
        return cursor.fetchall()


def test_rows_are_those_bulk_create_writes(client_db, user):
    key, _ = keys.api_key_create(client=client_db, actor=user, name="agent", role="write")
    AuditEntry.objects.all().delete()
    AuditEntry.objects.bulk_create(_entries(client_db, user, key))
    expected = _rows()
    AuditEntry.objects.all().delete()
    audit_record(_entries(client_db, user, key))
    got = _rows()
    assert [row[:-1] for row in got] == [row[:-1] for row in expected]
    assert all(row[-1] for row in got)  # `at` set by the field, as bulk_create sets it
    entries = list(AuditEntry.objects.order_by("id"))
    assert entries[0].after["nested"] == {"n": [1, 2.5, None, True]} and entries[1].after is None
    assert entries[0].at.tzinfo is not None


def test_more_entries_than_one_statement_takes(client_db):
    audit_record(
        [AuditEntry(client=client_db, action="tag.bulk", object_id=f"m-{i}") for i in range(MAX_ROWS + 3)]
    )
    assert AuditEntry.objects.filter(action="tag.bulk").count() == MAX_ROWS + 3
    audit_record([])
    assert AuditEntry.objects.count() == MAX_ROWS + 3
