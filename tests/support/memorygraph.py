"""memorygraph (memorygraphMCP 0.12.4) as tests drive it: its server in this process, its writer in
another, files of its older shapes, and rows it refuses to read."""
import asyncio
import json
import sqlite3

from memorygraph.backends.sqlite_fallback import SQLiteFallbackBackend
from memorygraph.models import Memory, RelationshipProperties, SearchQuery
from memorygraph.sqlite_database import SQLiteMemoryDatabase


class Server:
    """memorygraph as its MCP server runs it: one backend, one long-lived connection."""

    def __init__(self, path, *, initialise=True):
        self.backend = SQLiteFallbackBackend(db_path=str(path))
        self.db = SQLiteMemoryDatabase(self.backend)
        self.run(self.backend.connect())
        if initialise:
            # Old-shape files must not be initialised: 0.12.4's DDL indexes temporal columns.
            self.run(self.backend.initialize_schema())
            self.run(self.db.initialize_schema())

    @staticmethod
    def run(coro):
        return asyncio.run(coro)

    def store(self, **fields):
        return self.run(self.db.store_memory(Memory(**fields)))

    def get(self, memory_id):
        return self.run(self.db.get_memory(memory_id))

    def update(self, memory):
        return self.run(self.db.update_memory(memory))

    def edit(self, memory_id, **fields):
        """Change ``fields`` of one memory as a memorygraph client does: read it, set them, update it."""
        memory = self.get(memory_id)
        for name, value in fields.items():
            setattr(memory, name, value)
        return self.update(memory)

    def delete(self, memory_id):
        return self.run(self.db.delete_memory(memory_id))

    def relate(self, from_id, to_id, rel_type, **props):
        return self.run(
            self.db.create_relationship(from_id, to_id, rel_type, RelationshipProperties(**props))
        )

    def search(self, text=None, **query):
        return self.run(self.db.search_memories(SearchQuery(query=text, **query)))

    def related(self, memory_id):
        return self.run(self.db.get_related_memories(memory_id))

    def close(self):
        self.run(self.backend.disconnect())


def assert_memorygraph_reads_everything(server, path):
    """Every node in the file parses as a memorygraph Memory (none silently hidden)."""
    conn = sqlite3.connect(path)
    ids = [row[0] for row in conn.execute("SELECT id FROM nodes WHERE label = 'Memory'")]
    conn.close()
    hidden = [i for i in ids if server.get(i) is None]
    assert not hidden, f"memorygraph cannot parse {len(hidden)} memories: {hidden}"
    # Its unfiltered search parses the same rows on another code path.
    assert len(server.search(limit=1000, include_relationships=False)) == len(ids)


SERVER_WRITER = """
import json, sqlite3, sys, time, uuid

# Like memorygraph 0.12.4: stdlib sqlite3 defaults (rollback journal, 5 s timeout),
# SELECT-then-write, commit after each write. Alternately inserts a memory and updates it.
path, rounds = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(path, check_same_thread=False)
sys.stdin.readline()  # start together with the site's writes
memory_id = None
for n in range(rounds):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "+00:00"
    if n % 2 == 0:
        memory_id, title, tags = str(uuid.uuid4()), f"server {n}", []
    else:
        title, tags = f"server {n - 1} updated", ["server"]
    props = {"id": memory_id, "type": "general", "title": title, "content": title + ".", "tags": tags,
             "importance": 0.5, "confidence": 0.8, "usage_count": 0, "created_at": stamp, "updated_at": stamp}
    if conn.execute("SELECT id FROM nodes WHERE id = ? AND label = 'Memory'", (memory_id,)).fetchall():
        conn.execute("UPDATE nodes SET properties = ?, updated_at = CURRENT_TIMESTAMP "
                     "WHERE id = ? AND label = 'Memory'", (json.dumps(props), memory_id))
    else:
        conn.execute("INSERT INTO nodes (id, label, properties, created_at, updated_at) "
                     "VALUES (?, 'Memory', ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                     (memory_id, json.dumps(props)))
    conn.commit()
    time.sleep(0.002)
print("done", flush=True)
"""


NODES_DDL = """
CREATE TABLE nodes (
    id TEXT PRIMARY KEY, label TEXT NOT NULL, properties TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
)"""
# memorygraph <= 0.9: no temporal columns at all.
OLD_RELATIONSHIPS_DDL = """
CREATE TABLE relationships (
    id TEXT PRIMARY KEY, from_id TEXT NOT NULL, to_id TEXT NOT NULL, rel_type TEXT NOT NULL,
    properties TEXT NOT NULL, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (from_id) REFERENCES nodes(id) ON DELETE CASCADE,
    FOREIGN KEY (to_id) REFERENCES nodes(id) ON DELETE CASCADE
)"""
# A migration that stopped half way added only these two.
HALF_MIGRATION = (
    "ALTER TABLE relationships ADD COLUMN valid_until TIMESTAMP",
    "ALTER TABLE relationships ADD COLUMN invalidated_by TEXT",
)


def memory_node(memory_id, type_, title, **extra):
    stamp = "2025-03-01T10:00:00.000000+00:00"
    return {
        "id": memory_id, "type": type_, "title": title, "content": f"{title}.", "tags": ["legacy"],
        "importance": 0.5, "confidence": 0.8, "usage_count": 0, "created_at": stamp, "updated_at": stamp,
        **extra,
    }


