"""The search backend in use, and the searches every caller makes through it.

``settings.KB_SEARCH_BACKEND`` names a module holding a ``SearchBackend`` class
(``backends.base`` states the contract); the FTS5 one is the default. A new engine
(semantic, hybrid) is one new module under ``backends/`` and the setting's value.
"""
from functools import cache
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .backends.base import SearchBackend


def backend():
    """The backend settings.KB_SEARCH_BACKEND names (loaded once per name and process).
    Raises ImproperlyConfigured when the module cannot be imported or is not a backend."""
    return _load(settings.KB_SEARCH_BACKEND)


@cache
def _load(name):
    try:
        module = import_module(name)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"KB_SEARCH_BACKEND={name!r}: the module cannot be imported ({exc})") from exc
    cls = getattr(module, "SearchBackend", None)
    if not (isinstance(cls, type) and issubclass(cls, SearchBackend)):
        raise ImproperlyConfigured(f"KB_SEARCH_BACKEND={name!r}: the module has no SearchBackend class "
                                   "(a subclass of memories.search.backends.base.SearchBackend)")
    return cls()


def memory_search(**kwargs):
    """SearchBackend.memory_search of the backend in use."""
    return backend().memory_search(**kwargs)


def search_ids(**kwargs):
    """SearchBackend.search_ids of the backend in use."""
    return backend().search_ids(**kwargs)


def ranked_rids(conn, parsed, filters, want, *, titles_first=True):
    """SearchBackend.ranked_rids of the backend in use."""
    return backend().ranked_rids(conn, parsed, filters, want, titles_first=titles_first)
