"""Read memories from files teams hold, and plan and apply their import into a client database.

Readers turn a file into memorygraph rows (``NodeRow`` / ``EdgeRow``, exactly what the
memorygraph server would store) plus the rows refused, each with a reason:

- a memorygraph SQLite file, any version (no temporal columns, half-migrated, full);
- a memorygraph JSON export, format 1.0 or 2.0 (timestamps kept, unlike its own importer);
- claude-flow's `.swarm/memory.db` (`memory_entries`, v2 and v3);
- an mcp-turso `knowledge_base` table.

Mappings from the neighbouring stores (see the README): ids become uuid5s of the source's
own keys, so importing the same file again updates rather than duplicates; namespaces and
categories become tags; what has no memorygraph field goes to `context_additional_metadata`.

``plan`` compares the rows with a client database (new, changed, identical, older than
ours, invalid) without writing; ``apply`` writes the new and newer rows in chunks, each
an upsert by id, so an interrupted import is completed by running it again.
"""
import json
import lzma
import os
import re
import sqlite3
import tempfile
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ...store import sql
from ...store.copies import EdgeRow, NodeRow
from ...store.rows import column_now, column_time, parse_time
from ...format import (
    MEMORY_TYPES, FormatError, memory_properties, normalise_tags, relationship_properties, validate_memory,
)
from ..sides import EDGE, NODE, Writes, row_problem, row_stamp, same_row

NAMESPACE = uuid.UUID("6f1f9d1c-5b7e-4c55-9a53-3e0f3c1b8a10")
MAX_ZIP_RATIO = 100
INVALID_SHOWN = 200
# Arrays and objects within arrays and objects: memorygraph's own exports nest five levels. Much deeper
# values would exhaust the stack wherever they are serialised or decoded again (pages, exports).
MAX_NESTING = 32
SHOWN_CHARS = 300  # of a row's reference or reason kept in the preview
JSON_INT_DIGITS = 4300  # Python's own default limit for turning digits into an int


class ImportRefused(Exception):
    """The file as a whole cannot be imported; the message says why, for a person."""


class RowRefused(Exception):
    """One row cannot be imported; the message says why, and the rest of the file goes on."""


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


@dataclass
class Incoming:
    source: str
    nodes: dict = field(default_factory=dict)
    edges: dict = field(default_factory=dict)
    invalid: list = field(default_factory=list)  # (what, reason)


def stable_id(*parts):
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(str(p) for p in parts)))


def _iso(value, fallback=None, *, name="time"):
    """ISO 8601 with offset from ISO text, epoch seconds or epoch milliseconds. A number no
    calendar holds (1e20, NaN, 10**400, true) raises RowRefused naming the field `name`."""
    if value in (None, ""):
        return fallback
    if isinstance(value, bool):
        raise RowRefused(f"{name} {_short(value)} is not a time")
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
        try:
            number = float(value)
            if number > 1e11:
                number /= 1000
            return datetime.fromtimestamp(number, tz=timezone.utc).isoformat()
        except (OverflowError, ValueError, OSError):
            raise RowRefused(f"{name} {_short(value)} is not a time (out of range)") from None
    parsed = parse_time(str(value).replace(" ", "T", 1))
    if parsed is None:
        return fallback
    try:  # the columns hold UTC: year 1 at +05:00 or year 9999 at -05:00 has none
        parsed.astimezone(timezone.utc)
    except OverflowError:
        raise RowRefused(f"{name} {_short(value)} is not a time (out of range)") from None
    return parsed.isoformat()


def _times(values):
    """A neighbouring store's created_at and updated_at (which defaults to created_at)."""
    created = _iso(values.get("created_at"), name="created_at")
    return created, _iso(values.get("updated_at"), created, name="updated_at")


