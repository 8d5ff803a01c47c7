"""The two sides a bridge or an import copies rows between, behind one interface.

``FileSide`` is a memorygraph file (a developer's laptop file, an uploaded file's copy);
``ClientSide`` is a client database of this site, local or synced. Each offers row
versions (cheap, for deciding what changed), whole rows (for copying verbatim), and
chunked writes in short transactions, so the memorygraph server working on a file only
ever waits milliseconds. A client side's writes also update its read model (a synced
client's go through its outbox, which does that in the same transaction).
"""
import json

from django.conf import settings

from ..format import memory_row_errors, relationship_row_errors
from ..store import sql as store_sql
from ..store.copies import EdgeRow, NodeRow
from ..store.readmodel import ReadModel
from ..store.rows import chunks, column_now, column_time, marks, utc_iso
from . import bulk, sql

CHUNK = 1000  # rows per transaction: the memorygraph server waits at most one chunk's write
BULK_ROWS = None  # from this many rows on, a copy goes through the writer process (None: KB_IMPORT_BULK_ROWS)
BULK_CHUNK = None  # rows per transaction of that writer process (None: KB_IMPORT_BULK_CHUNK)
NODE, EDGE = "node", "edge"
# The steps of applying Writes, in their order.
EDGE_DELETES, NODE_DELETES, NODE_PUTS, EDGE_PUTS = "edge deletes", "node deletes", "node puts", "edge puts"


def row_stamp(kind, row):
    """When a row last changed, as UTC ISO text ('' when unknown): a memory's updated_at, a
    relationship's last_validated."""
    props = json.loads(row.properties or "{}")
    if kind == NODE:
        return utc_iso(str(props.get("updated_at") or props.get("created_at") or row.updated_at))
    return utc_iso(str(props.get("last_validated") or props.get("created_at") or row.created_at))


def row_problem(kind, row, props=None):
    """Why memorygraph 0.12.4 would refuse a row read from one side (imports and the bridge
    never write such a row anywhere), or None. ``props``: its properties decoded already."""
    try:
        props = json.loads(row.properties) if props is None else props
    except RecursionError:
        return "its properties are nested too deeply"
    except (TypeError, ValueError):
        return "its properties are not JSON"
    errors = memory_row_errors(row.id, props) if kind == NODE else relationship_row_errors(row, props)
    return "; ".join(dict.fromkeys(errors.values())) or None


def same_row(a, b):
    """Same content, whatever the JSON spacing or key order."""
    try:
        return json.loads(a.properties) == json.loads(b.properties)
    except ValueError:
        return a.properties == b.properties


class Writes:
    """Rows to put and ids to delete on one side."""

    def __init__(self):
        self.nodes, self.edges, self.node_deletes, self.edge_deletes = [], [], [], []

    def __len__(self):
        return len(self.nodes) + len(self.edges) + len(self.node_deletes) + len(self.edge_deletes)


class FileSide:
    """A memorygraph file opened with the canonical store."""

    def __init__(self, store, name):
        self.store, self.name = store, name

    def versions(self, kind):
        return self.store.node_versions() if kind == NODE else self.store.edge_versions()

    def fingerprint(self):
        """The SQLite header's file change counter, which every committed write moves in the
        rollback-journal mode memorygraph uses; None (unknown) for a WAL file, where it does not."""
        try:
            with open(self.store.path, "rb") as handle:
                header = handle.read(28)
        except OSError:
            return None
        if len(header) < 28 or header[18] == 2:
            return None
        return str(int.from_bytes(header[24:28], "big"))

    def rows(self, kind, ids):
        return self.store.node_rows(ids) if kind == NODE else self.store.edge_rows(ids)

    def versions_of(self, kind, ids):
        if not ids:
            return {}
        if kind == NODE:
            return {memory_id: version for memory_id, _, version in self.store.iter_nodes(ids)}
        return {edge["id"]: edge["version"] for edge in self.store.iter_edges(ids)}

    def apply(self, writes, progress=None):
        """Edges are deleted first and put last, so they never point at missing memories."""
        store = self.store
        steps = [(EDGE_DELETES, writes.edge_deletes, store.delete_edges),
                 (NODE_DELETES, writes.node_deletes, store.delete_nodes),
                 (NODE_PUTS, writes.nodes, store.put_node_rows),
                 (EDGE_PUTS, writes.edges, store.put_edge_rows)]
        done, total = 0, len(writes)
        for step, items, write in steps:
            for chunk in chunks(items, CHUNK):
                with store.transaction():
                    write(chunk)
                done += len(chunk)
                self._after_chunk(step, chunk)
                if progress:
                    progress(done, total)

    def _after_chunk(self, step, chunk):
        """Called after each committed chunk of ``step`` (EDGE_DELETES, NODE_DELETES, ...)."""


