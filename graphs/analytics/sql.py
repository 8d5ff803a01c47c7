"""All raw SQL of the analytics tables (their schema: ``ANALYTICS_TABLES`` in memories/readmodel.py)."""

GENERATION = "SELECT value FROM meta WHERE key = 'changed_at'"

# The worker's snapshot: what the algorithms need, in the order that breaks their ties.
SNAPSHOT_NODES = "SELECT id, type, importance FROM memory ORDER BY rid"
SNAPSHOT_EDGES = ("SELECT id, from_id, to_id, rel_type, category, strength FROM edge "
                  "WHERE current = 1 ORDER BY id")
DEGREES = """
SELECT m.id, coalesce(i.n, 0), coalesce(o.n, 0) FROM memory m
LEFT JOIN (SELECT to_id AS id, count(*) AS n FROM edge WHERE current = 1 GROUP BY to_id) i ON i.id = m.id
LEFT JOIN (SELECT from_id AS id, count(*) AS n FROM edge WHERE current = 1 GROUP BY from_id) o ON o.id = m.id
"""
PRIOR_RANKS = "SELECT memory_id, pagerank FROM graph_rank"

RANKS_CLEAR = "DELETE FROM graph_rank"
RANK_INSERT = ("INSERT INTO graph_rank (memory_id, position, pagerank, community, degree_in, degree_out, "
               "degree) VALUES (?, ?, ?, ?, ?, ?, ?)")
MEMBERS_CLEAR = "DELETE FROM graph_member"
MEMBER_INSERT = "INSERT INTO graph_member (view, position, grp, memory_id, role) VALUES (?, ?, ?, ?, ?)"
SETS_CLEAR = "DELETE FROM graph_set"
SET_INSERT = ("INSERT INTO graph_set (name, generation, started_at, computed_at, seconds, total, detail) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)")
SETS_RETAG = "UPDATE graph_set SET generation = ?, started_at = ?, computed_at = ?"

# Web workers' reads.
SETS = "SELECT name, generation, started_at, computed_at, seconds, total, detail FROM graph_set"
TOP = """
SELECT r.memory_id AS id, r.pagerank, r.community, m.title, m.type, m.summary, m.importance, m.created_at
FROM graph_rank r JOIN memory m ON m.id = r.memory_id ORDER BY r.position LIMIT ?
"""
MEMBERS = "SELECT grp, memory_id, role FROM graph_member WHERE view = ? ORDER BY position"


def ranks_of(count):
    marks = ",".join("?" * count)
    return f"SELECT memory_id, pagerank, community FROM graph_rank WHERE memory_id IN ({marks})"
