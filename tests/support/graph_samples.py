"""Small graphs for the builders, renderer and payload tests: five memories of every kind of trouble
(a type the palette does not know, markup and escape codes in a title, a relationship no longer current)."""
from graphs import builders
from memories.format import REL_CATEGORY

NASTY = "<script>alert('x')</script> & \"friends\" \x1b[31m"


def node(id, type="general", title=None, summary=""):
    return {"id": id, "title": title or f"Memory {id}", "type": type, "summary": summary,
            "importance": 0.5, "created_at": "2026-01-01T00:00:00+00:00"}


def edge(id, u, v, rel, *, strength=0.8, current=True):
    return {"id": id, "from_id": u, "to_id": v, "rel_type": rel, "category": REL_CATEGORY[rel],
            "strength": strength, "current": current}


def sample(extra_edges=()):
    nodes = [node("s", "solution", "Pin the driver version", "Use psycopg 3.2 & pin it."),
             node("p", "problem", "Connections drop " + "x" * 60),
             node("e", "error", NASTY), node("t", "technology", "PostgreSQL"), node("u", "mystery")]
    edges = [edge("r1", "s", "p", "SOLVES"), edge("r2", "p", "t", "SIMILAR_TO", strength=None),
             edge("r3", "e", "p", "CAUSES", current=False), edge("r4", "e", "t", "OCCURS_IN")]
    return builders.build_graph(nodes, edges + list(extra_edges))