class ClientSide(FileSide):
    """A client database of this site; synced ones are read from the read model."""

    def __init__(self, handle):
        super().__init__(handle.store, handle.client.slug)
        self.handle = handle
        self._bulk = False
        self.writer_info = None  # a bulk copy's writer process: its pid and CPU seconds

    def fingerprint(self):
        """The read model's change stamp: it moves with every change it has taken in, ours
        or another writer's (the caller brings it up to date first)."""
        return self.handle.readmodel.changed_at()

    def versions(self, kind):
        """From the read model, whose versions are the canonical file's (read back after
        every write; the caller brings it up to date first): stdlib reads are ~10x faster."""
        query = store_sql.MEMORY_VERSIONS if kind == NODE else store_sql.EDGE_VERSIONS_RM
        return dict(self.handle.readmodel.conn.execute(query).fetchall())

    def versions_of(self, kind, ids):
        return self.handle.readmodel.versions_of(ids, edges=kind != NODE)

    def rows(self, kind, ids):
        if not self.handle.synced:
            return super().rows(kind, ids)
        conn, found = self.handle.readmodel.conn, {}
        query = sql.RM_NODE_ROWS_BY_IDS if kind == NODE else sql.RM_EDGE_ROWS_BY_IDS
        for chunk in chunks(ids, CHUNK):
            for row in conn.execute(query.format(marks=marks(len(chunk))), chunk):
                found[row["id"]] = self._node(row) if kind == NODE else self._edge(row)
        return found

    @staticmethod
    def _node(row):
        props = json.loads(row["props"])
        created = column_time(props.get("created_at")) or column_now()
        return NodeRow(row["id"], row["props"], created, row["version"].split("|")[0])

    @staticmethod
    def _edge(row):
        props = json.loads(row["props"] or "{}")
        created = column_time(row["created_at"]) or column_now()
        return EdgeRow(row["id"], row["from_id"], row["to_id"], row["rel_type"], row["props"],
                       created, props.get("valid_from"),
                       None if row["current"] else (props.get("valid_until") or created),
                       props.get("recorded_at"), props.get("invalidated_by"))

    def apply(self, writes, progress=None):
        """Big copies into a local client go through a writer process while this one builds
        the read model from the rows in hand (interchange/bulk.py): keeping it in step row by
        row costs about as much per row as a whole rebuild (FTS and indexes)."""
        with self.handle.lock:
            bulk_rows = BULK_ROWS or settings.KB_IMPORT_BULK_ROWS
            self._bulk = not self.handle.synced and len(writes.nodes) + len(writes.edges) >= bulk_rows
            if not self._bulk:
                return super().apply(writes, progress)
            chunk = BULK_CHUNK or settings.KB_IMPORT_BULK_CHUNK
            self.writer_info = bulk.apply(self.handle, writes, chunk, progress)

    def _after_chunk(self, step, chunk):
        """Bring the read model in step with a local client's canonical file, reading the rows
        just written back from it (so the read model's versions stay the file's own)."""
        if self.handle.synced or self._bulk:
            return
        store, rm = self.handle.store, self.handle.readmodel
        if step == NODE_PUTS:
            nodes = list(store.iter_nodes([r.id for r in chunk]))
        elif step == EDGE_PUTS:
            edges = list(store.iter_edges([r.id for r in chunk]))
        with rm.write() as conn:
            if step == EDGE_DELETES:
                ReadModel.remove_edges(conn, chunk)
            elif step == NODE_DELETES:
                ReadModel.remove_memories(conn, chunk)
            elif step == NODE_PUTS:
                ReadModel.apply_memories(conn, nodes)
            else:
                ReadModel.apply_edges(conn, edges)
