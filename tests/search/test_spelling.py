"""Typo suggestions (memories/search/spelling): the rules, and the read model's vocabulary table that web
workers read one letter of and the worker keeps (issue 11: no thread, no copy in a web process)."""
import threading
import time

import pytest

from memories import services
from memories.search.engine import memory_search
from memories.search.spelling import closest, vocabulary
from memories.search.spelling import sql as vocab_sql
from memories.search.spelling.suggest import _following, _terms_starting_with, best_term
from memories.search.spelling.upkeep import debounce, vocabulary_refresh
from memories.selectors import Filters
from memories.store import schema
from memories.store.registry import handle_for
from memories.worker.threads import AnalyticsThread

pytestmark = pytest.mark.django_db

# Of every length the size window (suggest.sizes) treats apart: 3-5 letters (one edit), longer.
WORDS = ("kubernet", "postgre", "deploi", "migrat", "celeri", "redsi", "zzzzzz", "kuberntes", "conection",
         "pdo", "rdis", "celry", "enviromnents", "authentcation", "qeue", "dockre", "sqllite")


def test_best_term_limits_ties_and_stems():
    rows = [("settle", 9), ("setting", 5), ("sitting", 50)]
    assert best_term("settigns", rows) == "setting"  # a swap of neighbours is one edit
    assert best_term("qqqqqqqq", rows) is None
    assert best_term("cat", [("cab", 1), ("car", 7), ("cult", 90)]) == "car"  # 1 edit, most documents
    assert best_term("cats", [("cars", 1)]) == "cars" and best_term("cats", [("cbrs", 1)]) is None
    # A stem ("environ") against the start of an unstemmed misspelt word, at one edit more.
    assert best_term("enviromnents", [("environ", 3), ("envoy", 80)]) == "environ"


def make(handle, user, title, content="Body."):
    return services.memory_create(handle=handle, actor=user, fields={
        "type": "general", "title": title, "content": content, "tags": []})


def scanned(rm, word):
    """What the former loop over the index answered: the reference for the table's answers."""
    return best_term(word, rm.conn.execute(*_terms_starting_with(word[0], _following(word[0]))).fetchall())


def table_rows(rm):
    return [tuple(r) for r in rm.conn.execute(vocab_sql.TABLE_ALL)]


def index_rows(rm):
    return [tuple(r) for r in rm.conn.execute(vocab_sql.INDEX_ALL)]


def test_a_rebuild_fills_the_table_exactly_and_it_answers_as_the_scan_does(handle):
    rm = handle.readmodel
    assert table_rows(rm) == index_rows(rm) and len(table_rows(rm)) > 100
    candidates, exact = vocabulary.starting_with(rm.conn, "k", "l")
    assert exact and candidates.terms == [t for t, _ in index_rows(rm) if t.startswith("k")]
    assert vocabulary_refresh(rm, force=True) is None, "current: nothing to do"
    for word in WORDS:
        assert closest(rm, word) == scanned(rm, word), word
    found = memory_search(rm=rm, text="kuberntes", filters=Filters(), facets=False)
    assert found["corrected"] == "kubernetes"


def test_after_a_write_the_stale_table_still_finds_the_new_word_and_the_refresh_writes_only_it(handle, user):
    rm = handle.readmodel
    before = dict(table_rows(rm))
    make(handle, user, "The zorgquasar cluster")
    assert vocabulary.starting_with(rm.conn, "z", "{")[1] is False  # behind the read model
    # The table has no term close to it, so the index is scanned.
    result = memory_search(rm=rm, text="zorgqasar", filters=Filters(), facets=False)
    assert result["corrected"] == "zorgquasar" and result["page_data"].total == 1
    done = vocabulary_refresh(rm, force=True)
    assert table_rows(rm) == index_rows(rm) and vocabulary.starting_with(rm.conn, "z", "{")[1] is True
    changed = {t for t, d in table_rows(rm) if before.get(t) != d}
    assert "zorgquasar" in changed and done["written"] == len(changed) < 20


def test_a_deleted_memory_takes_its_only_terms_out_of_the_table(handle, user):
    rm = handle.readmodel
    memory = make(handle, user, "Quixotrelle only here")
    vocabulary_refresh(rm, force=True)
    assert "quixotrel" in dict(table_rows(rm))
    services.memory_delete(handle=handle, actor=user, memory_id=memory)
    vocabulary_refresh(rm, force=True)
    assert "quixotrel" not in dict(table_rows(rm)) and table_rows(rm) == index_rows(rm)


def test_a_table_never_filled_or_long_stale_is_not_read_and_the_index_answers(handle, user):
    rm = handle.readmodel
    make(handle, user, "Something new")
    later = time.time_ns() + int((vocabulary.STALE_S + 1) * 1e9)
    assert vocabulary.starting_with(rm.conn, "k", "l", now_ns=later) == (None, False)  # no worker ran
    rm.conn.execute("DELETE FROM meta WHERE key = ?", (schema.VOCAB_GENERATION,))
    rm.conn.execute("DELETE FROM term_vocab")
    assert vocabulary.starting_with(rm.conn, "k", "l") == (None, False)
    for word in WORDS:
        assert closest(rm, word) == scanned(rm, word), word
    assert vocabulary_refresh(rm)["terms"] == len(index_rows(rm))  # the worker fills it from scratch
    assert table_rows(rm) == index_rows(rm)


def test_the_refresh_is_debounced_while_writes_keep_coming(handle, user):
    rm = handle.readmodel
    make(handle, user, "First write")
    now = time.time()
    assert vocabulary_refresh(rm, now=now) is not None
    make(handle, user, "Second write")
    assert vocabulary_refresh(rm, now=now + 0.1) is None, "within the debounce"
    seconds = float(vocabulary.state(rm.conn)[schema.VOCAB_SECONDS])
    assert vocabulary_refresh(rm, now=now + debounce(seconds) + 0.01) is not None


@pytest.mark.django_db(transaction=True)
def test_the_worker_thread_keeps_the_table(handle, user):
    client_db = handle.client
    make(handle, user, "Written while the worker runs: vorpalgrix")
    stop = threading.Event()
    thread = AnalyticsThread(stop, client_db.slug)
    thread.start()
    try:
        rm = handle_for(client_db).readmodel
        deadline = time.monotonic() + 30
        while not vocabulary.starting_with(rm.conn, "v", "w")[1] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "vorpalgrix" in vocabulary.starting_with(rm.conn, "v", "w")[0].terms
    finally:
        stop.set()
        thread.join(timeout=30)


def test_a_search_with_a_typo_in_a_web_process_starts_no_thread(web, handle, user):
    make(handle, user, "The zorgquasar cluster")  # the table is behind: the index is scanned
    before = set(threading.enumerate())
    for q in ("kuberntes", "zorgqasar", "postgers deploi", "s*"):
        response = web.get("/c/acme/search/", {"q": q})
        assert response.status_code == 200, q
        assert set(threading.enumerate()) == before, q
    assert b"zorgquasar" in web.get("/c/acme/search/", {"q": "zorgqasar"}).content