def _json_problem(value):
    """Why a decoded JSON value cannot be stored safely ("is nested …"), or None: nesting deeper than
    MAX_NESTING (strings that readers decode, those starting with [ or {, count too), or
    text that is no Unicode (a lone surrogate from a \\ud800 escape cannot be encoded)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return "holds text that is not a character (a lone surrogate escape such as \\ud800)"
            if item[:1] in ("[", "{"):
                try:
                    stack.append((json.loads(item), depth))
                except RecursionError:
                    return "is nested too deeply"
                except ValueError:
                    pass
        elif isinstance(item, (dict, list)):
            if depth >= MAX_NESTING:
                return f"is nested too deeply (more than {MAX_NESTING} levels)"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


# A \u escape that could decode to a lone surrogate (\ud800-\udfff); a false alarm only costs the full walk.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _text_problem(text):
    """``_json_problem`` for a JSON text as stored: a text holding at most MAX_NESTING brackets
    cannot nest deeper (every level, decoded strings' too, opens with one), and one without a
    surrogate escape decodes to no lone surrogate; only other texts are decoded and walked
    (the walk was 45% of reading a memorygraph file)."""
    if (isinstance(text, str) and text.count("[") + text.count("{") <= MAX_NESTING
            and not _SURROGATE_ESCAPE.search(text) and (text.isascii() or _encodes(text))):
        return None
    return _json_problem(text)


def _encodes(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _node_from_fields(incoming, ref, fields, *, created=None, updated=None, extra=None):
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
    _add_node(incoming, ref, NodeRow(props["id"], json.dumps(props),
                                     column_time(props["created_at"]) or column_now(),
                                     column_time(props["updated_at"]) or column_now()))


def _add_node(incoming, ref, row, props=None):
    """Rows memorygraph would refuse are refused; so are duplicate ids with different
    contents, all of them: which one is right is unknown. ``props``: the row's properties
    decoded already (decoding a memory's JSON again cost a tenth of reading a file)."""
    if problem := _text_problem(row.properties):
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


def _finish(incoming):
    incoming.nodes = {k: v for k, v in incoming.nodes.items() if v is not None}
    kept = {}
    for key, row in incoming.edges.items():
        if problem := row_problem(EDGE, row):
            incoming.invalid.append((f"relationship {key}", problem))
        elif problem := _text_problem(row.properties):
            incoming.invalid.append((f"relationship {key}", f"its properties {problem}"))
        else:
            kept[key] = row
    incoming.edges = kept
    return incoming


# Opening an upload -----------------------------------------------------------------------

UTF8_BOM = b"\xef\xbb\xbf"
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError,
              NotImplementedError)


def read_path(path, *, max_bytes, scratch=None):
    """Read any supported file. A .zip holding one is unpacked with limits into a fresh file in
    `scratch` (a private directory; the system's temporary one when None), never at a path
    derived from the zip's or its member's name."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(b"PK\x03\x04"):
        return _read_zip(path, max_bytes, scratch)
    return _read_unpacked(path, head)


def _read_unpacked(path, head):
    if head.startswith(b"SQLite format 3\x00"):
        return read_sqlite(path)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused("The file is UTF-16 text, not UTF-8: save the JSON export as UTF-8.")
    text = head.removeprefix(UTF8_BOM).lstrip()
    scalar = text[:1] in (b'"', b"-") or text[:1].isdigit() or text.rstrip() in (b"true", b"false", b"null")
    if text[:1] in (b"{", b"[") or scalar:  # a scalar is JSON too, and gets told it is not an export
        return read_json(path.read_bytes())
    raise ImportRefused("This is neither a SQLite database, a JSON export nor a zip file "
                        "(a corrupt or unrelated file?).")


def _read_zip(path, max_bytes, scratch):
    """One memory.db or JSON export inside a zip; refuses zip bombs before unpacking."""
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
            return _read_unpacked(Path(target), head)
        finally:
            os.unlink(target)


def _check_member(member, max_bytes):
    name = _short(member.filename)
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
    name, head, written = _short(member.filename), b"", 0
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


# memorygraph SQLite files and neighbouring SQLite stores -----------------------------------

def read_sqlite(path):
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        tables = {r[0] for r in conn.execute(sql.IMPORT_TABLES)}
    except sqlite3.DatabaseError as exc:
        raise ImportRefused(f"The file is not a readable SQLite database: {exc}.") from exc
    try:
        if {"nodes", "relationships"} <= tables:
            return _finish(_read_memorygraph(conn))
        if "memory_entries" in tables:
            return _finish(_read_claude_flow(conn))
        if "knowledge_base" in tables:
            return _finish(_read_mcp_turso(conn))
        found = ", ".join(sorted(t for t in tables if not t.startswith("sqlite_"))) or "no tables at all"
        raise ImportRefused(f"Not a memorygraph, claude-flow or mcp-turso database: found {found}.")
    except sqlite3.DatabaseError as exc:
        raise ImportRefused(f"The database could not be read: {exc}.") from exc
    finally:
        conn.close()


def _columns(conn, table):
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _read_memorygraph(conn):
    node_columns = _columns(conn, "nodes")
    if not {"id", "label", "properties"} <= node_columns:
        raise ImportRefused(f"The `nodes` table has columns {', '.join(sorted(node_columns))}, not memorygraph's.")
    columns = _columns(conn, "relationships")
    version = "0.10+" if "valid_from" in columns else "0.10 (half-migrated)" if "valid_until" in columns else "0.9 or older"
    incoming = Incoming(f"memorygraph SQLite file ({version} shape)")
    for row in conn.execute(sql.IMPORT_NODES):
        ref = f"memory {row['id']}"
        try:
            props = json.loads(row["properties"])
            assert isinstance(props, dict)
        except RecursionError:
            incoming.invalid.append((ref, "its properties are nested too deeply"))
            continue
        except (ValueError, AssertionError):
            incoming.invalid.append((ref, "properties are not a JSON object"))
            continue
        ref = f"{ref} ({str(props.get('title'))[:60]})"  # checked with every other source's rows in _add_node
        created = row["created_at"] if "created_at" in node_columns else None
        updated = row["updated_at"] if "updated_at" in node_columns else None
        _add_node(incoming, ref, NodeRow(row["id"], row["properties"],
                                         created or column_time(props.get("created_at")) or column_now(),
                                         updated or column_time(props.get("updated_at")) or column_now()), props)
    # EdgeRow's fields straight from SQLite, NULL for those this shape lacks (as dict(row).get(f) of
    # a SELECT * read them): 300,000 rows made into dicts first cost 3 s of the read's 20.
    cursor = conn.cursor()
    cursor.row_factory = None
    for row in cursor.execute(sql.import_edges(EdgeRow._fields, columns)):
        incoming.edges[row[0]] = EdgeRow._make(row)
    return incoming


CLAUDE_FLOW_TYPES = {"pattern": "code_pattern", "code": "code_pattern", "error": "error", "task": "task",
                     "workflow": "workflow", "command": "command", "solution": "solution", "fix": "fix",
                     "problem": "problem", "decision": "general", "knowledge": "general"}


def _read_claude_flow(conn):
    columns = _columns(conn, "memory_entries")
    v3 = "content" in columns
    incoming = Incoming(f"claude-flow .swarm/memory.db ({'v3' if v3 else 'v2'})")
    now = datetime.now(timezone.utc).timestamp()
    for row in conn.execute(sql.IMPORT_CLAUDE_FLOW):
        values = dict(row)
        key, namespace = str(values.get("key") or values.get("id")), str(values.get("namespace") or "default")
        ref = f"claude-flow entry {namespace}/{key}"
        try:
            expired, metadata = _expired(values.get("expires_at"), now), _json_object(values.get("metadata"))
            created, updated = _times(values)
            content = _text(values, "content" if v3 else "value")
        except RowRefused as exc:
            incoming.invalid.append((ref, str(exc)))
            continue
        if expired:
            incoming.invalid.append((ref, "expired (its ttl has passed)"))
            continue
        if v3 and str(values.get("status") or "").lower() == "deleted":
            incoming.invalid.append((ref, "deleted in claude-flow"))
            continue
        kind = str(values.get("type") or "").lower()
        fields = {
            "id": stable_id("claude-flow", namespace, key),
            "type": kind if kind in MEMORY_TYPES else CLAUDE_FLOW_TYPES.get(kind, "general"),
            "title": key if len(key) <= 200 else key[:199] + "…",
            "content": content if isinstance(content, str) else json.dumps(content),
            "tags": ["claude-flow", namespace, *_list(metadata.get("tags"))],
        }
        extra = {"context_additional_metadata": json.dumps({"source": "claude-flow", "namespace": namespace,
                                                            **metadata})}
        _node_from_fields(incoming, ref, fields, created=created, updated=updated, extra=extra)
    return incoming


def _expired(value, now):
    """Whether a claude-flow expires_at (epoch seconds or milliseconds) has passed."""
    if not value:
        return False
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise RowRefused(f"expires_at {_short(value)} is not a time") from None
    if number != number:  # NaN
        raise RowRefused("expires_at NaN is not a time")
    return number / (1000 if number > 1e11 else 1) < now


def _text(values, column):
    """A text column of a neighbouring store (SQLite lets any column hold a blob)."""
    value = values.get(column)
    if isinstance(value, bytes):
        raise RowRefused(f"{column} is binary data, not text")
    return value


def _read_mcp_turso(conn):
    columns = _columns(conn, "knowledge_base")
    missing = {"id", "topic", "content"} - columns
    if missing:
        raise ImportRefused(f"The `knowledge_base` table lacks {', '.join(sorted(missing))}.")
    incoming = Incoming("mcp-turso knowledge_base")
    for row in conn.execute(sql.IMPORT_MCP_TURSO):
        values = dict(row)
        ref = f"knowledge_base row {values['id']}"
        try:
            category, metadata = _text(values, "category"), _json_object(values.get("metadata"))
            created, updated = _times(values)
            _text(values, "source")
        except RowRefused as exc:
            incoming.invalid.append((ref, str(exc)))
            continue
        if values.get("source"):
            metadata["source"] = values["source"]
        fields = {
            "id": stable_id("mcp-turso", values["id"]),
            "type": "general",
            "title": str(values.get("topic") or "")[:200],
            "content": str(values.get("content") or ""),
            "tags": ["mcp-turso", *([category] if category else []), *_tag_list(values.get("tags"))],
            "importance": _priority(values.get("priority")),
        }
        extra = {"context_additional_metadata": json.dumps({"source_store": "mcp-turso", **metadata})}
        _node_from_fields(incoming, ref, fields, created=created, updated=updated, extra=extra)
    return incoming


def _json_object(text):
    if isinstance(text, bytes):
        raise RowRefused("its metadata is binary data, not text")
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except RecursionError:
        raise RowRefused("its metadata is nested too deeply") from None
    except ValueError:
        return {"metadata": text}
    if problem := _json_problem(value):
        raise RowRefused(f"its metadata {problem}")
    return value if isinstance(value, dict) else ({} if value is None else {"metadata": value})


def _list(value):
    return [str(v) for v in value] if isinstance(value, list) else []


def _tag_list(value):
    if not value:
        return []
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            return _list(json.loads(value))
        except (ValueError, RecursionError):
            pass
    return [t.strip() for t in str(value).split(",") if t.strip()]


def _priority(value):
    """mcp-turso priorities (0..1, 1..5, 1..10, or words) as memorygraph importance."""
    words = {"critical": 0.9, "high": 0.8, "medium": 0.5, "normal": 0.5, "low": 0.3}
    if isinstance(value, str) and value.strip().lower() in words:
        return words[value.strip().lower()]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.5
    if 0 <= number <= 1:
        return number
    if number <= 5:
        return round((number - 1) / 4, 2)
    return round(min(number, 10) / 10, 2)


# memorygraph JSON exports --------------------------------------------------------------

JSON_CONTEXT = ("project_path", "files_involved", "languages", "frameworks", "technologies", "git_commit",
                "git_branch", "working_directory", "session_id", "user_id", "additional_metadata",
                "function_name", "class_name", "environment")


JSON_KINDS = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
              bool: "true or false", type(None): "null"}


def _parse_json(data):
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
    if problem := _json_problem(document):
        raise ImportRefused(f"The JSON {problem}.")
    return document


def _json_object_pairs(pairs):
    """Refuses a key given twice in one object: which value was meant is unknown."""
    document = dict(pairs)
    if len(document) != len(pairs):
        seen = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ImportRefused(f"The JSON has the key {_short(twice)} twice in one object; which value is meant "
                            "is unclear.")
    return document


def _json_int(digits):
    if len(digits.lstrip("-")) > JSON_INT_DIGITS:
        raise ImportRefused(f"The JSON holds a number with more than {JSON_INT_DIGITS:,} digits.")
    return int(digits)


def read_json(data):
    document = _parse_json(data)
    if not isinstance(document, dict):
        raise ImportRefused(f"Not a memorygraph export: the JSON is {JSON_KINDS[type(document)]}, not an "
                            "object with `memories` and `relationships` lists.")
    missing = [k for k in ("memories", "relationships") if not isinstance(document.get(k), list)]
    if missing:
        raise ImportRefused(f"Not a memorygraph export: the JSON has no {' or '.join(missing)} list.")
    version = document.get("format_version") or document.get("export_version")
    if not version:
        raise ImportRefused("Not a memorygraph export: no format_version or export_version.")
    incoming = Incoming(f"memorygraph JSON export (format {version})")
    for index, memory in enumerate(document["memories"]):
        if not isinstance(memory, dict):
            incoming.invalid.append((f"memories[{index}]", "not an object"))
            continue
        ref = f"memories[{index}] {memory.get('id', '')}".strip()
        lacking = [k for k in ("id", "type", "title", "content") if not memory.get(k)]
        if lacking:
            incoming.invalid.append((ref, f"missing {', '.join(lacking)}"))
            continue
        wrong = [k for k in ("type", "title", "content", "summary") if memory.get(k) is not None
                 and not isinstance(memory[k], str)]
        if not isinstance(memory.get("tags", []), list) or not all(isinstance(t, str) for t in memory.get("tags") or []):
            wrong.append("tags (a list of strings)")
        for key in ("importance", "confidence"):
            value = memory.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                wrong.append(f"{key} (a number)")
        if wrong:
            incoming.invalid.append((ref, f"wrong kind of value for {', '.join(wrong)}"))
            continue
        fields = {k: memory.get(k) for k in ("id", "type", "title", "content", "summary", "tags")}
        for key in ("importance", "confidence"):
            if memory.get(key) is not None:
                fields[key] = memory[key]
        extra = {}
        if not isinstance(memory.get("context") or {}, dict):
            incoming.invalid.append((ref, "context must be an object"))
            continue
        for key, value in (memory.get("context") or {}).items():
            if key in JSON_CONTEXT and value not in (None, "", []):
                extra[f"context_{key}"] = json.dumps(value) if isinstance(value, dict) else value
        try:
            created, updated = _times(memory)
        except RowRefused as exc:
            incoming.invalid.append((ref, str(exc)))
            continue
        _node_from_fields(incoming, ref, {**fields, "id": str(fields["id"])}, created=created,
                          updated=updated, extra=extra)
    for index, rel in enumerate(document["relationships"]):
        ref = f"relationships[{index}]"
        if not isinstance(rel, dict) or not all(rel.get(k) for k in ("from_memory_id", "to_memory_id", "type")):
            incoming.invalid.append((ref, "missing from_memory_id, to_memory_id or type"))
            continue
        props_in = rel.get("properties") or {}
        if not isinstance(props_in, dict):
            incoming.invalid.append((ref, "properties must be an object"))
            continue
        rel_id = stable_id("memorygraph-json", rel["from_memory_id"], rel["to_memory_id"], rel["type"])
        try:
            props = relationship_properties(rel_id=rel_id, strength=float(props_in.get("strength", 0.5)),
                                            confidence=float(props_in.get("confidence", 0.8)),
                                            context=props_in.get("context"), temporal=True)
        except (TypeError, ValueError, OverflowError):
            incoming.invalid.append((ref, "strength and confidence must be numbers"))
            continue
        props["evidence_count"] = props_in.get("evidence_count", 1)
        created = column_time(props["created_at"]) or column_now()
        incoming.edges[rel_id] = EdgeRow(rel_id, str(rel["from_memory_id"]), str(rel["to_memory_id"]),
                                         str(rel["type"]), json.dumps(props), created, created, None, created, None)
    return _finish(incoming)


# Planning and applying -----------------------------------------------------------------------

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
        ours = current.get(key)
        if ours is None:
            counts["new"] += 1
            writes.nodes.append(row)
        elif same_row(ours, row):
            counts["identical"] += 1
        elif row_stamp(NODE, row) > row_stamp(NODE, ours):
            counts["changed"] += 1
            writes.nodes.append(row)
        else:
            counts["older"] += 1
    known = set(incoming.nodes) | set(side.versions(NODE))
    current = side.rows(EDGE, incoming.edges.keys())
    for key, row in incoming.edges.items():
        if row.from_id not in known or row.to_id not in known:
            invalid.append((f"relationship {key}", "one of its memories is neither in the file nor in the database"))
            counts["invalid"] += 1
            continue
        ours = current.get(key)
        if ours is None:
            counts["relationships_new"] += 1
            writes.edges.append(row)
        elif same_row(ours, row):
            counts["relationships_identical"] += 1
        else:
            counts["relationships_changed"] += 1
            writes.edges.append(row)
    return Plan(incoming.source, counts, invalid, writes)


def apply(plan_, side, progress=None):
    """Write the plan's rows in chunks (each an upsert by id: running it again completes it)."""
    side.apply(plan_.writes, progress)
    return {"memories": len(plan_.writes.nodes), "relationships": len(plan_.writes.edges)}