def build_old_file(path, shape):
    """A file as memorygraph 0.9 (shape 'none') or a half-migrated 0.10 ('half') left it."""
    conn = sqlite3.connect(path)
    conn.execute(NODES_DDL)
    conn.execute(OLD_RELATIONSHIPS_DDL)
    if shape == "half":
        for statement in HALF_MIGRATION:
            conn.execute(statement)
    nodes = [
        memory_node(
            "11111111-1111-4111-8111-111111111111", "error", "ImportError after upgrade",
            context_project_path="/srv/legacy", context_languages=["python"], context_frameworks="[]",
        ),
        memory_node("22222222-2222-4222-8222-222222222222", "fix", "Pin the old wheel", summary="Pinned"),
        memory_node("33333333-3333-4333-8333-333333333333", "general", "Unrelated note"),
    ]
    conn.executemany(
        "INSERT INTO nodes (id, label, properties, created_at, updated_at) "
        "VALUES (?, 'Memory', ?, '2025-03-01 10:00:00', '2025-03-01 10:00:00')",
        [(n["id"], json.dumps(n)) for n in nodes],
    )
    # Context as plain text: 0.9 wrote free text, not the 0.7+ JSON string.
    old_props = {
        "id": "rel-old-1", "strength": 0.8, "confidence": 0.7, "context": "pinning fixed it",
        "evidence_count": 1, "success_rate": None, "created_at": "2025-03-01T10:00:00+00:00",
        "last_validated": "2025-03-01T10:00:00+00:00", "validation_count": 0, "counter_evidence_count": 0,
    }
    conn.execute(
        "INSERT INTO relationships (id, from_id, to_id, rel_type, properties) VALUES (?, ?, ?, 'SOLVES', ?)",
        ("rel-old-1", nodes[1]["id"], nodes[0]["id"], json.dumps(old_props)),
    )
    conn.commit()
    conn.close()
    return [n["id"] for n in nodes]


# Rows memorygraph 0.12.4 never writes and refuses to read, each beside two good memories:
# {id: (change to a good row, what the refusal names)}. Its own store_memory takes the odd id.
REFUSED_NODES = {
    "slash/id": ({}, "memorygraph's form"), "bad-created": ({"created_at": "garbage"}, "created_at"),
    "bad-tags": ({"tags": "a string"}, "Tags must be a list"),
    "bad-metadata": ({"context_additional_metadata": "not json"}, "context_additional_metadata"),
    "bad-languages": ({"context_languages": "python"}, "context_languages"),
    "null-importance": ({"importance": None}, "Importance"),
}
REFUSED_EDGES = {
    "strength-5": ({"strength": 5}, "strength"), "confidence-neg": ({"confidence": -3}, "confidence"),
    "strength-nan": ({"strength": float("nan")}, "strength"),
    "strength-inf": ({"strength": float("inf")}, "strength"),
    "evidence-object": ({"evidence_count": {"n": 1}}, "evidence_count"),
    "context-object": ({"context": {"text": "an object"}}, "context must be text"),
    "rel/odd": ({}, "memorygraph's form"),
}


def add_refused_rows(path, a, b, prefix=""):
    """Add REFUSED_NODES, and REFUSED_EDGES from b to a, by SQL to the (full-shape) file at
    path, their ids prefixed with ``prefix``; returns the ids of both."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    node = json.loads(conn.execute("SELECT properties FROM nodes WHERE id = ?", (a,)).fetchone()[0])
    conn.executemany(
        "INSERT INTO nodes (id, label, properties) VALUES (?, 'Memory', ?)",
        [
            (prefix + i, json.dumps({**node, "id": prefix + i, **change}))
            for i, (change, _) in REFUSED_NODES.items()
        ],
    )
    edge = dict(conn.execute("SELECT * FROM relationships LIMIT 1").fetchone())
    props = json.loads(edge["properties"])
    conn.executemany(
        "INSERT INTO relationships (id, from_id, to_id, rel_type, properties, created_at, valid_from, "
        "recorded_at) VALUES (?, ?, ?, 'RELATED_TO', ?, ?, ?, ?)",
        [
            (
                prefix + i, b, a, json.dumps({**props, "id": prefix + i, **change}), edge["created_at"],
                edge["valid_from"], edge["recorded_at"],
            )
            for i, (change, _) in REFUSED_EDGES.items()
        ],
    )
    conn.commit()
    conn.close()
    return {prefix + i for i in REFUSED_NODES}, {prefix + i for i in REFUSED_EDGES}


def assert_memorygraph_reads_neighbourhoods(path):
    """memorygraph parses every memory in the file and reads every neighbourhood without an error
    (one relationship its models refuse makes get_related_memories raise for all)."""
    server = Server(path)
    try:
        assert_memorygraph_reads_everything(server, path)
        conn = sqlite3.connect(path)
        ids = [row[0] for row in conn.execute("SELECT id FROM nodes")]
        edges = conn.execute("SELECT COUNT(*) FROM relationships").fetchone()[0]
        conn.close()
        seen = {rel.id for memory_id in ids for _, rel in server.related(memory_id)}
        assert len(seen) == edges
    finally:
        server.close()
