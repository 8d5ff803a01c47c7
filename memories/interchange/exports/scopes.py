"""Export scopes that other apps own, registered by them: memories imports none of them.

An export's scope is "all", "search" (both memories' own) or one registered here by the app
that owns the selection; graphs registers "graph" (the memories a graph view shows) in its
AppConfig.ready. A scope ExportForm offers besides all and search must be registered.
"""
from collections.abc import Callable
from dataclasses import dataclass

_SCOPES = {}


@dataclass(frozen=True)
class Scope:
    """``form``: a Form class, bound to the request's parameters without the export's own and
    validated beside FilterForm. ``select(handle, cleaned_data, *, filters, q)``: the memory ids,
    or None while the selection is still being computed; LookupError when what it names is missing."""
    form: type
    select: Callable


def scope_register(name, *, form, select):
    _SCOPES[name] = Scope(form, select)


def scope_for(name):
    return _SCOPES[name]
