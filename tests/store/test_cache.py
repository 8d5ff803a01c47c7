"""memories/store/cache.py: results are kept per read-model stamp, bounded in entries and in bytes."""
import threading
import time

from memories.store import cache, schema
from memories.store.readmodel import ReadModel


def _rm(path):
    rm = ReadModel(path)
    for statement in schema.statements(schema.READ_MODEL_TABLES):
        rm.conn.execute(statement)
    return rm


def _write(rm):
    with rm.write():
        pass  # stamps meta.changed_at, as every read-model write does


def _calls():
    made = []

    def compute(value):
        def run():
            made.append(value)
            return value
        return run
    return made, compute


def test_a_result_is_computed_once_per_stamp(tmp_path):
    rm = _rm(tmp_path / "rm.sqlite3")
    _write(rm)
    made, compute = _calls()
    assert cache.cached(rm, "k", compute("a")) == "a"
    assert cache.cached(rm, "k", compute("b")) == "a"
    _write(rm)
    assert cache.cached(rm, "k", compute("c")) == "c"
    assert made == ["a", "c"]


def test_a_newer_stamp_drops_the_older_stamps_entries(tmp_path):
    rm, other = _rm(tmp_path / "rm.sqlite3"), _rm(tmp_path / "other.sqlite3")
    _write(rm)
    _write(other)
    for key in range(5):
        cache.cached(rm, key, lambda: "x" * 1000)
    cache.cached(other, "kept", lambda: "y")
    assert cache.stats()[0] == 6
    _write(rm)
    cache.cached(rm, "new", lambda: "z")
    # What no request can hit again is gone; the other read model's entry stays.
    assert cache.stats()[0] == 2
    made, compute = _calls()
    cache.cached(other, "kept", compute("again"))
    assert made == []


def test_a_result_computed_from_replaced_data_is_returned_but_not_kept(tmp_path):
    rm = _rm(tmp_path / "rm.sqlite3")
    _write(rm)

    def slow():
        _write(rm)  # another thread's write lands while this result is computed ...
        cache.cached(rm, "theirs", lambda: "new")  # ... and a request caches at the new stamp
        return "old"

    assert cache.cached(rm, "mine", slow) == "old"
    assert cache.stats()[0] == 1
    made, compute = _calls()
    assert cache.cached(rm, "theirs", compute("x")) == "new" and made == []


def test_entries_are_bounded_in_bytes_least_recently_used_first(tmp_path, settings):
    settings.KB_CACHE_MB = 0.1  # 104,857 bytes
    rm = _rm(tmp_path / "rm.sqlite3")
    _write(rm)
    for key in range(10):
        cache.cached(rm, key, lambda: "x" * 20_000)
        cache.cached(rm, 0, lambda: "never")  # key 0 stays the most recently used
    entries, size = cache.stats()
    assert size <= cache.max_bytes() and entries == 5
    made, compute = _calls()
    assert cache.cached(rm, 0, compute("again")) == "x" * 20_000 and made == []
    assert cache.cached(rm, 1, compute("recomputed")) == "recomputed"
    # A value bigger than the whole budget is answered and never kept.
    big = cache.cached(rm, "big", lambda: "x" * 200_000)
    assert len(big) == 200_000 and cache.stats()[1] <= cache.max_bytes()
    assert cache.cached(rm, "big", compute("big again")) == "big again"


def test_sizes_count_what_a_value_refers_to():
    class View:
        def __init__(self):
            self.rows = [{"id": str(i), "title": "t" * 100} for i in range(100)]

    assert cache.approx_size(View()) > 100 * 100
    shared = "s" * 10_000
    assert cache.approx_size([shared, shared]) < 2 * 10_000  # each object once


def test_threads_asking_for_a_key_being_computed_wait_for_that_computation(tmp_path):
    rm = _rm(tmp_path / "rm.sqlite3")
    _write(rm)
    started, release, made = threading.Event(), threading.Event(), []

    def slow():
        made.append(1)
        started.set()
        release.wait(10)
        return ["the value"]

    results = []
    first = threading.Thread(target=lambda: results.append(cache.cached(rm, "k", slow)))
    first.start()
    assert started.wait(10)
    # Each thread has its own read-model connection, at the same stamp.
    others = [threading.Thread(target=lambda: results.append(cache.cached(ReadModel(rm.path), "k", slow)))
              for _ in range(3)]
    for thread in others:
        thread.start()
    time.sleep(0.2)  # they are waiting by now (a thread arriving later would find the entry)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert made == [1] and len(results) == 4 and all(r is results[0] for r in results)


def test_when_the_computation_fails_the_waiting_threads_compute_their_own(tmp_path):
    rm = _rm(tmp_path / "rm.sqlite3")
    _write(rm)
    started, release, errors, results = threading.Event(), threading.Event(), [], []

    def failing():
        started.set()
        release.wait(10)
        raise RuntimeError("no")

    def run():
        try:
            cache.cached(rm, "k", failing)
        except RuntimeError as exc:
            errors.append(exc)

    first = threading.Thread(target=run)
    first.start()
    assert started.wait(10)
    waiter = threading.Thread(
        target=lambda: results.append(cache.cached(ReadModel(rm.path), "k", lambda: "own")))
    waiter.start()
    time.sleep(0.2)  # it is waiting by now
    release.set()
    for thread in (first, waiter):
        thread.join(10)
    assert len(errors) == 1 and results == ["own"]
