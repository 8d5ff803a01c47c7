"""A small per-process cache of read-model query results, valid until the read model changes.

Counting facets over tens of thousands of matches, or ranking a very common word, costs
100-250 ms at 100,000 memories; browsing repeats the same counts over and over. Every
read-model write stamps ``meta.changed_at``, which is part of each key, so an entry can
never outlive the data it was computed from.

Bounded in bytes, not only in entries (issue 11: web workers' RSS): while agents write, the
stamp moves every few seconds, and a graph view's entry is a megabyte or more, so 512 entries
of old stamps could hold hundreds of MB that no request can hit again. Entries of a read
model's older stamps are dropped as soon as a newer stamp is seen, and the least recently
used go while the estimated size of all entries is over ``KB_CACHE_MB``.
"""
import sys
import threading
from collections import OrderedDict
from itertools import islice

from django.conf import settings

MAX_ENTRIES = 512

_entries = OrderedDict()  # (path, stamp, key) -> (value, estimated bytes)
_newest = {}  # path -> the newest stamp seen, as a sortable number
_flights = {}  # (path, stamp, key) -> _Flight, while one thread computes it
_lock = threading.Lock()
_bytes = 0


def max_bytes():
    return int(settings.KB_CACHE_MB * 1024 * 1024)


def _order(stamp):
    """Stamps are time_ns() as text; one that is not (a read model never written) sorts first."""
    return int(stamp) if isinstance(stamp, str) and stamp.isdigit() else -1


class _Flight:
    """One computation of a key in progress, which other threads of the process wait for."""

    def __init__(self):
        self.done = threading.Event()
        self.ok, self.value = False, None


def cached(rm, key, compute):
    """compute() once per (read model, its current change stamp, key). Threads asking for a key
    being computed wait for that computation (single flight) rather than repeat it: after a write
    the overview misses in every thread that asks for it (100 ms of CPU at 100,000 memories, with
    the machine's two cores shared by up to 8 threads); should it fail, each computes its own."""
    stamp = rm.changed_at()
    return _single_flight((rm.path, stamp, key), compute,
                          lambda full_key, value: _keep(rm.path, stamp, full_key, value))


def cached_by(rm, key, token, compute):
    """compute() once per (read model, key, token), whatever writes came since: for a value
    derived from less than the whole read model, ``token`` says what it was derived from (the
    overview: the stored ranks' computation and its memories' versions), so a write elsewhere
    does not throw it away. Only the newest token of each key is kept."""
    scope = ("by", rm.path)
    return _single_flight((scope, key, token), compute,
                          lambda full_key, value: _keep_by(scope, key, full_key, value))


def _single_flight(full_key, compute, keep):
    with _lock:
        if full_key in _entries:
            _entries.move_to_end(full_key)
            return _entries[full_key][0]
        flight = _flights.get(full_key)
        owner = flight is None
        if owner:
            flight = _flights[full_key] = _Flight()
    if not owner:
        flight.done.wait()
        return flight.value if flight.ok else compute()
    try:
        value = compute()
        flight.ok, flight.value = True, value
        keep(full_key, value)
    finally:
        # Kept first, then let go: a thread asking meanwhile finds the flight or the entry.
        with _lock:
            _flights.pop(full_key, None)
        flight.done.set()
    return value


def _keep_by(scope, key, full_key, value):
    size = approx_size(value)
    with _lock:
        _drop(lambda k: k[0] == scope and k[1] == key and k != full_key)
        if size <= max_bytes():
            _store(full_key, value, size)


def _keep(path, stamp, full_key, value):
    size = approx_size(value)
    with _lock:
        order = _order(stamp)
        newest = _newest.get(path)
        if newest is not None and order < newest:
            return  # computed from data already replaced: nobody will ask for it again
        if newest is None or order > newest:
            _newest[path] = order
            _drop(lambda k: k[0] == path and k[1] != stamp)
        if size <= max_bytes():
            _store(full_key, value, size)


def _store(full_key, value, size):
    global _bytes
    old = _entries.pop(full_key, None)
    if old is not None:
        _bytes -= old[1]
    _entries[full_key] = (value, size)
    _bytes += size
    while _entries and (len(_entries) > MAX_ENTRIES or _bytes > max_bytes()):
        _bytes -= _entries.popitem(last=False)[1][1]


def _drop(stale):
    global _bytes
    for k in [k for k in _entries if stale(k)]:
        _bytes -= _entries.pop(k)[1]


# Containers of more items than this are estimated from a spread sample of them (every k-th),
# scaled by their length (issue 11: the exact walk of the 300-node overview's entry cost 11 ms,
# 34 ms with its rendered parts, a 1,000-node one's 64 ms; sampled: 1.1, 3.4 and 2.6 ms). An object
# reached from two sampled containers counts once per sample it is in, so views whose parts
# share objects (a graph's edges are in two adjacency maps) are over-estimated: the 300-node
# overview 2.1 MB against 0.9 MB walked exactly, a 2-hop 0.58 against 0.48, an unsolved view
# 0.34 against 0.34. Over, never under: the cache then holds less, not more, than KB_CACHE_MB.
SAMPLE = 16


def approx_size(value, limit=1_000_000, sample=SAMPLE):
    """Estimated bytes held by value and what it refers to (containers, objects' attributes),
    each object counted once; a walk of at most ``limit`` objects, where a container of more
    than ``sample`` items is walked through a spread sample of them, scaled by its length.
    Only on a miss: 1.1 ms for the 300-node overview's entry."""
    seen, stack, total = set(), [(value, 1.0)], 0.0
    while stack and len(seen) < limit:
        obj, weight = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        total += weight * sys.getsizeof(obj)
        if isinstance(obj, (str, bytes, int, float, bool)) or obj is None:
            continue
        if isinstance(obj, dict):
            items, pairs = obj.items(), True
        elif isinstance(obj, (list, tuple, set, frozenset)):
            items, pairs = obj, False
        else:
            attributes = getattr(obj, "__dict__", None)
            if isinstance(attributes, dict):
                stack.append((attributes, weight))
            for name in getattr(type(obj), "__slots__", ()):
                if hasattr(obj, name):
                    stack.append((getattr(obj, name), weight))
            continue
        count = len(items)
        step = -(-count // sample) if count > sample else 1
        share = weight * count / -(-count // step) if count else weight
        for item in islice(items, 0, None, step):
            if pairs:
                stack.append((item[0], share))
                stack.append((item[1], share))
            else:
                stack.append((item, share))
    return int(total)


def stats():
    """(entries, estimated bytes) now held."""
    with _lock:
        return len(_entries), _bytes


def clear():
    global _bytes
    with _lock:
        _entries.clear()
        _newest.clear()
        _bytes = 0
