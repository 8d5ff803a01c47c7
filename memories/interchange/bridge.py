"""Bridge a developer's memorygraph file with a client database, both ways, by id.

A three-way merge against the versions both sides had at the end of the last run (the
*base*, kept in a small SQLite file per client and laptop file):

- changed on one side only: copied to the other, row verbatim;
- changed on both sides (or met for the first time with different contents): the newer
  `updated_at` wins, and the losing row goes to the audit log;
- deleted on one side: deleted on the other only when the other has not changed it since
  the last run; otherwise the surviving row is copied back;
- new on one side: copied to the other.

Running it again with nothing changed writes nothing; when neither the file's change
counter nor the client's read-model stamp moved since the last run, it reads nothing either. Memories go
before relationships (relationships whose ends are missing on the target are skipped and
reported), and every write is a short transaction on the laptop file, so the memorygraph
server keeps working on it throughout.
"""
import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from ..models import AuditEntry
from . import sql
from .sides import EDGE, NODE, Writes, row_problem, row_stamp, same_row


@dataclass
class Report:
    to_client: dict = field(default_factory=lambda: {"memories": 0, "relationships": 0, "deleted": 0})
    to_file: dict = field(default_factory=lambda: {"memories": 0, "relationships": 0, "deleted": 0})
    conflicts: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    seconds: float = 0.0
    unchanged: bool = False

    @property
    def changed(self):
        return any(self.to_client.values()) or any(self.to_file.values())

    def as_dict(self):
        return {"to_client": self.to_client, "to_file": self.to_file, "conflicts": len(self.conflicts),
                "skipped": self.skipped, "seconds": round(self.seconds, 2)}


def base_path(client, file_path):
    digest = hashlib.sha1(str(Path(file_path).expanduser().resolve()).encode()).hexdigest()[:12]
    return settings.DATA_DIR / "bridge" / f"{client.slug}-{digest}.sqlite3"


