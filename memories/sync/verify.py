"""Verification of a push against the primary: which applied outbox operations it now holds.

A push can return normally without the primary having the rows, so the replica's owner
(replica.py) reads the primary back before it marks any operation `pushed`.
"""
import json
from datetime import UTC, datetime

from ..store import outbox
from ..store.rows import utc_iso


def _deciding_ops(rows):
    """{(kind, object id): (row, op, payload)} of the operation deciding each object's state
    once these rows (in seq order) are applied: its last one, except that a memory's delete
    also removes its relationships at the replica (sync/apply.py), so it decides a
    relationship upserted before it."""
    last, node_deletes = {}, {}
    for row, (op, object_id, payload) in zip(rows, outbox.ops(rows)):
        last[(op.split(".")[0], object_id)] = (row, op, payload)
        if op == outbox.NODE_DELETE:
            node_deletes[object_id] = (row, op, payload)
    for key, (row, op, payload) in last.items():
        if op == outbox.EDGE_UPSERT:
            later = [node_deletes[m] for m in (payload["from_id"], payload["to_id"])
                     if m in node_deletes and node_deletes[m][0]["seq"] > row["seq"]]
            if later:
                last[key] = later[0]
    return last


def _node_verified(nodes, object_id, row, op, payload):
    """Whether the primary's {id: updated_at} holds the memory as the deciding operation left it
    (or a newer version of it, written elsewhere)."""
    if op == outbox.NODE_UPSERT:
        ours = utc_iso(json.loads(payload["properties"]).get("updated_at"))
        return object_id in nodes and utc_iso(nodes[object_id]) >= ours
    deleted_at = datetime.fromtimestamp(row["queued_at"], tz=UTC).isoformat()
    return object_id not in nodes or utc_iso(nodes[object_id]) > utc_iso(deleted_at)


def push_verify(*, primary, rows):
    """Split applied outbox rows into (verified seqs, lost seqs) by reading the primary.

    Each object is judged by the operation that decides its state (``_deciding_ops``), not
    each row on its own: an upsert followed by a delete of the same row finds it absent, and
    re-sending that upsert after the delete would bring the row back. The operations a
    deciding one supersedes are settled with it and never sent again; only a lost deciding
    operation is, keeping its seq so that it still comes before any later write."""
    deciding = _deciding_ops(rows)
    node_ids = [object_id for kind, object_id in deciding if kind == "node"]
    edge_ids = [object_id for kind, object_id in deciding if kind == "edge"]
    nodes = primary.node_versions(node_ids) if node_ids else {}
    edges = primary.edge_ids(edge_ids) if edge_ids else set()
    lost = set()
    for (kind, object_id), (row, op, payload) in deciding.items():
        if kind == "node":
            ok = _node_verified(nodes, object_id, row, op, payload)
        else:
            ok = (object_id in edges) == (op == outbox.EDGE_UPSERT)
        if not ok:
            lost.add(row["seq"])
    return [row["seq"] for row in rows if row["seq"] not in lost], sorted(lost)
