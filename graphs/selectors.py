"""Reads for graph views: nodes and edges from the read model, as plain dicts.

Neighbourhoods and shortest paths are walked level by level in SQL (indexed edge lookups),
so a view never needs the whole graph in memory; whole-graph views read what the worker
stored (``graphs.analytics``).
"""
from memories.store.rows import chunks

from . import sql

# SQLite's default limit on bound parameters is 32766; edges_touching binds each id twice.
CHUNK = 4000
# A shortest path search gives up beyond these (a path longer than 8 steps relates little).
PATH_MAX_STEPS = 8
PATH_MAX_VISITED = 20_000


def _edge(row):
    return {"id": row["id"], "from_id": row["from_id"], "to_id": row["to_id"], "rel_type": row["rel_type"],
            "category": row["category"], "strength": row["strength"], "current": bool(row["current"])}


def _node(row):
    return {"id": row["id"], "title": row["title"], "type": row["type"], "summary": row["summary"],
            "importance": row["importance"], "created_at": row["created_at"]}


def nodes_by_ids(*, rm, ids):
    found = {}
    for chunk in chunks(ids, CHUNK):
        for row in rm.conn.execute(sql.nodes_by_ids(len(chunk)), chunk).fetchall():
            found[row["id"]] = _node(row)
    return found


def edges_touching(*, rm, ids, categories=()):
    edges = {}
    for chunk in chunks(ids, CHUNK):
        params = [*chunk, *chunk, *categories]
        for row in rm.conn.execute(sql.edges_touching(len(chunk), categories), params).fetchall():
            edges[row["id"]] = _edge(row)
    return list(edges.values())


def edges_among(*, rm, ids):
    ids = list(ids)
    if len(ids) > CHUNK:
        wanted = set(ids)
        return [e for e in edges_touching(rm=rm, ids=ids) if e["from_id"] in wanted and e["to_id"] in wanted]
    return [_edge(r) for r in rm.conn.execute(sql.edges_among(len(ids)), [*ids, *ids]).fetchall()]


def neighbourhood(*, rm, center, depth, types=(), categories=(), limit, expand=()):
    """Memories within depth hops of center (either direction), plus 1 hop around each id in expand.

    types and categories filter what is walked: a memory of another type is neither shown
    nor walked through. Returns (nodes, edges, total) where total counts every memory the
    walk reached and nodes holds at most limit of them, nearest first; edges are every
    current edge among the nodes shown, whatever its category, in id order.
    """
    distance = {center: 0}
    frontier = {center}
    stepped, walked = set(), {}
    for level in range(1, depth + 1):
        stepped |= frontier
        frontier = _step(rm, frontier, distance, types, categories, walked)
        for node_id in frontier:
            distance[node_id] = level
    for node_id in expand:
        if node_id in distance:
            stepped.add(node_id)
            for found in _step(rm, {node_id}, distance, types, categories, walked):
                distance[found] = distance[node_id] + 1
    ordered = sorted(distance, key=lambda n: (distance[n], n))
    shown = ordered[:limit]
    nodes = nodes_by_ids(rm=rm, ids=shown)
    for node_id, node in nodes.items():
        node["depth"] = distance[node_id]
    edges = edges_among(rm=rm, ids=shown) if categories else _among_walked(rm, shown, stepped, walked)
    return [nodes[n] for n in shown if n in nodes], edges, len(distance)


def _among_walked(rm, shown, stepped, walked):
    """edges_among(shown), reusing the walk's reads: every current edge touching a stepped memory
    was read by the walk, so only the edges among the memories not stepped from (the last level,
    most of a view) are read again; a 2-hop's edges 2.1 -> 0.9 ms of CPU at 100,000 memories."""
    kept = set(shown)
    edges = [e for e in walked.values() if e["from_id"] in kept and e["to_id"] in kept]
    rest = [n for n in shown if n not in stepped]
    if rest:
        edges += edges_among(rm=rm, ids=rest)
    return sorted(edges, key=lambda e: e["id"])


def _step(rm, frontier, seen, types, categories, walked):
    reached = set()
    for edge in edges_touching(rm=rm, ids=frontier, categories=categories):
        walked[edge["id"]] = edge
        for end in (edge["from_id"], edge["to_id"]):
            if end not in seen:
                reached.add(end)
    if types and reached:
        typed = nodes_by_ids(rm=rm, ids=reached)
        reached = {n for n in reached if n in typed and typed[n]["type"] in types}
    return reached


def around(*, rm, ids, limit):
    """The given memories (search hits, in rank order) plus their 1-hop neighbours."""
    ids = list(dict.fromkeys(ids))
    neighbours = []
    seen = set(ids)
    for edge in edges_touching(rm=rm, ids=ids):
        for end in (edge["from_id"], edge["to_id"]):
            if end not in seen:
                seen.add(end)
                neighbours.append(end)
    everything = ids + neighbours
    shown = everything[:limit]
    nodes = nodes_by_ids(rm=rm, ids=shown)
    return [nodes[n] for n in shown if n in nodes], edges_among(rm=rm, ids=shown), len(everything)


def shortest_path(*, rm, source, target, max_steps=PATH_MAX_STEPS, max_visited=PATH_MAX_VISITED):
    """A shortest path between two memories along current edges taken in either direction,
    by breadth-first search from both ends, a level at a time from the smaller frontier.

    Returns ``(path, searched, bound)``: the ids in path order, or None when there is no
    path; how many memories the search reached; and which bound stopped it, "steps" (none
    of at most ``max_steps`` edges) or "visited" (more than ``max_visited`` memories
    reached), or None. Raises LookupError naming a memory that does not exist.
    """
    found = nodes_by_ids(rm=rm, ids=[source, target])
    for memory_id in (source, target):
        if memory_id not in found:
            raise LookupError(f"No memory with id {memory_id}.")
    if source == target:
        return [source], 1, None
    parents = ({source: None}, {target: None})
    frontiers, searched = [[source], [target]], 2
    for _ in range(max_steps):
        side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        mine, theirs, frontier = parents[side], parents[1 - side], set(frontiers[side])
        reached, meeting = [], None
        for edge in edges_touching(rm=rm, ids=frontiers[side]):
            for a, b in ((edge["from_id"], edge["to_id"]), (edge["to_id"], edge["from_id"])):
                if a in frontier and b not in mine:
                    mine[b] = a
                    reached.append(b)
                    if meeting is None and b in theirs:
                        meeting = b
        searched = len(parents[0].keys() | parents[1].keys())
        if meeting is not None:
            return _joined(parents, meeting), searched, None
        if not reached:
            return None, searched, None
        if searched > max_visited:
            return None, searched, "visited"
        frontiers[side] = reached
    return None, searched, "steps"


def _joined(parents, meeting):
    """source ... meeting ... target from the two searches' parent links."""
    head, node = [], meeting
    while node is not None:
        head.append(node)
        node = parents[0][node]
    tail, node = [], parents[1][meeting]
    while node is not None:
        tail.append(node)
        node = parents[1][node]
    return head[::-1] + tail
