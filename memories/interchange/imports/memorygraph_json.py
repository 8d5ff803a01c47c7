"""A memorygraph JSON export, format 1.0 or 2.0 (timestamps kept, unlike its own importer).

Relationship ids are uuid5s of (from, to, type): an export names none.
"""
import json

from ...properties import relationship_properties
from ...store.copies import EdgeRow
from ...store.rows import column_now, column_time
from .checks import times
from .incoming import Incoming, node_from_fields, stable_id
from .refusals import ImportRefused, RowRefused

JSON_CONTEXT = ("project_path", "files_involved", "languages", "frameworks", "technologies", "git_commit",
                "git_branch", "working_directory", "session_id", "user_id", "additional_metadata",
                "function_name", "class_name", "environment")


JSON_KINDS = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
              bool: "true or false", type(None): "null"}


def recognises(document):
    """Any JSON document: this, the last JSON reader, says why one is not an export."""
    return True


def read(document):
    if not isinstance(document, dict):
        raise ImportRefused(f"Not a memorygraph export: the JSON is {JSON_KINDS[type(document)]}, not an "
                            "object with `memories` and `relationships` lists.")
    missing = [k for k in ("memories", "relationships") if not isinstance(document.get(k), list)]
    if missing:
        raise ImportRefused(f"Not a memorygraph export: the JSON has no {' or '.join(missing)} list.")
    version = document.get("format_version") or document.get("export_version")
    if not version:
        raise ImportRefused("Not a memorygraph export: no format_version or export_version.")
    incoming = Incoming(f"memorygraph JSON export (format {version})")
    for index, memory in enumerate(document["memories"]):
        _read_memory(incoming, index, memory)
    for index, rel in enumerate(document["relationships"]):
        _read_relationship(incoming, index, rel)
    return incoming


def _read_memory(incoming, index, memory):
    if not isinstance(memory, dict):
        incoming.invalid.append((f"memories[{index}]", "not an object"))
        return
    ref = f"memories[{index}] {memory.get('id', '')}".strip()
    lacking = [k for k in ("id", "type", "title", "content") if not memory.get(k)]
    if lacking:
        incoming.invalid.append((ref, f"missing {', '.join(lacking)}"))
        return
    wrong = [k for k in ("type", "title", "content", "summary") if memory.get(k) is not None
             and not isinstance(memory[k], str)]
    tags = memory.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags or []):
        wrong.append("tags (a list of strings)")
    for key in ("importance", "confidence"):
        value = memory.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            wrong.append(f"{key} (a number)")
    if wrong:
        incoming.invalid.append((ref, f"wrong kind of value for {', '.join(wrong)}"))
        return
    fields = {k: memory.get(k) for k in ("id", "type", "title", "content", "summary", "tags")}
    for key in ("importance", "confidence"):
        if memory.get(key) is not None:
            fields[key] = memory[key]
    extra = {}
    if not isinstance(memory.get("context") or {}, dict):
        incoming.invalid.append((ref, "context must be an object"))
        return
    for key, value in (memory.get("context") or {}).items():
        if key in JSON_CONTEXT and value not in (None, "", []):
            extra[f"context_{key}"] = json.dumps(value) if isinstance(value, dict) else value
    try:
        created, updated = times(memory)
    except RowRefused as exc:
        incoming.invalid.append((ref, str(exc)))
        return
    node_from_fields(incoming, ref, {**fields, "id": str(fields["id"])}, created=created,
                     updated=updated, extra=extra)


def _read_relationship(incoming, index, rel):
    ref = f"relationships[{index}]"
    if not isinstance(rel, dict) or not all(rel.get(k) for k in ("from_memory_id", "to_memory_id", "type")):
        incoming.invalid.append((ref, "missing from_memory_id, to_memory_id or type"))
        return
    props_in = rel.get("properties") or {}
    if not isinstance(props_in, dict):
        incoming.invalid.append((ref, "properties must be an object"))
        return
    rel_id = stable_id("memorygraph-json", rel["from_memory_id"], rel["to_memory_id"], rel["type"])
    try:
        props = relationship_properties(rel_id=rel_id, strength=float(props_in.get("strength", 0.5)),
                                        confidence=float(props_in.get("confidence", 0.8)),
                                        context=props_in.get("context"), temporal=True)
    except (TypeError, ValueError, OverflowError):
        incoming.invalid.append((ref, "strength and confidence must be numbers"))
        return
    props["evidence_count"] = props_in.get("evidence_count", 1)
    created = column_time(props["created_at"]) or column_now()
    ends = str(rel["from_memory_id"]), str(rel["to_memory_id"])
    incoming.edges[rel_id] = EdgeRow(rel_id, *ends, str(rel["type"]), json.dumps(props),
                                     created, created, None, created, None)
