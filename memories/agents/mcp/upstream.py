"""memorygraph, imported once with its import-time logging kept out of the site's log.

Importing memorygraph (its package imports its server) calls logging.basicConfig(level=INFO),
which would send every library's INFO lines to the site's log. Modules that use memorygraph
import this one first; a handler on the root logger meanwhile makes that call a no-op.
"""
import logging

_guard = logging.NullHandler()
logging.root.addHandler(_guard)
try:
    import memorygraph  # noqa: F401
finally:
    logging.root.removeHandler(_guard)
