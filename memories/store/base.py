"""The store protocol: what the services, the bridge and imports may ask of a client's store.

Two stores implement it: ``CanonicalStore`` (store/canonical.py), a memorygraph file, a local
client's or a synced client's replica in its worker; and ``OutboxStore`` (store/outbox.py), a
synced client's store in a web process, which answers reads from the read model and queues
writes for the sync worker.
"""


class Store:
    """One connection to one client's memories and relationships. Not thread-safe.

    Memories are ``props`` dicts in memorygraph's JSON (``props["id"]`` is the id);
    relationships are edge dicts with the keys ``id, from_id, to_id, rel_type, raw`` (the
    properties text), ``props, created_at, valid_until, version``. A version is a text that
    changes whenever the row does, compared with the read model's to tell what changed.

    Writes are made inside ``with store.transaction():``, which commits them together or not
    at all. Whole rows (``NodeRow`` / ``EdgeRow``, store/copies.py) are written as given.

    Methods that subclasses must implement: ``close``, ``count_nodes``, ``node``,
    ``iter_nodes``, ``iter_edges``, ``edge_exists``, ``closes_cycle``, ``transaction``,
    ``insert_node``, ``update_node``, ``delete_node``, ``insert_edge``, ``delete_edge``,
    ``put_node_rows``, ``put_edge_rows``.
    """

    # Whether the store's writes update the read model in the same transaction (the outbox):
    # then the caller must not update the read model after them.
    writes_readmodel = False
    # Set by each store when it opens: where it is (a file path, for messages and the read
    # model's source), whether relationships carry the temporal columns (valid_from,
    # recorded_at), and whether they carry valid_until (a half-migrated file may have it alone).
    path = None
    temporal = False
    has_valid_until = False

    def close(self):
        raise NotImplementedError("subclasses of Store must provide a close() method")

    # Reads -------------------------------------------------------------------------------

    def count_nodes(self):
        """How many memories the store holds."""
        raise NotImplementedError("subclasses of Store must provide a count_nodes() method")

    def node(self, memory_id):
        """The memory's props dict, or None."""
        raise NotImplementedError("subclasses of Store must provide a node() method")

    def iter_nodes(self, ids=None):
        """Yield (id, props, version) of the given memory ids that exist, or of every memory."""
        raise NotImplementedError("subclasses of Store must provide an iter_nodes() method")

    def iter_edges(self, ids=None):
        """Yield edge dicts of the given relationship ids that exist, or of every relationship."""
        raise NotImplementedError("subclasses of Store must provide an iter_edges() method")

    def edge_exists(self, from_id, to_id, rel_type):
        raise NotImplementedError("subclasses of Store must provide an edge_exists() method")

    def closes_cycle(self, from_id, to_id, rel_type):
        """Would from_id -> to_id close a directed cycle among relationships of rel_type?"""
        raise NotImplementedError("subclasses of Store must provide a closes_cycle() method")

    # Writes: inside ``with store.transaction():`` ------------------------------------------

    def transaction(self):
        """A context manager: one short write transaction, committed when the block ends
        normally, rolled back when it raises."""
        raise NotImplementedError("subclasses of Store must provide a transaction() method")

    def insert_node(self, props):
        raise NotImplementedError("subclasses of Store must provide an insert_node() method")

    def update_node(self, props):
        """Replace the memory's properties, keeping its row's creation time."""
        raise NotImplementedError("subclasses of Store must provide an update_node() method")

    def delete_node(self, memory_id):
        """Delete the memory and every relationship from or to it."""
        raise NotImplementedError("subclasses of Store must provide a delete_node() method")

    def insert_edge(self, *, rel_id, from_id, to_id, rel_type, props):
        raise NotImplementedError("subclasses of Store must provide an insert_edge() method")

    def delete_edge(self, rel_id):
        raise NotImplementedError("subclasses of Store must provide a delete_edge() method")

    def put_node_rows(self, rows):
        """Insert or replace whole memory rows (NodeRow) as given (imports, the bridge)."""
        raise NotImplementedError("subclasses of Store must provide a put_node_rows() method")

    def put_edge_rows(self, rows):
        """Insert or replace whole relationship rows (EdgeRow) as given."""
        raise NotImplementedError("subclasses of Store must provide a put_edge_rows() method")

    # Provided ------------------------------------------------------------------------------

    def delete_nodes(self, ids):
        """Delete memories by id, one at a time (a store may do it faster)."""
        for memory_id in ids:
            self.delete_node(memory_id)

    def delete_edges(self, ids):
        for rel_id in ids:
            self.delete_edge(rel_id)
