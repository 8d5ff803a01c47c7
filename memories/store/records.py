"""Canonical rows as read-model records: a memory's typed columns, an edge's category.

Used by every path that writes the read model: the full rebuild (store/rebuild.py), the
incremental upkeep (store/readmodel.py), the outbox's overlay and the bulk import's indexer.
"""
import json

from ..format import REL_CATEGORY, importance_band
from ..properties import decode_value, relationship_context_text
from .rows import utc_iso


def number(value, default):
    """value when it is an int or a float (not a bool), else default."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def memory_record(memory_id, props, version):
    """Flatten one canonical node into a read-model row."""
    tags = decode_value(props.get("tags"))
    tags = [str(t).lower() for t in tags if t] if isinstance(tags, list) else []
    created = utc_iso(props.get("created_at"), "1970-01-01T00:00:00+00:00")
    importance = number(props.get("importance"), 0.5)
    project = props.get("context_project_path")
    return {
        "rid": None,
        "id": memory_id,
        "type": str(props.get("type") or "general"),
        "title": str(props.get("title") or "(untitled)"),
        "summary": str(props.get("summary") or ""),
        "content": str(props.get("content") or ""),
        "tags": json.dumps(tags),
        # What FTS indexes besides the texts: the tags as words, not their JSON text.
        "keywords": " ".join(tags),
        "importance": importance,
        "band": importance_band(importance),
        "confidence": number(props.get("confidence"), 0.8),
        "project": project if isinstance(project, str) else "",
        "month": created[:7],
        "created_at": created,
        "updated_at": utc_iso(props.get("updated_at"), created),
        "props": json.dumps(props),
        "version": version,
    }


def edge_record(edge):
    """Flatten one canonical edge dict (CanonicalStore.iter_edges) into a read-model row."""
    props = edge["props"]
    return {
        "id": edge["id"],
        "from_id": edge["from_id"],
        "to_id": edge["to_id"],
        "rel_type": edge["rel_type"],
        "category": REL_CATEGORY.get(edge["rel_type"], "other"),
        "strength": number(props.get("strength"), None),
        "confidence": number(props.get("confidence"), None),
        "context": relationship_context_text(props.get("context")),
        "props": edge.get("raw") or json.dumps(props),
        "created_at": utc_iso(props.get("created_at"), edge.get("created_at") or ""),
        "current": 0 if (edge.get("valid_until") or props.get("valid_until")) else 1,
        "version": edge["version"],
    }
