"""The sources an upload may come from, one reader each, and reading a file with the one it is.

A reader turns a file into ``Incoming``: memorygraph rows plus the rows refused, each with a
reason (see incoming.py). What a source's rows map to is written in its module; a new source
is one new module added to ``READERS``.

``read_path`` opens the file as what its first bytes say (a zip holding one file, a SQLite
database, JSON text; opening.py) and asks the readers of that kind, in order, whether they
recognise it: a SQLite reader by the file's table names, a JSON reader by the decoded
document. The last JSON reader recognises every document, and says why one is not an export.
"""
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import claude_flow, mcp_turso, memorygraph_json, memorygraph_sqlite
from .incoming import finish
from .opening import UTF8_BOM, open_sqlite, parse_json, unzipped
from .refusals import ImportRefused


@dataclass(frozen=True)
class Reader:
    """``name`` says the source in messages. ``opens`` is "sqlite" or "json": a SQLite reader's
    ``recognises(table names)`` and ``read(connection)`` (read-only, rows as sqlite3.Row); a JSON
    reader's ``recognises(document)`` and ``read(document)``. ``read`` returns Incoming, or raises
    ImportRefused for a file it cannot import at all."""
    name: str
    opens: str
    recognises: Callable
    read: Callable


READERS = [
    Reader("memorygraph", "sqlite", memorygraph_sqlite.recognises, memorygraph_sqlite.read),
    Reader("claude-flow", "sqlite", claude_flow.recognises, claude_flow.read),
    Reader("mcp-turso", "sqlite", mcp_turso.recognises, mcp_turso.read),
    Reader("memorygraph JSON export", "json", memorygraph_json.recognises, memorygraph_json.read),
]


def read_path(path, *, max_bytes, scratch=None):
    """Read any supported file. A .zip holding one is unpacked with limits into a fresh file in
    `scratch` (a private directory; the system's temporary one when None), never at a path
    derived from the zip's or its member's name."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(b"PK\x03\x04"):
        with unzipped(path, max_bytes, scratch) as (member, member_head):
            return _read_unpacked(member, member_head)
    return _read_unpacked(path, head)


def _read_unpacked(path, head):
    if head.startswith(b"SQLite format 3\x00"):
        return _read_sqlite(path)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused("The file is UTF-16 text, not UTF-8: save the JSON export as UTF-8.")
    text = head.removeprefix(UTF8_BOM).lstrip()
    scalar = text[:1] in (b'"', b"-") or text[:1].isdigit() or text.rstrip() in (b"true", b"false", b"null")
    if text[:1] in (b"{", b"[") or scalar:  # a scalar is JSON too, and gets told it is not an export
        document = parse_json(path.read_bytes())
        reader = next(r for r in READERS if r.opens == "json" and r.recognises(document))
        return finish(reader.read(document))
    raise ImportRefused("This is neither a SQLite database, a JSON export nor a zip file "
                        "(a corrupt or unrelated file?).")


def _read_sqlite(path):
    conn, tables = open_sqlite(path)
    try:
        readers = [r for r in READERS if r.opens == "sqlite"]
        reader = next((r for r in readers if r.recognises(tables)), None)
        if reader is None:
            names = ", ".join(r.name for r in readers[:-1]) + f" or {readers[-1].name}"
            found = ", ".join(sorted(t for t in tables if not t.startswith("sqlite_"))) or "no tables at all"
            raise ImportRefused(f"Not a {names} database: found {found}.")
        return finish(reader.read(conn))
    except sqlite3.DatabaseError as exc:
        raise ImportRefused(f"The database could not be read: {exc}.") from exc
    finally:
        conn.close()
