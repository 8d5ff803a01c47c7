"""The SQLite export: a new memorygraph file holding the selection's memories and the edges between
them, rows as stored, written to a temporary file that is already unlinked when it is handed back
(the operating system frees it once the response has been sent)."""
import os
import shutil
import tempfile
from datetime import UTC, datetime

from ...store.canonical import CanonicalStore
from ...store.rows import column_time
from . import reads as export_data


def node_row(row):
    return row["id"], row["props"], column_time(row["created_at"]), column_time(row["updated_at"])


def edge_row(row, now):
    """A relationships row: temporal columns from the keys the server duplicates into the
    properties, else from the creation time (an ended edge whose end is unknown ends there)."""
    props = export_data.row_props(row)
    created = row["created_at"] or now
    ended = props.get("valid_until") or (None if row["current"] else created)
    return (row["id"], row["from_id"], row["to_id"], row["rel_type"], row["props"], column_time(created, now),
            props.get("valid_from") or created, ended, props.get("recorded_at") or created,
            props.get("invalidated_by"))


def write_sqlite(*, conn, ids, path):
    """A new memorygraph file at path holding ids and the edges between them, rows as stored."""
    now = datetime.now(UTC).isoformat()
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
