"""The search seam: settings.KB_SEARCH_BACKEND picks the backend every search goes through."""
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from memories.search import engine
from memories.search.backends import base, fts
from memories.selectors import Filters
from tests.support.paths import ROOT


class SearchBackend(base.SearchBackend):
    """A backend that answers every search with nothing and records what it was asked."""

    asked = []

    def memory_search(self, **kwargs):
        self.asked.append(("memory_search", kwargs["text"]))
        return {"query": kwargs["text"], "page_data": None}

    def search_ids(self, **kwargs):
        self.asked.append(("search_ids", kwargs["limit"]))
        return []

    def ranked_rids(self, conn, parsed, filters, want, *, titles_first=True):
        self.asked.append(("ranked_rids", want))
        return []


def test_the_default_backend_is_fts5():
    assert isinstance(engine.backend(), fts.SearchBackend)


def test_every_search_goes_through_the_backend_the_setting_names():
    SearchBackend.asked.clear()
    with override_settings(KB_SEARCH_BACKEND=__name__):
        assert isinstance(engine.backend(), SearchBackend)
        engine.memory_search(rm=None, text="redis", filters=Filters())
        engine.search_ids(rm=None, parsed=None, filters=Filters(), limit=7)
        engine.ranked_rids(None, None, Filters(), 3)
    assert SearchBackend.asked == [("memory_search", "redis"), ("search_ids", 7), ("ranked_rids", 3)]


def test_the_contract_methods_must_be_implemented():
    bare = base.SearchBackend()
    with pytest.raises(NotImplementedError):
        bare.memory_search(rm=None, text="x", filters=Filters())
    with pytest.raises(NotImplementedError):
        bare.search_ids(rm=None, parsed=None, filters=Filters(), limit=1)
    with pytest.raises(NotImplementedError):
        bare.ranked_rids(None, None, Filters(), 1)


@pytest.mark.parametrize("name, says", [
    ("memories.search.backends.nosuch", "cannot be imported"),
    ("memories.search.query", "has no SearchBackend class"),
])
def test_an_unknown_backend_is_improperly_configured(name, says):
    with override_settings(KB_SEARCH_BACKEND=name), pytest.raises(ImproperlyConfigured, match=says):
        engine.backend()


def test_an_unknown_backend_stops_the_site_at_startup():
    env = {**os.environ, "KB_SEARCH_BACKEND": "memories.search.backends.nosuch"}
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "ImproperlyConfigured: KB_SEARCH_BACKEND='memories.search.backends.nosuch'" in done.stderr
