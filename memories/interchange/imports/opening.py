"""Opening an uploaded file: a zip's one member unpacked with limits, a SQLite file read-only,
JSON text decoded. What cannot be opened safely is refused with ImportRefused, for a person."""
import json
import lzma
import os
import sqlite3
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

from .. import sql
from .checks import MAX_NESTING, json_problem
from .refusals import ImportRefused, shown

MAX_ZIP_RATIO = 100
JSON_INT_DIGITS = 4300  # Python's own default limit for turning digits into an int
UTF8_BOM = b"\xef\xbb\xbf"
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError,
              NotImplementedError)


# Zips -------------------------------------------------------------------------------------

@contextmanager
def unzipped(path, max_bytes, scratch):
    """The one file (a memory.db or JSON export) a zip holds, unpacked into a fresh file in `scratch`
    (a private directory; the system's temporary one when None), never at a path derived from the
    zip's or its member's name: yields (its path, its first bytes) and removes it afterwards.
    Refuses zip bombs before unpacking."""
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise ImportRefused(f"The zip file is damaged: {exc}.") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) != 1:
            raise ImportRefused(f"A zip upload must hold exactly one file (it holds {len(members)}).")
        member = members[0]
        _check_member(member, max_bytes)
        handle, target = tempfile.mkstemp(prefix="unzipped-", dir=scratch)
        try:
            with os.fdopen(handle, "wb") as out:
                head = _unpack(archive, member, out, max_bytes)
            yield Path(target), head
        finally:
            os.unlink(target)


def _check_member(member, max_bytes):
    name = shown(member.filename)
    if member.flag_bits & 0x1:
        raise ImportRefused(f"{name} is encrypted in the zip; zip it again without a password.")
    if member.file_size > max_bytes:
        raise ImportRefused(f"{name} unpacks to {member.file_size:,} bytes, over the {max_bytes:,}-byte "
                            "limit.")
    if member.compress_size and member.file_size / member.compress_size > MAX_ZIP_RATIO:
        raise ImportRefused(f"{name} is compressed {member.file_size // member.compress_size}:1, "
                            "which looks like a zip bomb; refused.")


def _unpack(archive, member, out, max_bytes):
    """Copy the member to `out`, at most `max_bytes` (headers can lie); returns its first bytes."""
    name, head, written = shown(member.filename), b"", 0
    try:
        with archive.open(member) as source:
            while chunk := source.read(1 << 20):
                if not written and chunk.startswith(b"PK\x03\x04"):
                    raise ImportRefused(f"{name} is itself a zip: a zip inside a zip is not supported "
                                        "(unpack it and upload the file it holds).")
                head = head or chunk[:16]
                written += len(chunk)
                if written > max_bytes:
                    raise ImportRefused(f"{name} unpacks to more than {max_bytes:,} bytes; refused.")
                out.write(chunk)
    except ZIP_ERRORS as exc:
        if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile) and exc.errno:
            raise  # the disk, not the zip
        raise ImportRefused(f"The zip file is damaged or uses a method not supported: {exc}.") from exc
    return head


# SQLite files -------------------------------------------------------------------------------

def open_sqlite(path):
    """(a read-only connection to the file, rows as sqlite3.Row; the names of its tables)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        tables = {r[0] for r in conn.execute(sql.IMPORT_TABLES)}
    except sqlite3.DatabaseError as exc:
        raise ImportRefused(f"The file is not a readable SQLite database: {exc}.") from exc
    return conn, tables


def columns(conn, table):
    """The names of a table's columns."""
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


# JSON text ----------------------------------------------------------------------------------

def parse_json(data):
    """The document in `data` (UTF-8, a byte order mark allowed), or ImportRefused saying what is wrong."""
    try:
        text = data.removeprefix(UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportRefused(f"The JSON is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                            f"{exc.start:,}): save it as UTF-8.") from None
    try:
        document = json.loads(text, object_pairs_hook=_json_object_pairs, parse_int=_json_int)
    except RecursionError:
        raise ImportRefused(f"The JSON is nested too deeply (an export nests at most {MAX_NESTING} "
                            "levels).") from None
    except ValueError as exc:
        raise ImportRefused(f"The JSON is not valid: {exc}.") from exc
    if problem := json_problem(document):
        raise ImportRefused(f"The JSON {problem}.")
    return document


def _json_object_pairs(pairs):
    """Refuses a key given twice in one object: which value was meant is unknown."""
    document = dict(pairs)
    if len(document) != len(pairs):
        seen = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ImportRefused(f"The JSON has the key {shown(twice)} twice in one object; which value is meant "
                            "is unclear.")
    return document


def _json_int(digits):
    if len(digits.lstrip("-")) > JSON_INT_DIGITS:
        raise ImportRefused(f"The JSON holds a number with more than {JSON_INT_DIGITS:,} digits.")
    return int(digits)
