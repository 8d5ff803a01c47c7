"""claude-flow's `.swarm/memory.db` (`memory_entries`, v2 and v3).

Ids are uuid5s of (namespace, key); the namespace becomes a tag, the entry's type the closest
memorygraph type, and its metadata goes to `context_additional_metadata`.
"""
import json
from datetime import UTC, datetime

from ...format import MEMORY_TYPES
from .. import sql
from .checks import json_object, text_column, texts, times
from .incoming import Incoming, node_from_fields, stable_id
from .opening import columns
from .refusals import RowRefused, shown

CLAUDE_FLOW_TYPES = {"pattern": "code_pattern", "code": "code_pattern", "error": "error", "task": "task",
                     "workflow": "workflow", "command": "command", "solution": "solution", "fix": "fix",
                     "problem": "problem", "decision": "general", "knowledge": "general"}


def recognises(tables):
    return "memory_entries" in tables


def read(conn):
    v3 = "content" in columns(conn, "memory_entries")
    incoming = Incoming(f"claude-flow .swarm/memory.db ({'v3' if v3 else 'v2'})")
    now = datetime.now(UTC).timestamp()
    for row in conn.execute(sql.IMPORT_CLAUDE_FLOW):
        values = dict(row)
        key, namespace = str(values.get("key") or values.get("id")), str(values.get("namespace") or "default")
        ref = f"claude-flow entry {namespace}/{key}"
        try:
            expired, metadata = _expired(values.get("expires_at"), now), json_object(values.get("metadata"))
            created, updated = times(values)
            content = text_column(values, "content" if v3 else "value")
        except RowRefused as exc:
            incoming.invalid.append((ref, str(exc)))
            continue
        if expired:
            incoming.invalid.append((ref, "expired (its ttl has passed)"))
            continue
        if v3 and str(values.get("status") or "").lower() == "deleted":
            incoming.invalid.append((ref, "deleted in claude-flow"))
            continue
        kind = str(values.get("type") or "").lower()
        fields = {
            "id": stable_id("claude-flow", namespace, key),
            "type": kind if kind in MEMORY_TYPES else CLAUDE_FLOW_TYPES.get(kind, "general"),
            "title": key if len(key) <= 200 else key[:199] + "…",
            "content": content if isinstance(content, str) else json.dumps(content),
            "tags": ["claude-flow", namespace, *texts(metadata.get("tags"))],
        }
        extra = {"context_additional_metadata": json.dumps({"source": "claude-flow", "namespace": namespace,
                                                            **metadata})}
        node_from_fields(incoming, ref, fields, created=created, updated=updated, extra=extra)
    return incoming


def _expired(value, now):
    """Whether a claude-flow expires_at (epoch seconds or milliseconds) has passed."""
    if not value:
        return False
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise RowRefused(f"expires_at {shown(value)} is not a time") from None
    if number != number:  # NaN
        raise RowRefused("expires_at NaN is not a time")
    return number / (1000 if number > 1e11 else 1) < now