class Base:
    def __init__(self, path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.executescript(sql.BRIDGE_SCHEMA)

    def load(self, kind):
        return {row[0]: (row[1], row[2]) for row in
                self.conn.execute(sql.BRIDGE_BASE, (kind,))}

    def update(self, kind, versions, gone):
        """Record {id: (local version, remote version)} of rows now the same on both sides,
        and forget rows gone from both."""
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(sql.BRIDGE_BASE_PUT,
                              ((kind, key, lv, rv) for key, (lv, rv) in versions.items()))
        self.conn.executemany(sql.BRIDGE_BASE_DROP, ((kind, key) for key in gone))
        self.conn.execute("COMMIT")

    def fingerprints(self):
        return dict(self.conn.execute(sql.BRIDGE_META))

    def set_fingerprints(self, **values):
        self.conn.executemany(sql.BRIDGE_META_PUT, values.items())

    def log(self, report):
        self.conn.execute(sql.BRIDGE_RUN, (time.time(), json.dumps(report.as_dict())))

    def close(self):
        self.conn.close()


class Bridge:
    def __init__(self, *, local, remote, base, actor=None, client=None):
        """local: the laptop file's side; remote: the client database's side."""
        self.local, self.remote, self.base = local, remote, base
        self.actor, self.client = actor, client

    def run(self, progress=None):
        started = time.perf_counter()
        report = Report()
        before = {"local": self.local.fingerprint(), "remote": self.remote.fingerprint()}
        if None in before.values() or before != self.base.fingerprints():
            for kind in (NODE, EDGE):
                self._merge(kind, report, progress)
            self.base.set_fingerprints(local=self.local.fingerprint(), remote=self.remote.fingerprint())
        else:
            report.unchanged = True  # neither side committed anything since the last run
        report.seconds = time.perf_counter() - started
        self.base.log(report)
        if report.changed or report.conflicts or report.skipped:
            AuditEntry.objects.create(client=self.client, actor=self.actor, action="bridge.run",
                                      object_id=self.local.name[-64:], after=report.as_dict())
        return report

    def _merge(self, kind, report, progress):
        L, R, B = self.local.versions(kind), self.remote.versions(kind), self.base.load(kind)
        to_remote, to_local = Writes(), Writes()
        copy_to_remote, copy_to_local, both = [], [], []
        same, gone = {}, []  # base entries to record / to forget, besides the rows copied
        for key in L.keys() | R.keys() | B.keys():
            lv, rv, bv = L.get(key), R.get(key), B.get(key)
            if lv is not None and rv is not None:
                if bv is not None and (lv, rv) == bv:
                    continue
                if bv is None and lv == rv:
                    same[key] = (lv, rv)  # met first, copied verbatim before: same version, same row
                    continue
                local_changed = bv is None or lv != bv[0]
                remote_changed = bv is None or rv != bv[1]
                if local_changed and remote_changed:
                    both.append(key)
                elif local_changed:
                    copy_to_remote.append(key)
                else:
                    copy_to_local.append(key)
            elif lv is not None:
                if bv is None or lv != bv[0]:
                    copy_to_remote.append(key)  # new here, or changed here since the other side deleted it
                else:
                    self._delete(to_local, kind, key)
                    gone.append(key)
            elif rv is not None:
                if bv is None or rv != bv[1]:
                    copy_to_local.append(key)
                else:
                    self._delete(to_remote, kind, key)
                    gone.append(key)
            else:
                gone.append(key)
        same.update(self._resolve(kind, both, copy_to_remote, copy_to_local, report, L, R))
        self._put(kind, to_remote, self.local.rows(kind, copy_to_remote), self.remote, report)
        self._put(kind, to_local, self.remote.rows(kind, copy_to_local), self.local, report)
        for side, writes, counts in ((self.remote, to_remote, report.to_client),
                                     (self.local, to_local, report.to_file)):
            if writes:
                side.apply(writes, progress)
            counts["memories" if kind == NODE else "relationships"] += len(
                writes.nodes if kind == NODE else writes.edges)
            counts["deleted"] += len(writes.node_deletes) + len(writes.edge_deletes)
        # Both sides' versions of what was copied, read back (a relationship's differs by file shape).
        copied_here = [r.id for r in (to_remote.nodes if kind == NODE else to_remote.edges)]
        copied_there = [r.id for r in (to_local.nodes if kind == NODE else to_local.edges)]
        theirs = self.remote.versions_of(kind, copied_here)
        ours = self.local.versions_of(kind, copied_there)
        same.update({k: (L[k], theirs[k]) for k in copied_here if k in theirs})
        same.update({k: (ours[k], R[k]) for k in copied_there if k in ours})
        self.base.update(kind, same, gone)

    @staticmethod
    def _delete(writes, kind, key):
        (writes.node_deletes if kind == NODE else writes.edge_deletes).append(key)

    def _resolve(self, kind, keys, copy_to_remote, copy_to_local, report, L, R):
        """Rows changed on both sides: the newer wins, the loser is kept in the audit log.
        Returns the base entries of rows found to be the same on both sides."""
        same = {}
        if not keys:
            return same
        ours, theirs = self.local.rows(kind, keys), self.remote.rows(kind, keys)
        for key in keys:
            a, b = ours.get(key), theirs.get(key)
            if a is None or b is None:
                continue
            if same_row(a, b):
                same[key] = (L[key], R[key])
                continue
            local_wins = row_stamp(kind, a) > row_stamp(kind, b)
            winner, loser = (a, b) if local_wins else (b, a)
            (copy_to_remote if local_wins else copy_to_local).append(key)
            report.conflicts.append(key)
            AuditEntry.objects.create(
                client=self.client, actor=self.actor, action=f"bridge.conflict.{kind}", object_id=key,
                before={"side": self.remote.name if local_wins else self.local.name, "row": loser._asdict()},
                after={"side": self.local.name if local_wins else self.remote.name, "row": winner._asdict()})
        return same

    def _put(self, kind, writes, rows, target, report):
        """Queue rows for the target, except rows memorygraph would refuse (reported, copied
        neither way, so each side keeps its own) and relationships whose ends it lacks."""
        rows = [row for row in rows.values() if not self._refused(kind, row, target, report)]
        if kind == NODE:
            writes.nodes.extend(rows)
            return
        if not rows:
            return
        present = target.versions(NODE).keys()  # memories were copied and deleted in the node pass
        for row in rows:
            if row.from_id in present and row.to_id in present:
                writes.edges.append(row)
            else:
                report.skipped.append(f"relationship {row.id}: an end is missing in {target.name}")

    @staticmethod
    def _refused(kind, row, target, report):
        if problem := row_problem(kind, row):
            what = "memory" if kind == NODE else "relationship"
            report.skipped.append(f"{what} {str(row.id)[:80]!r}: not copied to {target.name}, "
                                  f"memorygraph would refuse it: {problem}")
        return problem
