"""What a row's values must be to be imported, and the conversions of a neighbouring store's values.

A value is refused (``RowRefused``, naming it) rather than stored when another program would
fail on it later: a time no calendar holds, JSON nested deeper than ``MAX_NESTING``, text that
is no Unicode, a blob where text belongs.
"""
import json
import re
from datetime import UTC, datetime

from ...store.rows import parse_time
from .refusals import RowRefused, shown

# Arrays and objects within arrays and objects: memorygraph's own exports nest five levels. Much deeper
# values would exhaust the stack wherever they are serialised or decoded again (pages, exports).
MAX_NESTING = 32


def iso(value, fallback=None, *, name="time"):
    """ISO 8601 with offset from ISO text, epoch seconds or epoch milliseconds. A number no
    calendar holds (1e20, NaN, 10**400, true) raises RowRefused naming the field `name`."""
    if value in (None, ""):
        return fallback
    if isinstance(value, bool):
        raise RowRefused(f"{name} {shown(value)} is not a time")
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
        try:
            number = float(value)
            if number > 1e11:
                number /= 1000
            return datetime.fromtimestamp(number, tz=UTC).isoformat()
        except (OverflowError, ValueError, OSError):
            raise RowRefused(f"{name} {shown(value)} is not a time (out of range)") from None
    parsed = parse_time(str(value).replace(" ", "T", 1))
    if parsed is None:
        return fallback
    try:  # the columns hold UTC: year 1 at +05:00 or year 9999 at -05:00 has none
        parsed.astimezone(UTC)
    except OverflowError:
        raise RowRefused(f"{name} {shown(value)} is not a time (out of range)") from None
    return parsed.isoformat()


def times(values):
    """A neighbouring store's created_at and updated_at (which defaults to created_at)."""
    created = iso(values.get("created_at"), name="created_at")
    return created, iso(values.get("updated_at"), created, name="updated_at")


def json_problem(value):
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


def text_problem(text):
    """``json_problem`` for a JSON text as stored: a text holding at most MAX_NESTING brackets
    cannot nest deeper (every level, decoded strings' too, opens with one), and one without a
    surrogate escape decodes to no lone surrogate; only other texts are decoded and walked
    (the walk was 45% of reading a memorygraph file)."""
    if (isinstance(text, str) and text.count("[") + text.count("{") <= MAX_NESTING
            and not _SURROGATE_ESCAPE.search(text) and (text.isascii() or _encodes(text))):
        return None
    return json_problem(text)


def _encodes(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# A neighbouring store's values (claude-flow, mcp-turso) --------------------------------------

def text_column(values, column):
    """A text column of a neighbouring store (SQLite lets any column hold a blob)."""
    value = values.get(column)
    if isinstance(value, bytes):
        raise RowRefused(f"{column} is binary data, not text")
    return value


def json_object(text):
    """A metadata column as a dict: a JSON object as it is, any other value under ``metadata``."""
    if isinstance(text, bytes):
        raise RowRefused("its metadata is binary data, not text")
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except RecursionError:
        raise RowRefused("its metadata is nested too deeply") from None
    except ValueError:
        return {"metadata": text}
    if problem := json_problem(value):
        raise RowRefused(f"its metadata {problem}")
    return value if isinstance(value, dict) else ({} if value is None else {"metadata": value})


def texts(value):
    """A list's items as strings; anything but a list gives none."""
    return [str(v) for v in value] if isinstance(value, list) else []
