"""A small per-process cache of read-model query results, valid until the read model changes.

Counting facets over tens of thousands of matches, or ranking a very common word, costs
100-250 ms at 100,000 memories; browsing repeats the same counts over and over. Every
read-model write stamps ``meta.changed_at``, which is part of each key, so an entry can
never outlive the data it was computed from.
"""
import threading
from collections import OrderedDict

MAX_ENTRIES = 512

_entries = OrderedDict()
_lock = threading.Lock()


def cached(rm, key, compute):
    """compute() once per (read model, its current change stamp, key)."""
    full_key = (rm.path, rm.changed_at(), key)
    with _lock:
        if full_key in _entries:
            _entries.move_to_end(full_key)
            return _entries[full_key]
    value = compute()
    with _lock:
        _entries[full_key] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear():
    with _lock:
        _entries.clear()
