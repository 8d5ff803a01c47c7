"""The memorygraph JSON 2.0 export, as memorygraph's own export_to_json writes it, streamed as text.

Rows come from the read model (reads.py) a chunk at a time, inside one snapshot.
"""
import json
from datetime import UTC, datetime

from ...format import VISIBILITIES
from ...properties import decode_value
from ...store.rows import parse_time
from . import reads as export_data


def _number(value, default):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _text(value):
    return value if isinstance(value, str) else None


def _texts(value):
    return [str(v) for v in value] if isinstance(value, list) else None


def _mapping(value):
    return value if isinstance(value, dict) else None


def _visibility(value):
    return value if value in VISIBILITIES else None


def _timestamp(value):
    return value if parse_time(value) is not None else None


# The fields of memorygraph 0.12.4's MemoryContext, each with what makes a value acceptable to
# it: its importer builds MemoryContext(**context) and skips the whole memory when that fails.
CONTEXT_FIELDS = {
    "project_path": _text, "files_involved": _texts, "languages": _texts, "frameworks": _texts,
    "technologies": _texts, "git_commit": _text, "git_branch": _text, "working_directory": _text,
    "timestamp": _timestamp, "session_id": _text, "user_id": _text, "additional_metadata": _mapping,
    "tenant_id": _text, "team_id": _text, "visibility": _visibility, "created_by": _text,
}


def json_context(props):
    """The memory's context from its flattened ``context_<field>`` keys (JSON strings decoded)."""
    context = {}
    for name, accept in CONTEXT_FIELDS.items():
        value = decode_value(props.get(f"context_{name}"))
        value = accept(value) if value is not None else None
        if value is not None:
            context[name] = value
    return context


def json_memory(row):
    """One entry of ``memories``, as memorygraph's export_to_json writes it."""
    props = export_data.row_props(row)
    memory = {
        "id": row["id"], "type": row["type"], "title": row["title"], "content": row["content"],
        "summary": row["summary"] or None, "tags": json.loads(row["tags"]),
        "importance": row["importance"], "confidence": row["confidence"],
        "created_at": _text(props.get("created_at")) or row["created_at"],
        "updated_at": _text(props.get("updated_at")) or row["updated_at"],
    }
    context = json_context(props)
    if context:
        memory["context"] = context
    return memory


def json_relationship(row):
    """One entry of ``relationships``; a structured context stays the JSON string it is stored as."""
    props = export_data.row_props(row)
    context = props.get("context")
    if context is not None and not isinstance(context, str):
        context = json.dumps(context)
    count = props.get("evidence_count")
    return {
        "from_memory_id": row["from_id"], "to_memory_id": row["to_id"], "type": row["rel_type"],
        "properties": {
            "strength": _number(props.get("strength"), 0.5),
            "confidence": _number(props.get("confidence"), 0.8),
            "context": context, "evidence_count": count if isinstance(count, int) and count >= 0 else 1,
        },
    }


def _json_edges(batch):
    """Current edges, one per (from, to, type), as memorygraph's own export keeps them: format
    2.0 has no validity fields, so an ended edge would come back as a current one."""
    kept = {}
    for row in batch:
        if row["current"]:
            kept.setdefault((row["from_id"], row["to_id"], row["rel_type"]), row)
    return list(kept.values())


def _json_array(batches):
    """The items of a JSON array, a batch per chunk of text, commas between all of them.
    ASCII only: memorygraph's importer opens the file in the locale's encoding."""
    first = True
    for batch in batches:
        if batch:
            text = ",\n".join(json.dumps(item) for item in batch)
            yield text if first else ",\n" + text
            first = False


def json_chunks(*, conn, ids, exported_at):
    """The export as text chunks; relationships are counted in a first pass so that the
    counts can come first, in the order memorygraph writes its keys."""
    ids = list(export_data.export_titles(conn=conn, ids=ids))
    edge_batches = export_data.export_edge_batches(conn=conn, ids=ids)
    relationship_count = sum(len(_json_edges(b)) for b in edge_batches)
    head = json.dumps({
        "format_version": "2.0", "export_version": "1.0", "export_date": exported_at,
        "backend_type": "kbsite",
        "memory_count": len(ids), "relationship_count": relationship_count,
    })
    yield head[:-1] + ',\n"memories": [\n'
    yield from _json_array([json_memory(r) for r in b]
                           for b in export_data.export_memory_batches(conn=conn, ids=ids))
    yield '\n],\n"relationships": [\n'
    yield from _json_array([json_relationship(r) for r in _json_edges(b)]
                           for b in export_data.export_edge_batches(conn=conn, ids=ids))
    yield "\n]}\n"


def json_stream(*, rm, ids):
    with export_data.snapshot(rm=rm) as conn:
        yield from json_chunks(conn=conn, ids=ids, exported_at=datetime.now(UTC).isoformat())
