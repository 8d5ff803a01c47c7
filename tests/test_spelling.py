"""Typo suggestions (memories/spelling): the rules, and the vocabulary kept in memory per read model."""
import time

import pytest

from memories import services
from memories.search import memory_search
from memories.selectors import Filters
from memories.spelling import closest, vocabulary
from memories.spelling.suggest import _following, _terms_starting_with, best_term

pytestmark = pytest.mark.django_db


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


def wait_for_list(rm, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        vocab, exact = vocabulary.current(rm)
        if exact:
            return vocab
        time.sleep(0.05)
    raise AssertionError("the vocabulary was not read in the background")


def test_the_kept_list_is_the_index_vocabulary_and_answers_as_the_scan_does(handle):
    rm = handle.readmodel
    vocabulary.forget(rm.path)
    assert vocabulary.current(rm) == (None, False)  # none yet: a background read starts
    vocab = wait_for_list(rm)
    assert vocab.terms == [r[0] for r in rm.conn.execute("SELECT term FROM memory_vocab")]
    for word in ("kubernet", "postgre", "deploi", "migrat", "celeri", "redsi", "zzzzzz"):
        query = _terms_starting_with(word[0], _following(word[0]))
        scanned = best_term(word, rm.conn.execute(*query).fetchall())
        assert closest(rm, word) == scanned


def test_a_list_read_before_a_write_still_finds_the_new_word(handle, user):
    rm = handle.readmodel
    vocabulary.forget(rm.path)
    vocabulary.load_now(rm)
    make(handle, user, "The zorgquasar cluster")
    vocab, exact = vocabulary.current(rm)
    assert vocab is not None and not exact
    # The kept list has no term close to it, so the index is scanned.
    result = memory_search(rm=rm, text="zorgqasar", filters=Filters(), facets=False)
    assert result["corrected"] == "zorgquasar" and result["page_data"].total == 1


def test_a_stale_list_is_read_again_after_reload_s(handle, user, monkeypatch):
    rm = handle.readmodel
    vocabulary.forget(rm.path)
    vocabulary.load_now(rm)
    make(handle, user, "Another title")
    monkeypatch.setattr(vocabulary, "RELOAD_S", 0)
    wait_for_list(rm)


def test_a_vocabulary_too_big_to_keep_is_scanned(handle, monkeypatch):
    rm = handle.readmodel
    vocabulary.forget(rm.path)
    monkeypatch.setattr(vocabulary, "MAX_TERMS", 3)
    assert vocabulary.load_now(rm) is None
    result = memory_search(rm=rm, text="kuberntes", filters=Filters(), facets=False)
    assert result["corrected"] == "kubernetes"
