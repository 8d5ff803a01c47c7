"""A memorygraph SQLite file, any version (no temporal columns, half-migrated, full): its rows as stored."""
import json

from ...store.copies import EdgeRow, NodeRow
from ...store.rows import column_now, column_time
from .. import sql
from .incoming import Incoming, add_node
from .opening import columns
from .refusals import ImportRefused


def recognises(tables):
    return {"nodes", "relationships"} <= tables


def read(conn):
    node_columns = columns(conn, "nodes")
    if not {"id", "label", "properties"} <= node_columns:
        raise ImportRefused(f"The `nodes` table has columns {', '.join(sorted(node_columns))}, "
                            "not memorygraph's.")
    edge_columns = columns(conn, "relationships")
    version = ("0.10+" if "valid_from" in edge_columns
               else "0.10 (half-migrated)" if "valid_until" in edge_columns else "0.9 or older")
    incoming = Incoming(f"memorygraph SQLite file ({version} shape)")
    for row in conn.execute(sql.IMPORT_NODES):
        ref = f"memory {row['id']}"
        try:
            props = json.loads(row["properties"])
            assert isinstance(props, dict)
        except RecursionError:
            incoming.invalid.append((ref, "its properties are nested too deeply"))
            continue
        except (ValueError, AssertionError):
            incoming.invalid.append((ref, "properties are not a JSON object"))
            continue
        ref = f"{ref} ({str(props.get('title'))[:60]})"  # checked with every other source's rows in add_node
        created = row["created_at"] if "created_at" in node_columns else None
        updated = row["updated_at"] if "updated_at" in node_columns else None
        node = NodeRow(row["id"], row["properties"],
                       created or column_time(props.get("created_at")) or column_now(),
                       updated or column_time(props.get("updated_at")) or column_now())
        add_node(incoming, ref, node, props)
    # EdgeRow's fields straight from SQLite, NULL for those this shape lacks (as dict(row).get(f) of
    # a SELECT * read them): 300,000 rows made into dicts first cost 3 s of the read's 20.
    cursor = conn.cursor()
    cursor.row_factory = None
    for row in cursor.execute(sql.import_edges(EdgeRow._fields, edge_columns)):
        incoming.edges[row[0]] = EdgeRow._make(row)
    return incoming
