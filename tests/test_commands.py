"""The set-up commands that `make run` calls, and the index rebuild command."""
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from memories import selectors
from memories.models import ClientDatabase
from memories.registry import handle_for

pytestmark = pytest.mark.django_db


def test_bootstrap_creates_demo_graph_admin_and_is_idempotent(settings, capsys):
    settings.KB_MEMORY_DB = ""
    call_command("kb_bootstrap", url="http://127.0.0.1:9999")
    out = capsys.readouterr().out
    assert "Created a demo memory graph" in out and "http://127.0.0.1:9999/accounts/login/ as admin /" in out
    assert (settings.DATA_DIR / "demo-memory.db").exists()
    assert get_user_model().objects.get(username="admin").is_superuser
    handle = handle_for(ClientDatabase.objects.get(slug="default"))
    assert selectors.graph_counts(rm=handle.readmodel)["memories"] > 200
    call_command("kb_bootstrap")
    assert "Created a demo" not in capsys.readouterr().out
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_bootstrap_refuses_a_missing_memory_file(settings, tmp_path):
    settings.KB_MEMORY_DB = str(tmp_path / "nope.db")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("kb_bootstrap")


def test_rebuild_index(client_db, capsys):
    call_command("rebuild_index", client="acme")
    assert "Indexed 294 memories" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("rebuild_index", client="acme-missing")
