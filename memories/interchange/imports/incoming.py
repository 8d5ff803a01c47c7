"""The rows a reader found in a file, each checked as the memorygraph server would check it.

Readers turn a file into memorygraph rows (``NodeRow`` / ``EdgeRow``, exactly what the
memorygraph server would store) plus the rows refused, each with a reason. Ids of rows from
a neighbouring store are uuid5s of its own keys (``stable_id``), so importing the same file
again updates rather than duplicates.
"""
import json
import uuid
from dataclasses import dataclass, field

from ...format import FormatError, normalise_tags, validate_memory
from ...properties import memory_properties
from ...store.copies import NodeRow
from ...store.rows import column_now, column_time
from ..sides import EDGE, NODE, row_problem
from .checks import text_problem

NAMESPACE = uuid.UUID("6f1f9d1c-5b7e-4c55-9a53-3e0f3c1b8a10")


@dataclass
class Incoming:
    source: str
    nodes: dict = field(default_factory=dict)
    edges: dict = field(default_factory=dict)
    invalid: list = field(default_factory=list)  # (what, reason)


def stable_id(*parts):
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(str(p) for p in parts)))


def node_from_fields(incoming, ref, fields, *, created=None, updated=None, extra=None):
    """Validate service-style fields and add the row, or record why not."""
    try:
        fields = {**fields, "tags": normalise_tags(fields.get("tags") or [])}
        validate_memory(fields)
    except FormatError as exc:
        incoming.invalid.append((ref, str(exc)))
        return
    props = memory_properties(fields)
    props.update(extra or {})
    props["created_at"] = created or props["created_at"]
    props["updated_at"] = updated or props["created_at"]
    add_node(incoming, ref, NodeRow(props["id"], json.dumps(props),
                                    column_time(props["created_at"]) or column_now(),
                                    column_time(props["updated_at"]) or column_now()))


def add_node(incoming, ref, row, props=None):
    """Rows memorygraph would refuse are refused; so are duplicate ids with different
    contents, all of them: which one is right is unknown. ``props``: the row's properties
    decoded already (decoding a memory's JSON again cost a tenth of reading a file)."""
    if problem := text_problem(row.properties):
        incoming.invalid.append((ref, f"its properties {problem}"))
        return
    if problem := row_problem(NODE, row, props):
        incoming.invalid.append((ref, problem))
        return
    previous = incoming.nodes.get(row.id)
    if previous is None:
        incoming.nodes[row.id] = row
    elif json.loads(previous.properties) != json.loads(row.properties):
        incoming.invalid.append((ref, f"id {row.id} appears more than once with different contents"))
        incoming.nodes[row.id] = None


def finish(incoming):
    """``incoming`` without the duplicated memories, and with its relationships checked."""
    incoming.nodes = {k: v for k, v in incoming.nodes.items() if v is not None}
    kept = {}
    for key, row in incoming.edges.items():
        if problem := row_problem(EDGE, row):
            incoming.invalid.append((f"relationship {key}", problem))
        elif problem := text_problem(row.properties):
            incoming.invalid.append((f"relationship {key}", f"its properties {problem}"))
        else:
            kept[key] = row
    incoming.edges = kept
    return incoming
