"""An mcp-turso `knowledge_base` table.

Ids are uuid5s of the row's id; its category becomes a tag, its priority memorygraph's
importance, and its metadata and source go to `context_additional_metadata`.
"""
import json

from .. import sql
from .checks import json_object, text_column, texts, times
from .incoming import Incoming, node_from_fields, stable_id
from .opening import columns
from .refusals import ImportRefused, RowRefused


def recognises(tables):
    return "knowledge_base" in tables


def read(conn):
    missing = {"id", "topic", "content"} - columns(conn, "knowledge_base")
    if missing:
        raise ImportRefused(f"The `knowledge_base` table lacks {', '.join(sorted(missing))}.")
    incoming = Incoming("mcp-turso knowledge_base")
    for row in conn.execute(sql.IMPORT_MCP_TURSO):
        values = dict(row)
        ref = f"knowledge_base row {values['id']}"
        try:
            category, metadata = text_column(values, "category"), json_object(values.get("metadata"))
            created, updated = times(values)
            text_column(values, "source")
        except RowRefused as exc:
            incoming.invalid.append((ref, str(exc)))
            continue
        if values.get("source"):
            metadata["source"] = values["source"]
        fields = {
            "id": stable_id("mcp-turso", values["id"]),
            "type": "general",
            "title": str(values.get("topic") or "")[:200],
            "content": str(values.get("content") or ""),
            "tags": ["mcp-turso", *([category] if category else []), *_tag_list(values.get("tags"))],
            "importance": _priority(values.get("priority")),
        }
        extra = {"context_additional_metadata": json.dumps({"source_store": "mcp-turso", **metadata})}
        node_from_fields(incoming, ref, fields, created=created, updated=updated, extra=extra)
    return incoming


def _tag_list(value):
    """mcp-turso tags: a JSON list or comma-separated words."""
    if not value:
        return []
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            return texts(json.loads(value))
        except (ValueError, RecursionError):
            pass
    return [t.strip() for t in str(value).split(",") if t.strip()]


def _priority(value):
    """mcp-turso priorities (0..1, 1..5, 1..10, or words) as memorygraph importance."""
    words = {"critical": 0.9, "high": 0.8, "medium": 0.5, "normal": 0.5, "low": 0.3}
    if isinstance(value, str) and value.strip().lower() in words:
        return words[value.strip().lower()]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.5
    if 0 <= number <= 1:
        return number
    if number <= 5:
        return round((number - 1) / 4, 2)
    return round(min(number, 10) / 10, 2)
