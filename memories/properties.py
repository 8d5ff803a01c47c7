"""The properties JSON of memorygraph's rows: built for a write, decoded for a read.

What ``nodes.properties`` and ``relationships.properties`` hold, in exactly the server's keys; the
rules a memory must pass before it is built (validate_memory, tag_errors) are the format's
(``memories/format.py``), beside the enums they name.
"""
import json
from datetime import UTC, datetime

from .format import CONTEXT_LIST_FIELDS, CONTEXT_TEXT_FIELDS, new_id, normalise_tags


def now_iso():
    return datetime.now(UTC).isoformat()


def decode_value(value):
    """Readers decode any string that starts with [ or { (the server stores [] and {} that way)."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
            return value
    return value


def memory_properties(fields, *, existing=None):
    """The ``nodes.properties`` dict for a memory, in exactly the server's key set.

    ``existing`` is the current properties dict when updating: keys we do not edit
    (usage_count, effectiveness, other context fields) are kept as they are.
    """
    props = dict(existing or {})
    stamp = now_iso()
    props.setdefault("id", fields.get("id") or new_id())
    props["type"] = fields["type"]
    props["title"] = fields["title"].strip()
    props["content"] = fields.get("content", props.get("content")) or ""
    props["tags"] = normalise_tags(fields.get("tags", props.get("tags", [])))
    props["importance"] = float(fields.get("importance", props.get("importance", 0.5)))
    props["confidence"] = float(fields.get("confidence", props.get("confidence", 0.8)))
    props.setdefault("usage_count", 0)
    props.setdefault("created_at", fields.get("created_at") or stamp)
    props["updated_at"] = stamp
    summary = (fields.get("summary", props.get("summary")) or "").strip()
    if summary:
        props["summary"] = summary
    else:
        props.pop("summary", None)
    for name in CONTEXT_TEXT_FIELDS:
        if name in fields:
            _set_context(props, name, (fields[name] or "").strip() or None)
    for name in CONTEXT_LIST_FIELDS:
        if name in fields:
            _set_context(props, name, [v for v in fields[name] if v])
    if "additional_metadata" in fields:
        # A dict is kept as JSON text, as memorygraph keeps it (its reader and ours decode it).
        meta = fields["additional_metadata"]
        _set_context(props, "additional_metadata", json.dumps(meta) if meta else None)
    return props


def _set_context(props, name, value):
    key = f"context_{name}"
    if value is None or value == []:
        # The server stores an empty list as the JSON string "[]"; a missing text is no key.
        if isinstance(value, list):
            props[key] = "[]"
        else:
            props.pop(key, None)
    else:
        props[key] = value


def relationship_properties(*, rel_id, strength, confidence, context, temporal):
    """The ``relationships.properties`` dict the server writes for a new edge."""
    stamp = now_iso()
    props = {
        "strength": float(strength),
        "confidence": float(confidence),
        "context": context or None,
        "evidence_count": 1,
        "success_rate": None,
        "created_at": stamp,
        "last_validated": stamp,
        "validation_count": 0,
        "counter_evidence_count": 0,
    }
    if temporal:
        props.update(valid_from=stamp, valid_until=None, recorded_at=stamp, invalidated_by=None)
    props["id"] = rel_id
    return props


def relationship_context_text(value):
    """Relationship context is free text or (0.7+) a JSON string with a `text` key."""
    decoded = decode_value(value)
    if isinstance(decoded, dict):
        return decoded.get("text") or ""
    return decoded if isinstance(decoded, str) else ""
