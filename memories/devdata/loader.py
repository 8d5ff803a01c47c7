"""Write whole graphs into a canonical file: the demo graph and the benchmark's synthetic one.

Rows are built with the same property builders as the services, so a loaded file is
exactly what the memorygraph server itself would have written.
"""
from ..properties import memory_properties, relationship_properties
from ..store.canonical import CanonicalStore

BATCH = 5000


def memory_fields(memory):
    """Demo/synthetic dict (see demo_data.demo_graph) -> service fields."""
    fields = {key: memory[key]
              for key in ("id", "type", "title", "content", "tags", "importance", "confidence")}
    fields["summary"] = memory.get("summary") or ""
    fields["created_at"] = memory["created_at"].isoformat()
    if memory.get("project"):
        fields["project_path"] = memory["project"]
    for key in ("languages", "frameworks"):
        if memory.get(key):
            fields[key] = memory[key]
    if memory.get("git_branch"):
        fields["git_branch"] = memory["git_branch"]
    return fields


def load_graph(path, memories, relationships, *, progress=None):
    """Create (or append to) the memorygraph file at path with the given memories and edges."""
    store = CanonicalStore(path, create=True)
    try:
        total, done = len(memories), 0
        for start in range(0, total, BATCH):
            chunk = memories[start:start + BATCH]
            rows = []
            for memory in chunk:
                props = memory_properties(memory_fields(memory))
                props["updated_at"] = props["created_at"]
                rows.append((props, memory["created_at"].strftime("%Y-%m-%d %H:%M:%S")))
            with store.transaction():
                store.insert_nodes_at(rows)
            done += len(chunk)
            if progress:
                progress(done, total)
        for start in range(0, len(relationships), BATCH):
            rows = []
            for rel in relationships[start:start + BATCH]:
                props = relationship_properties(rel_id=rel["id"], strength=rel["strength"],
                                                confidence=rel["confidence"], context=rel.get("context"),
                                                temporal=store.temporal)
                rows.append({"rel_id": rel["id"], "from_id": rel["from_id"], "to_id": rel["to_id"],
                             "rel_type": rel["type"], "props": props})
            with store.transaction():
                for row in rows:
                    store.insert_edge(**row)
    finally:
        store.close()
