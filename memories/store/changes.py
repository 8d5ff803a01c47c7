"""How a canonical file tells what changed: its change stamp, our commits' claims, and the
(id, version) pairs that an (id, version) diff compares with the read model's.

Part of ``CanonicalStore`` (store/canonical.py), which provides ``conn``, ``path``, ``_fetch``
and ``_translated``; the read model's freshness (store/freshness.py) and the bridge use them.
"""
import os
from contextlib import contextmanager

from . import sql


class ChangeReads:
    """The canonical store's reads of what changed (a mixin of CanonicalStore)."""

    def data_version(self):
        """Changes whenever another connection commits to the file (PRAGMA data_version)."""
        return self._fetch("PRAGMA data_version")[0][0]

    def change_stamp(self):
        """The file's state as its SQLite header records it, "<inode>:<change counter>": every
        commit that changes the file moves it in the rollback-journal mode memorygraph and
        libsql leave the file in. None for a WAL file (the counter stays put there) or a replica.

        Read through the pager (sqlite_dbpage), never by opening the file: closing another
        descriptor of it would drop this process's SQLite locks (POSIX locks are per process).
        As one statement it reads a committed state; in ``snapshot()`` the snapshot's."""
        if not self._stamps:
            return None
        try:
            write_version, counter = self.conn.execute(sql.FILE_HEADER).fetchall()[0]
            inode = os.stat(self.path).st_ino
        except (self._errors, OSError, IndexError):
            return None
        return None if write_version == "02" else f"{inode}:{int(counter, 16)}"

    @contextmanager
    def snapshot(self):
        """Reads as of one commit: a read transaction, whose shared lock makes writers wait
        (their busy timeout) to commit until it ends, so keep it short."""
        with self._translated():
            self.conn.execute("BEGIN")
        try:
            yield self
        finally:
            self.conn.rollback()

    def pending_commits(self):
        """Our writers' commit in progress and recent commits (store/writers.py), or nothing."""
        return self._writers.pending() if self._writers is not None else (False, {})

    def forget_commit(self, commit):
        """Our commit ``(stamp before, stamp after)`` will get no read-model update (store/writers.py)."""
        if self._writers is not None and commit:
            self._writers.forget(commit)

    def take_commit(self):
        """``(stamp before, stamp after)`` of the last transaction committed through this
        connection if it was the only commit between them, once (None after that, or else)."""
        commit, self.last_commit = self.last_commit, None
        return commit

    def node_versions(self):
        """{memory id: version} where version changes on every write the server makes."""
        return dict(self._fetch(sql.NODE_VERSIONS))

    def edge_versions(self):
        query = sql.EDGE_VERSIONS_TEMPORAL if self.has_valid_until else sql.EDGE_VERSIONS
        return dict(self._fetch(query))

    def iter_versions(self, *, edges=False, batch=5000, paged=False):
        """Stream (id, version) of every memory, or with ``edges`` of every relationship, as
        ``node_versions`` / ``edge_versions`` give them: 400,000 pairs of a 100,000-memory file
        took 120 MB more as dicts. One statement, so one committed state; ``paged``: one
        statement per ``batch`` rowids, each a short read that writers can commit between
        (a row's rowid never moves back, so every row that stays is seen)."""
        if paged:
            query = sql.NODE_VERSIONS_PAGE
            if edges:
                query = sql.EDGE_VERSIONS_PAGE_TEMPORAL if self.has_valid_until else sql.EDGE_VERSIONS_PAGE
            last = 0
            while rows := self._fetch(query, (last, batch)):
                yield from (row[:2] for row in rows)
                last = rows[-1][2]
            return
        query = sql.NODE_VERSIONS
        if edges:
            query = sql.EDGE_VERSIONS_TEMPORAL if self.has_valid_until else sql.EDGE_VERSIONS
        with self._translated():
            cursor = self.conn.execute(query)
            while rows := cursor.fetchmany(batch):
                yield from rows

    def _after(self, stamp, version):
        """(stamp before, stamp after) when data_version did not move since BEGIN (no other
        connection committed: the file is the state before plus our write), else None."""
        with self.snapshot():
            after, moved = self.change_stamp(), self.data_version() != version
        return None if moved or not after else (stamp, after)
