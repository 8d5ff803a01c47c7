"""What importing a file's rows into a client database would do (the preview), and doing it.

``plan`` compares the rows with a client database (new, changed, identical, older than
ours, invalid) without writing; ``apply`` writes the new and newer rows in chunks, each
an upsert by id, so an interrupted import is completed by running it again.
"""
from dataclasses import dataclass

from ..sides import EDGE, NODE, Writes, row_stamp, same_row

INVALID_SHOWN = 200
SHOWN_CHARS = 300  # of a row's reference or reason kept in the preview


@dataclass
class Plan:
    source: str
    counts: dict
    invalid: list
    writes: Writes

    def as_dict(self):
        return {"source": self.source, "counts": self.counts,
                "invalid": [{"what": w[:SHOWN_CHARS], "reason": r[:SHOWN_CHARS]}
                            for w, r in self.invalid[:INVALID_SHOWN]],
                "invalid_total": len(self.invalid)}


def plan(incoming, side):
    """What importing `incoming` into a client database would do; writes nothing."""
    counts = {"new": 0, "changed": 0, "identical": 0, "older": 0, "invalid": len(incoming.invalid),
              "relationships_new": 0, "relationships_changed": 0, "relationships_identical": 0}
    writes, invalid = Writes(), list(incoming.invalid)
    current = side.rows(NODE, incoming.nodes.keys())
    for key, row in incoming.nodes.items():
        verdict = _verdict(NODE, current.get(key), row)
        counts[verdict] += 1
        if verdict in ("new", "changed"):
            writes.nodes.append(row)
    known = set(incoming.nodes) | set(side.versions(NODE))
    current = side.rows(EDGE, incoming.edges.keys())
    for key, row in incoming.edges.items():
        if row.from_id not in known or row.to_id not in known:
            invalid.append((f"relationship {key}",
                            "one of its memories is neither in the file nor in the database"))
            counts["invalid"] += 1
            continue
        verdict = _verdict(EDGE, current.get(key), row)
        counts[f"relationships_{verdict}"] += 1
        if verdict in ("new", "changed"):
            writes.edges.append(row)
    return Plan(incoming.source, counts, invalid, writes)


def _verdict(kind, ours, row):
    """The file's row against ours: "new", "identical", "changed" (to be written) or "older". A
    memory is written only over an older one; a relationship has no stamp to compare, so one that
    differs is always written."""
    if ours is None:
        return "new"
    if same_row(ours, row):
        return "identical"
    return "changed" if kind == EDGE or row_stamp(kind, row) > row_stamp(kind, ours) else "older"


def apply(plan_, side, progress=None):
    """Write the plan's rows in chunks (each an upsert by id: running it again completes it)."""
    side.apply(plan_.writes, progress)
    return {"memories": len(plan_.writes.nodes), "relationships": len(plan_.writes.edges)}
