"""Downloads of a graph view: GraphML (yEd, Cytoscape), GEXF (Gephi), node-link JSON (d3), and
the memories it shows in memories' own export formats (the export's "graph" scope).

Graphs from builders.py in, text or dicts out. The output is stable: nodes sorted by id,
edges by (source, target, key), attributes by name, so one view always exports the same
bytes (diffable, cacheable) whatever order the selector returned rows in.
"""
import io
import json
import re

import networkx as nx

from .compute import compute

# XML 1.0 forbids most control characters even escaped; memory text is untrusted and an
# agent may well have pasted terminal output with ANSI escapes into a title.
_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text):
    """``text`` without the characters XML 1.0 cannot carry (escaping is the writer's job)."""
    return _XML_INVALID.sub("", str(text))


def _scalar(value):
    """A GraphML/GEXF-safe value: None -> "", numbers and bools kept, lists and dicts as JSON."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return xml_safe(value)
    return xml_safe(json.dumps(value, sort_keys=True, default=str))


def _unify(rows):
    """Give each attribute one type across rows, as both formats declare one type per key:
    ints mixed with floats become floats, any other mix becomes text."""
    types = {}
    for row in rows:
        for name, value in row.items():
            types.setdefault(name, set()).add(type(value))
    for name, seen in types.items():
        if len(seen) < 2:
            continue
        cast = float if seen <= {int, float} else str
        for row in rows:
            if name in row:
                row[name] = cast(row[name])
    return rows


def _ordered(H, *, scalars, node_label=None, edge_label=None):
    """A sorted copy of H; with ``scalars``, every value made safe for the XML formats and
    ``label`` set from the named attribute (Gephi shows ``label``, not our ``title``)."""
    def clean(data, label_from):
        data = {k: data[k] for k in sorted(data)}
        if label_from and data.get(label_from) is not None:
            data["label"] = data[label_from]
        return {k: _scalar(v) for k, v in data.items()} if scalars else data

    nodes = sorted(H.nodes(data=True), key=lambda item: str(item[0]))
    edges = sorted(H.edges(keys=True, data=True), key=lambda e: (str(e[0]), str(e[1]), str(e[2])))
    node_rows = [clean(d, node_label) for _, d in nodes]
    edge_rows = [clean(d, edge_label) for *_, d in edges]
    if scalars:
        _unify(node_rows)
        _unify(edge_rows)
    G = nx.MultiDiGraph()
    G.graph.update(clean(H.graph, None))
    G.add_nodes_from((n, row) for (n, _), row in zip(nodes, node_rows))
    G.add_edges_from((u, v, k, row) for (u, v, k, _), row in zip(edges, edge_rows))
    return G


def to_graphml(H):
    """GraphML text (UTF-8 declared); edge ids are the memorygraph relationship ids."""
    out = io.BytesIO()
    nx.write_graphml(_ordered(H, scalars=True), out, encoding="utf-8")
    return out.getvalue().decode("utf-8")


def to_gexf(H):
    """GEXF 1.2 text for Gephi; nodes are labelled with titles and edges with their type."""
    out = io.BytesIO()
    nx.write_gexf(_ordered(H, scalars=True, node_label="title", edge_label="rel_type"), out, encoding="utf-8")
    return out.getvalue().decode("utf-8")


def to_node_link(H):
    """networkx node-link data (``edges="edges"``) with values as they are (JSON has null)."""
    return nx.node_link_data(_ordered(H, scalars=False), edges="edges")


def graph_export_ids(handle, data, *, filters, q):
    """The memory ids of the graph view `data` (GraphForm's cleaned data) of the memories that
    `filters` and `q` select, as memories' export of scope "graph" takes them (registered in
    apps.py); None while a whole-graph view is still being computed."""
    result = compute(handle, data, filters=filters, q=q.strip())
    if result.computing:
        return None
    return list(result.graph.nodes) if result.graph is not None else []
