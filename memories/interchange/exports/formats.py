"""Downloads of a selection of memories: memorygraph JSON 2.0, a memorygraph SQLite file,
CSV, and a zip of Markdown files.

Rows come from the read model (``export_data``), never from the canonical file, and are
handled a chunk at a time: JSON and CSV are streamed as text, the SQLite file and the zip
are written to temporary files that are already unlinked when they are handed back, so the
operating system frees them once the response has been sent.
"""
import csv
import io
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone

from . import reads as export_data
from ...store.canonical import CanonicalStore
from ...store.rows import column_time, parse_time
from .markdown_zip import write_markdown
from ...format import VISIBILITIES, decode_value

CSV_COLUMNS = ("id", "type", "title", "summary", "content", "tags", "importance", "confidence", "project",
               "created_at", "updated_at")
CSV_NUMBERS = ("importance", "confidence")
# Spreadsheets run a cell that starts with one of these as a formula (OWASP adds tab and CR).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _loads(text):
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _number(value, default):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else default


# memorygraph JSON 2.0 ---------------------------------------------------------------------

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
    props = _loads(row["props"])
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
    props = _loads(row["props"])
    context = props.get("context")
    if context is not None and not isinstance(context, str):
        context = json.dumps(context)
    count = props.get("evidence_count")
    return {
        "from_memory_id": row["from_id"], "to_memory_id": row["to_id"], "type": row["rel_type"],
        "properties": {
            "strength": _number(props.get("strength"), 0.5), "confidence": _number(props.get("confidence"), 0.8),
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
    relationship_count = sum(len(_json_edges(b)) for b in export_data.export_edge_batches(conn=conn, ids=ids))
    head = json.dumps({
        "format_version": "2.0", "export_version": "1.0", "export_date": exported_at, "backend_type": "kbsite",
        "memory_count": len(ids), "relationship_count": relationship_count,
    })
    yield head[:-1] + ',\n"memories": [\n'
    yield from _json_array([json_memory(r) for r in b] for b in export_data.export_memory_batches(conn=conn, ids=ids))
    yield '\n],\n"relationships": [\n'
    yield from _json_array([json_relationship(r) for r in _json_edges(b)]
                           for b in export_data.export_edge_batches(conn=conn, ids=ids))
    yield "\n]}\n"


def json_stream(*, rm, ids):
    with export_data.snapshot(rm=rm) as conn:
        yield from json_chunks(conn=conn, ids=ids, exported_at=datetime.now(timezone.utc).isoformat())


# CSV ------------------------------------------------------------------------------------

def csv_cell(value):
    """Text a spreadsheet shows as text: a leading quote stops it being run as a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_row(row):
    tags = ", ".join(json.loads(row["tags"]))
    return [row[c] if c in CSV_NUMBERS else csv_cell(tags if c == "tags" else row[c]) for c in CSV_COLUMNS]


def csv_stream(*, rm, ids):
    """UTF-8 CSV with a header row, a chunk of text per chunk of memories."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    with export_data.snapshot(rm=rm) as conn:
        for batch in export_data.export_memory_batches(conn=conn, ids=ids):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(csv_row(row) for row in batch)
            yield buffer.getvalue()


# memorygraph SQLite file ------------------------------------------------------------------

def node_row(row):
    return row["id"], row["props"], column_time(row["created_at"]), column_time(row["updated_at"])


def edge_row(row, now):
    """A relationships row: temporal columns from the keys the server duplicates into the
    properties, else from the creation time (an ended edge whose end is unknown ends there)."""
    props = _loads(row["props"])
    created = row["created_at"] or now
    ended = props.get("valid_until") or (None if row["current"] else created)
    return (row["id"], row["from_id"], row["to_id"], row["rel_type"], row["props"], column_time(created, now),
            props.get("valid_from") or created, ended, props.get("recorded_at") or created,
            props.get("invalidated_by"))


def write_sqlite(*, conn, ids, path):
    """A new memorygraph file at path holding ids and the edges between them, rows as stored."""
    now = datetime.now(timezone.utc).isoformat()
    ids = list(export_data.export_titles(conn=conn, ids=ids))
    store = CanonicalStore(path, create=True)
    try:
        with store.transaction():
            for batch in export_data.export_memory_batches(conn=conn, ids=ids):
                store.copy_nodes(node_row(r) for r in batch)
            for batch in export_data.export_edge_batches(conn=conn, ids=ids):
                store.copy_edges(edge_row(r, now) for r in batch)
            store.drop_dangling_invalidations()
    finally:
        store.close()


def sqlite_file(*, rm, ids):
    """The SQLite export as an open binary file that is already deleted from disk."""
    directory = tempfile.mkdtemp(prefix="kb-export-")
    try:
        path = os.path.join(directory, "memory.db")
        with export_data.snapshot(rm=rm) as conn:
            write_sqlite(conn=conn, ids=ids, path=path)
        return open(path, "rb")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# Markdown -------------------------------------------------------------------------------

def markdown_zip(*, rm, ids, folder):
    """The Markdown export as an open binary zip file that is already deleted from disk."""
    archive = tempfile.TemporaryFile(prefix="kb-export-")
    try:
        with export_data.snapshot(rm=rm) as conn:
            write_markdown(conn=conn, ids=ids, fileobj=archive, folder=folder)
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    return archive
