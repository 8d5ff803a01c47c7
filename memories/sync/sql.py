"""The sync room's SQL: the replica and the primary.

Run by sync/replica.py and sync/apply.py (the sync worker) and sync/verify.py. The outbox's
statements are the store's (store/sql.py): its table is in the read model's file, written by
the web side's OutboxStore (store/outbox.py) and drained by the sync worker.
"""

from memories.store.sql import EDGE_INSERT_ROW

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
