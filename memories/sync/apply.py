"""Outbox operations written into a synced client's replica, by its sync worker (sync/replica.py)."""
from ..store import sql as store_sql
from ..store.outbox import EDGE_DELETE, EDGE_UPSERT, NODE_DELETE, NODE_UPSERT
from . import sql


def apply_to_replica(conn, ops, *, temporal):
    """Write outbox operations into the replica's memorygraph tables (inside the caller's transaction)."""
    edge_insert = sql.REPLICA_EDGE_INSERT_TEMPORAL if temporal else sql.REPLICA_EDGE_INSERT
    for op, object_id, payload in ops:
        if op == NODE_UPSERT:
            updated = conn.execute(sql.REPLICA_NODE_UPDATE,
                                   (payload["properties"], payload["updated_at"], object_id))
            if updated.rowcount == 0:
                conn.execute(sql.REPLICA_NODE_INSERT, (
                    object_id, payload["properties"], payload["created_at"], payload["updated_at"]))
        elif op == NODE_DELETE:
            conn.execute(store_sql.NODE_EDGES_DELETE, (object_id, object_id))
            conn.execute(store_sql.NODE_DELETE, (object_id,))
        elif op == EDGE_UPSERT:
            if conn.execute(sql.REPLICA_EDGE_UPDATE, (payload["properties"], object_id)).rowcount == 0:
                args = [object_id, payload["from_id"], payload["to_id"], payload["rel_type"],
                        payload["properties"], payload["created_at"]]
                if temporal:
                    args += [payload["valid_from"], payload.get("valid_until"), payload["recorded_at"]]
                conn.execute(edge_insert, tuple(args))
        elif op == EDGE_DELETE:
            conn.execute(store_sql.EDGE_DELETE, (object_id,))
