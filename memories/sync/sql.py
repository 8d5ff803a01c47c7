"""The sync room's SQL: the outbox, the replica, the primary, and the read model standing in
for the canonical file on a synced client's web side.

Run by sync/outbox.py (the web side's store), sync/replica.py (the sync worker),
sync/primary.py and the sync status page's selectors. The outbox's table itself is created with
the read model (store/schema.py), whose file holds it.
"""

from memories.store.sql import EDGE_INSERT_ROW, REACHES

OUTBOX_INSERT = "INSERT INTO outbox (op, object_id, payload, queued_at) VALUES (?, ?, ?, ?)"
OUTBOX_IN_STATE = ("SELECT seq, op, object_id, payload, queued_at FROM outbox "
                   "WHERE state = ? ORDER BY seq LIMIT ?")
OUTBOX_MARK = ("UPDATE outbox SET state = ?, applied_at = coalesce(?, applied_at), pushed_at = ?, error = ? "
               "WHERE seq = ?")
OUTBOX_REQUEUE = "UPDATE outbox SET state = 'queued', error = ? WHERE seq = ?"
OUTBOX_FAILED = "SELECT count(*) FROM outbox WHERE state = 'failed'"
OUTBOX_PENDING = "SELECT count(*), min(queued_at) FROM outbox WHERE state != 'pushed'"
OUTBOX_PENDING_IDS = ("SELECT DISTINCT object_id FROM outbox "
                      "WHERE state != 'pushed' AND object_id IN ({marks})")
OUTBOX_PRUNE = "DELETE FROM outbox WHERE state = 'pushed' AND seq < (SELECT max(seq) FROM outbox) - ?"

# Rows as the outbox carries them into the replica: an upsert by uuid, so that applying an
# operation twice (a worker killed between the replica commit and marking it applied)
# changes nothing. Written as UPDATE, then INSERT when no row matched: turso 0.8.3 fails
# `INSERT ... ON CONFLICT DO UPDATE` of an existing row after other writes in the same
# transaction ("Invalid Text value", "Payload too small for indicated header size").
REPLICA_NODE_UPDATE = "UPDATE nodes SET properties = ?, updated_at = ? WHERE id = ?"
REPLICA_NODE_INSERT = ("INSERT INTO nodes (id, label, properties, created_at, updated_at) "
                       "VALUES (?, 'Memory', ?, ?, ?)")
REPLICA_EDGE_UPDATE = "UPDATE relationships SET properties = ? WHERE id = ?"
REPLICA_EDGE_INSERT = EDGE_INSERT_ROW
REPLICA_EDGE_INSERT_TEMPORAL = (
    "INSERT INTO relationships (id, from_id, to_id, rel_type, properties, created_at, valid_from, "
    "valid_until, recorded_at, invalidated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"
)
REPLICA_EDGE_COUNT = "SELECT count(*) FROM relationships"

# Read at the primary over /v2/pipeline.
PRIMARY_TABLES = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
    "AND name NOT LIKE 'turso_%' AND name NOT LIKE '__turso_%'"
)
PRIMARY_NODES = (
    "SELECT id, CASE WHEN json_valid(properties) THEN json_extract(properties, '$.updated_at') END "
    "FROM nodes WHERE id IN ({marks})"
)
PRIMARY_EDGES = "SELECT id FROM relationships WHERE id IN ({marks})"

# Read-model lookups that stand in for the canonical file on a synced client's web side.
RM_NODE_PROPS = "SELECT props FROM memory WHERE id = ?"
RM_NODES_BY_IDS = "SELECT id, props, version FROM memory WHERE id IN ({marks})"
RM_NODE_COUNT = "SELECT count(*) FROM memory"
RM_EDGE_COUNT = "SELECT count(*) FROM edge"
RM_EDGES_BY_IDS = ("SELECT id, from_id, to_id, rel_type, props, created_at, current, version FROM edge "
                   "WHERE id IN ({marks})")
RM_EDGE_EXISTS = "SELECT 1 FROM edge WHERE from_id = ? AND to_id = ? AND rel_type = ? LIMIT 1"
RM_EDGE_REACHES = REACHES.format(edges="edge")
