"""The room map of the README, enforced: which rooms each module may import (issue 14).

A module belongs to the room of ``MAY_IMPORT`` with the longest name that contains it
(``memories.store.canonical`` is in ``memories.store``). It may import its own room, the rooms
listed for it and anything outside the project. Imports inside functions count: a late import
is still a dependency. The README's "Rooms" table says the same in words.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("memories", "graphs", "kbsite")

BASE = {"memories.errors", "memories.format", "memories.properties", "memories.models", "memories.markdown"}
# Reads of the read model: the listing (selectors, its SQL) and search beside it.
READS = BASE | {"memories.store", "memories.sql", "memories.search", "memories.selectors"}
CORE = READS | {"memories.services", "memories.tagging"}  # ... and the writes
# Request plumbing every web-facing module may use.
WEB = {"memories.http", "memories.access", "memories.forms", "memories.links", "memories.templatetags"}
ROOMS = {"memories.worker", "memories.sync", "memories.interchange", "memories.agents", "memories.editor"}

MAY_IMPORT = {
    "memories.errors": set(),
    "memories.format": {"memories.errors"},
    "memories.properties": {"memories.format"},
    "memories.models": {"memories.errors", "memories.format"},
    "memories.markdown": set(),
    # The boundary: the canonical file, the outbox, the read model. Nothing above it.
    "memories.store": {"memories.errors", "memories.format", "memories.properties", "memories.models"},
    "memories.sql": {"memories.store"},
    "memories.search": READS,
    "memories.selectors": READS,
    "memories.services": CORE,
    "memories.tagging": CORE | {"memories.worker"},
    # Rooms of long work and of other clients: the core, the web plumbing of their own views,
    # and each other where one runs another's work (the worker runs imports and syncs).
    "memories.worker": CORE | WEB | {"memories.interchange", "memories.sync"},
    "memories.sync": CORE | WEB | {"memories.worker"},
    "memories.interchange": CORE | WEB | {"memories.worker"},
    "memories.agents": CORE | WEB | {"kbsite.auth"},
    "memories.editor": CORE | WEB,
    # The web layer of the app.
    "memories.access": READS,
    "memories.http": READS | {"memories.access"},
    "memories.links": {"memories.templatetags"},
    "memories.templatetags": BASE,
    "memories.forms": CORE | {"memories.sync"},
    "memories.context": READS | {"memories.access", "memories.sync"},
    "memories.history": set(),  # an audit entry's changes, as the memory page shows them
    "memories.views": CORE | WEB | {"memories.editor", "memories.sync", "memories.history"},
    "memories.admin": CORE | WEB | {"memories.sync"},
    "memories.site": CORE | WEB,
    "memories.urls": CORE | WEB | ROOMS | {"memories.views", "memories.site"},
    "memories.apps": {"memories.search", "memories.worker"},
    "memories": set(),
    # Tools: the demo graph and the benchmarks drive the whole product, graphs included; the
    # site never imports them.
    "memories.devdata": CORE | WEB | ROOMS | {"graphs"},
    "memories.management": CORE | WEB | ROOMS | {"memories.devdata", "graphs"},
    # graphs reads memories' data through its store, selectors and search, queues work with the
    # worker, registers its export scope, and its views use memories' web plumbing. memories
    # never imports graphs.
    "graphs": CORE | WEB | {"memories.worker", "memories.interchange"},
    "kbsite": CORE | WEB | ROOMS | {"memories.views", "memories.urls", "memories.site", "graphs"},
    # The project's cross-cutting request plumbing (the client's address, login limits).
    "kbsite.auth": set(),
}


def room_of(module):
    """The room of MAY_IMPORT with the longest name containing ``module`` (None: in none)."""
    best = None
    for room in MAY_IMPORT:
        if (module == room or module.startswith(room + ".")) and (best is None or len(room) > len(best)):
            best = room
    return best


def imports_of(source, module, *, is_package=False):
    """(line, absolute module) of every project import in one module's source."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module
            # `from memories import services` imports the module memories.services
            targets = [f"{origin}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, target) for target in targets if target.split(".")[0] in PROJECT]
    return found


def violations(source, module, *, is_package=False):
    """What one module imports that its room may not."""
    own = room_of(module)
    allowed = MAY_IMPORT[own] | {own}
    wrong = []
    for line, target in imports_of(source, module, is_package=is_package):
        if room_of(target) not in allowed:
            wrong.append(f"{module}:{line} imports {target} (room {room_of(target)}; {own} may not)")
    return wrong


def project_modules():
    for top in PROJECT:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            yield ".".join(parts[:-1] if is_package else parts), path, is_package


def test_every_module_is_in_a_room():
    assert [module for module, _, _ in project_modules() if room_of(module) is None] == []


def test_every_module_imports_only_what_its_room_may():
    wrong = []
    for module, path, is_package in project_modules():
        wrong += violations(path.read_text(), module, is_package=is_package)
    assert not wrong, "imports the room map forbids:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("module", "source"), [
    ("memories.store.readmodel", "from memories.selectors import Filters\n"),
    ("memories.store.canonical", "def late():\n    from ..sync import replica\n"),
    ("memories.selectors", "import graphs.compute\n"),
    ("memories.interchange.exports.views", "from graphs import compute\n"),
    ("memories.search.engine", "from memories import services\n"),
])
def test_a_forbidden_import_is_caught(module, source):
    assert violations(source, module)


def test_allowed_imports_pass():
    assert not violations("from ..format import FormatError\nfrom . import sql\n", "memories.store.canonical")
    assert not violations("from memories.store.registry import handle_for\n", "graphs.views")
