"""Writes to a synced client database, queued for its sync worker.

Web workers never open a replica file (pyturso locks it for one owner). On a synced client
the services write through an ``OutboxStore`` instead of the canonical store: it offers the
same reads and writes, answers reads from the read model, and turns each write into an
outbox operation plus an overlay on the read model, in one transaction of the read-model
file. So a change shows at once (read-your-writes) and is marked pending until the sync
worker has applied it to the replica, pushed it and verified it at the primary.

Operations are whole rows keyed by uuid (upsert or delete), so applying one twice - a
worker killed after the replica commit but before marking it - changes nothing.
"""
import json
import time
from contextlib import contextmanager

from . import sql
from .base import Store
from .canonical import StoreError
from .readmodel import ReadModel, connect
from .rows import chunks, column_now, marks

NODE_UPSERT, NODE_DELETE = "node.upsert", "node.delete"
EDGE_UPSERT, EDGE_DELETE = "edge.upsert", "edge.delete"


def _number_text(value):
    """A number as SQLite's `||` renders it (REAL 1.0 is '1.0', 0.1 is '0.1')."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(int(value))
    if isinstance(value, float):
        return f"{value:.1f}" if value.is_integer() else format(value, ".15g")
    return str(value)


def node_version(payload):
    """The version sql.NODE_VERSIONS computes for this row in the replica."""
    props = json.loads(payload["properties"])
    stamp = props.get('updated_at')
    return f"{payload['updated_at']}|{len(payload['properties']) if stamp is None else stamp}"


def edge_version(payload, temporal):
    """The version sql.EDGE_VERSIONS(_TEMPORAL) computes for this row."""
    props = json.loads(payload["properties"])
    version = (f"{len(payload['properties'])}|{props.get('last_validated') or ''}|"
               f"{_number_text(props.get('strength'))}")
    return f"{version}|{payload.get('valid_until') or ''}" if temporal else version


def overlay(conn, ops):
    """Apply (op, object_id, payload) operations to the read model on conn."""
    temporal = _meta(conn, "temporal", "1") == "1"
    for op, object_id, payload in ops:
        if op == NODE_UPSERT:
            props = json.loads(payload["properties"])
            ReadModel.apply_memories(conn, [(object_id, props, node_version(payload))])
        elif op == NODE_DELETE:
            ReadModel.remove_memories(conn, [object_id])
        elif op == EDGE_UPSERT:
            ReadModel.apply_edges(conn, [{
                "id": object_id, "from_id": payload["from_id"], "to_id": payload["to_id"],
                "rel_type": payload["rel_type"], "raw": payload["properties"],
                "props": json.loads(payload["properties"]), "created_at": payload["created_at"],
                "valid_until": payload.get("valid_until"), "version": edge_version(payload, temporal),
            }])
        elif op == EDGE_DELETE:
            ReadModel.remove_edges(conn, [object_id])


def ops(rows):
    """Outbox rows as (op, object_id, payload) operations."""
    return [(row["op"], row["object_id"], json.loads(row["payload"])) for row in rows]


def queued_ops(conn):
    """Operations not yet in the replica, oldest first, for overlaying after a refresh."""
    return ops(conn.execute(sql.OUTBOX_IN_STATE, ("queued", -1)).fetchall())


def _meta(conn, key, default=None):
    row = conn.execute(sql.META_GET, (key,)).fetchone()
    return row[0] if row else default


def pending(conn):
    """(count, oldest queued_at) of changes not yet verified at the primary."""
    count, oldest = conn.execute(sql.OUTBOX_PENDING).fetchone()
    return count, oldest


def pending_ids(conn, ids):
    ids = list(ids)
    if not ids:
        return set()
    return {row[0] for row in conn.execute(sql.OUTBOX_PENDING_IDS.format(marks=marks(len(ids))), ids)}


class OutboxStore(Store):
    """The Store protocol (store/base.py) over a synced client's read model, for web processes:
    reads answer from the read model, writes queue outbox operations and overlay them on it."""

    writes_readmodel = True

    def __init__(self, readmodel_path, replica_path):
        self.path = str(replica_path)
        self.conn = connect(str(readmodel_path))
        try:
            self.temporal = _meta(self.conn, "temporal", "1") == "1"
        except Exception as exc:
            self.conn.close()
            raise StoreError(f"The index of the replica {self.path} is not built yet: the sync worker "
                             "builds it on its first run (is `manage.py kb_sync` running?).") from exc
        self.has_valid_until = self.temporal

    def close(self):
        self.conn.close()

    # Reads ---------------------------------------------------------------------------

    def node(self, memory_id):
        row = self.conn.execute(sql.RM_NODE_PROPS, (memory_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def count_nodes(self):
        return self.conn.execute(sql.RM_NODE_COUNT).fetchone()[0]

    def _by_ids(self, query, ids, every):
        """Rows of ``query`` for ids, or with ids None for every id ``every`` lists."""
        if ids is None:
            ids = [row[0] for row in self.conn.execute(every)]
        for chunk in chunks(ids, 500):
            yield from self.conn.execute(query.format(marks=marks(len(chunk))), chunk)

    def iter_nodes(self, ids=None):
        for row in self._by_ids(sql.RM_NODES_BY_IDS, ids, sql.MEMORY_VERSIONS):
            yield row["id"], json.loads(row["props"]), row["version"]

    def iter_edges(self, ids=None):
        for row in self._by_ids(sql.RM_EDGES_BY_IDS, ids, sql.EDGE_VERSIONS_RM):
            yield {
                "id": row["id"], "from_id": row["from_id"], "to_id": row["to_id"],
                "rel_type": row["rel_type"], "raw": row["props"], "props": json.loads(row["props"] or "{}"),
                "created_at": row["created_at"], "valid_until": None if row["current"] else "",
                "version": row["version"],
            }

    def edge_exists(self, from_id, to_id, rel_type):
        return self.conn.execute(sql.RM_EDGE_EXISTS, (from_id, to_id, rel_type)).fetchone() is not None

    def closes_cycle(self, from_id, to_id, rel_type):
        return self.conn.execute(sql.RM_EDGE_REACHES, (to_id, rel_type, from_id)).fetchone() is not None

    # Writes: call inside ``with store.transaction():`` --------------------------------

    @contextmanager
    def transaction(self):
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
            self.conn.execute(sql.META_PUT, ("changed_at", str(time.time_ns())))
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _queue(self, op, object_id, payload):
        self.conn.execute(sql.OUTBOX_INSERT, (op, object_id, json.dumps(payload), time.time()))
        overlay(self.conn, [(op, object_id, payload)])

    def insert_node(self, props):
        """Also an update: operations are upserts, and an update keeps the row's created_at column."""
        now = column_now()
        self._queue(
            NODE_UPSERT, props["id"], {"properties": json.dumps(props), "created_at": now, "updated_at": now}
        )

    update_node = insert_node

    def delete_node(self, memory_id):
        self._queue(NODE_DELETE, memory_id, {})

    def insert_edge(self, *, rel_id, from_id, to_id, rel_type, props):
        now = column_now()
        self._queue(
            EDGE_UPSERT,
            rel_id,
            {
                "from_id": from_id, "to_id": to_id, "rel_type": rel_type, "properties": json.dumps(props),
                "created_at": now, "valid_from": props.get("valid_from", now),
                "recorded_at": props.get("recorded_at", now),
            },
        )

    def delete_edge(self, rel_id):
        self._queue(EDGE_DELETE, rel_id, {})

    def put_node_rows(self, rows):
        """Whole memory rows as given (imports, the bridge)."""
        for row in rows:
            self._queue(
                NODE_UPSERT, row.id,
                {"properties": row.properties, "created_at": row.created_at, "updated_at": row.updated_at},
            )

    def put_edge_rows(self, rows):
        for row in rows:
            self._queue(
                EDGE_UPSERT,
                row.id,
                {
                    "from_id": row.from_id, "to_id": row.to_id, "rel_type": row.rel_type,
                    "properties": row.properties, "created_at": row.created_at,
                    "valid_from": row.valid_from or row.created_at, "valid_until": row.valid_until,
                    "recorded_at": row.recorded_at or row.created_at,
                },
            )
