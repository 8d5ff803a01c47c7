"""What an import refuses: a whole file (``ImportRefused``) or one row of it (``RowRefused``)."""
from ...errors import KBError


class ImportRefused(KBError):
    """The file as a whole cannot be imported; the message says why, for a person."""


class RowRefused(KBError):
    """One row cannot be imported; the message says why, and the rest of the file goes on."""


def shown(value):
    """``value`` as a message quotes it: its repr, cut to 60 characters (files hold any text)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
