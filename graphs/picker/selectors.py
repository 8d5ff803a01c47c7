"""Reads for the memory picker: our full-text search, then whole-word prefixes, then an id."""
from memories.search.engine import search_ids
from memories.search.query import parse_query, prefix_query
from memories.selectors import Filters

from .. import selectors

PICK_LIMIT = 8
# Fewer characters than this are not searched: a one-letter prefix ("s"*) merges the doclists of
# thousands of terms, 0.9-2.8 s at 100,000 memories; two letters cost about 0.1-0.2 s.
PICK_MIN_CHARS = 2
PICK_HINT = f"Type at least {PICK_MIN_CHARS} characters."


def too_short(text):
    """Typed, but too little to search for (the picker shows PICK_HINT instead of matches)."""
    return 0 < len((text or "").strip()) < PICK_MIN_CHARS


def _as_id(text):
    """A pasted memory page address names its id in its last segment."""
    return text.strip().rstrip("/").rsplit("/", 1)[-1]


def memory_pick(*, rm, text, limit=PICK_LIMIT):
    """Up to ``limit`` memories ({id, title, type}) for what someone typed, best first: an
    exact id (or a memory page's address), the search's own ranking, then prefix matches of
    the words (people type "redi" before they finish "redis")."""
    text = (text or "").strip()
    if len(text) < PICK_MIN_CHARS:
        return []
    ids = []
    for candidate in dict.fromkeys((text, _as_id(text))):
        if candidate and selectors.nodes_by_ids(rm=rm, ids=[candidate]):
            ids.append(candidate)
    parsed = parse_query(text)
    if parsed is not None:
        ids += search_ids(rm=rm, parsed=parsed, filters=Filters(), limit=limit)
        if len(dict.fromkeys(ids)) < limit and parsed.terms:
            # Only words of PICK_MIN_CHARS or more as prefixes ("redis s": not "s"*).
            prefixed = prefix_query([t for t in parsed.terms if len(t) >= PICK_MIN_CHARS])
            if prefixed is not None:
                ids += search_ids(rm=rm, parsed=prefixed, filters=Filters(), limit=limit)
    ids = list(dict.fromkeys(ids))[:limit]
    found = selectors.nodes_by_ids(rm=rm, ids=ids)
    return [{"id": n, "title": found[n]["title"], "type": found[n]["type"]}
            for n in ids if n in found]


def picker_field(*, rm, name, label, value):
    """What the picker partial shows for one field: the chosen memory (id and title), or,
    when ``value`` is words rather than an id (a form sent without JavaScript), the matches
    to choose from."""
    value = (value or "").strip()
    field = {"name": name, "label": label, "value": value, "title": "", "choices": None,
             "hint": PICK_HINT if too_short(value) else ""}
    if not value:
        return field
    found = selectors.nodes_by_ids(rm=rm, ids=[value])
    if found:
        field["title"] = found[value]["title"]
    else:
        field["choices"] = memory_pick(rm=rm, text=value)
    return field
