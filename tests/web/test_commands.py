"""The set-up commands that `make run` calls, and the index rebuild command."""
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from memories import selectors
from memories.models import ClientDatabase
from memories.store.registry import handle_for

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


def _zip_of(name, data):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def test_kb_import_refuses_hostile_files_clearly_and_leaves_the_users_files_alone(team, tmp_path, capsys):
    """Issue 10, defect 7: the command line says what is wrong, as the upload page does."""
    import json

    folder = tmp_path / "exports"
    folder.mkdir()
    deep = folder / "deep.json"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(CommandError, match="nested too deeply"):
        call_command("kb_import", str(deep), "--client", "team", verbosity=0)
    # A zip holding a zip, beside files of the same stem that once served as the unzip target.
    inner = _zip_of("memory.json", b"{}")
    nested = folder / "nested.zip"
    nested.write_bytes(_zip_of("inner.zip", inner))
    (folder / "nested.unzipped").write_bytes(b"mine")
    with pytest.raises(CommandError, match="a zip inside a zip is not supported"):
        call_command("kb_import", str(nested), "--client", "team", verbosity=0)
    assert (folder / "nested.unzipped").read_bytes() == b"mine" and nested.read_bytes().startswith(b"PK")
    self_target = folder / "self.unzipped"
    self_target.write_bytes(_zip_of("inner.zip", inner))
    with pytest.raises(CommandError, match="a zip inside a zip"):
        call_command("kb_import", str(self_target), "--client", "team", verbosity=0)
    assert self_target.read_bytes() == _zip_of("inner.zip", inner)
    # Out-of-range epochs make their rows invalid, with the reason; the rest imports.
    good = {"id": "good-1", "type": "fix", "title": "Fine", "content": "ok"}
    export = folder / "epochs.json"
    export.write_text(json.dumps({"format_version": "2.0", "relationships": [],
                                  "memories": [good, {**good, "id": "bad-1", "created_at": -1e20}]}))
    call_command("kb_import", str(export), "--client", "team", verbosity=0)
    out = capsys.readouterr().out
    assert "1 new" in out and "1 invalid" in out and "created_at -1e+20 is not a time" in out, out
    assert "Imported 1 memories" in out and team.store.count_nodes() == 1
    for name, data, message in (("dup.json", b'{"format_version": "2.0", "format_version": "1"}', "twice"),
                                ("latin1.json", b'{"title": "caf\xe9"}', "not UTF-8"),
                                ("scalar.json", b"42", "the JSON is a number")):
        (folder / name).write_bytes(data)
        with pytest.raises(CommandError, match=message):
            call_command("kb_import", str(folder / name), "--client", "team", verbosity=0)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [
            "deep.json", "nested.zip", "nested.unzipped", "self.unzipped", "epochs.json", "dup.json",
            "latin1.json", "scalar.json",
        ]
    )
