"""The agents room's raw SQL: keys and rates on Django's tables, and the read-model reads of
the MCP tools (mcp/reads.py) and the cloud API (cloud_api/selectors.py). Every statement is
parameterised; filters are the pages' (memories/sql.py filter_clause).

The keys' column lists come from the models' fields, so a migration that adds a field changes
the statements with it (rows.py turns each row back into model instances, in this order).
"""
from functools import cache

from django.contrib.auth import get_user_model

from ..models import ApiKey, ApiRate, ClientDatabase


def key_models():
    """The models of a key's row, in the order KEY_FOR_* select their columns."""
    return ApiKey, ClientDatabase, get_user_model()


def _columns(model, alias):
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


@cache
def _key_select():
    key, client, user = key_models()
    return (f"SELECT {_columns(key, 'k')}, {_columns(client, 'c')}, {_columns(user, 'u')} "
            f'FROM "{key._meta.db_table}" k JOIN "{client._meta.db_table}" c ON c."id" = k."client_id" '
            f'LEFT JOIN "{user._meta.db_table}" u ON u."id" = k."created_by_id" ')


def key_for_slug():
    """A key by its hash, with the client database of a URL's slug (not archived) and the key's
    creator. Bind the hash and the slug."""
    return _key_select() + 'WHERE k."hash" = %s AND c."slug" = %s AND NOT c."archived"'


def key_for_client():
    """A key by its hash, of one client database (by id), with it and the key's creator. Bind the
    hash and the client's id."""
    return _key_select() + 'WHERE k."hash" = %s AND k."client_id" = %s'


def rate_add():
    """Add to a key's count of one kind in one minute, answering the new count. Bind the key's id,
    the kind, the minute and the amount."""
    return (f"INSERT INTO {ApiRate._meta.db_table} (key_id, kind, minute, count) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (key_id, kind, minute) DO UPDATE SET count = count + excluded.count RETURNING count")


# The read model, for the MCP tools -------------------------------------------------------

BY_RIDS = "SELECT rid, props FROM memory WHERE rid IN ({marks})"
NEIGHBOURS = (
    "SELECT e.id, e.from_id, e.to_id, e.rel_type, e.props AS rel_props, m.props, m.importance "
    "FROM edge e JOIN memory m ON m.id = CASE WHEN e.from_id = ? THEN e.to_id ELSE e.from_id END "
    "WHERE (e.from_id = ? OR e.to_id = ?) AND e.current = 1 AND m.id != ? {types} "
    "ORDER BY coalesce(e.strength, 0.5) DESC, m.importance DESC, e.id LIMIT ?"
)
RECENT = "SELECT props FROM memory m WHERE {where} ORDER BY m.created_at DESC, m.id DESC LIMIT ?"
RECENT_UNRESOLVED = "SELECT props FROM memory m WHERE {where} ORDER BY m.importance DESC, m.id LIMIT ?"
RECENT_COUNTS = "SELECT m.type, count(*) FROM memory m WHERE {where} GROUP BY m.type"
STATISTICS = (
    "SELECT (SELECT count(*) FROM memory) AS memories, (SELECT count(*) FROM edge) AS edges, "
    "(SELECT avg(importance) FROM memory) AS importance, (SELECT avg(confidence) FROM memory) AS confidence"
)
TYPE_COUNTS = "SELECT type, count(*) AS n FROM memory GROUP BY type ORDER BY n DESC, type"

# The read model, for the cloud API -------------------------------------------------------

MEMORIES_BY_IDS = "SELECT * FROM memory WHERE id IN ({marks})"
# Either end of a relationship, of the given types ({types}: "" or " AND rel_type IN (...)").
LINKS = ("SELECT from_id, to_id, rel_type, strength, confidence, context FROM edge "
         "WHERE (from_id = ? OR to_id = ?){types}")
BY_IMPORTANCE = "SELECT * FROM memory m {where} ORDER BY m.importance DESC, m.created_at DESC LIMIT ?"
RECENTLY_UPDATED = "SELECT * FROM memory m WHERE {where} ORDER BY m.updated_at DESC LIMIT ?"
MEMORY_STATISTICS = "SELECT count(*) AS n, avg(importance) AS imp, avg(confidence) AS conf FROM memory"
EDGE_COUNT = "SELECT count(*) FROM edge"
BY_TYPE = "SELECT type, count(*) FROM memory GROUP BY type ORDER BY type"
