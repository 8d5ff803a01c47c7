"""Small helpers for rows as the stores hold them: times, chunks of ids, placeholders.

They live in the store room, the lowest, so every room above it (search, sync, interchange,
agents, graphs) can use the same ones. Nothing here touches a database.
"""
from datetime import UTC, datetime

# The canonical tables' CURRENT_TIMESTAMP text: UTC, to the second.
COLUMN_TIME = "%Y-%m-%d %H:%M:%S"


def parse_time(value):
    """An ISO 8601 text (``Z`` allowed for UTC) as an aware datetime, a naive time taken as UTC;
    None when ``value`` is not such a text (any other type included). Never raises."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def utc_iso(value, fallback=""):
    """An ISO time as ISO text in UTC, so that text order is time order; ``fallback`` when
    ``value`` is no ISO text. OverflowError for a time UTC cannot hold (year 1 at +05:00)."""
    parsed = parse_time(value)
    return fallback if parsed is None else parsed.astimezone(UTC).isoformat()


def column_time(value, fallback=None):
    """A value whose ``str()`` is an ISO time (a file's JSON may hold a number there) as the
    canonical tables' ``YYYY-MM-DD HH:MM:SS`` UTC text; ``fallback`` when it is not one.
    OverflowError for a time UTC cannot hold."""
    parsed = parse_time(str(value))
    return fallback if parsed is None else parsed.astimezone(UTC).strftime(COLUMN_TIME)


def column_now():
    """Now, as the canonical tables' CURRENT_TIMESTAMP writes it."""
    return datetime.now(UTC).strftime(COLUMN_TIME)


def chunks(items, size):
    """``items`` (any iterable) as lists of at most ``size``, in order: one statement each, under
    SQLite's limit of bound parameters."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def marks(count):
    """``count`` SQL placeholders, ``?,?,?``, for an ``IN ({marks})`` of that many values."""
    return ",".join("?" * count)
