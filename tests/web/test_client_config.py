"""What staff may configure for a client database in the admin, attacked as a careless admin would:
token references confined to KB_*TOKEN* variables and the secrets directory (nothing read, sent or
shown otherwise), archiving that holds for every client database including `default`, and client
database paths that never share a file and never initialise a file that already exists.
"""
import logging
import sqlite3

import pytest
from django.core.management import CommandError, call_command

from graphs.models import EmbedToken
from memories.models import ClientDatabase, SyncState
from memories.store import registry
from memories.sync.replica import ReplicaSync
from tests.support.loopback import Loopback

pytestmark = pytest.mark.django_db

ADD = "/admin/memories/clientdatabase/add/"
CHANGELIST = "/admin/memories/clientdatabase/"
NO_MEMBERS = {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
SECRET = "s3cret-Value-42.abc"


def echo_authorization(handler):
    """An attacker's server: answers 500 with a body that echoes the request's Authorization header back."""
    body = f"bad request, you sent Authorization: {handler.headers.get('Authorization')}".encode()
    handler.send_response(500)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def recorder():
    """A loopback server that records every request (its ``requests``) and echoes the token back."""
    server = Loopback(echo_authorization)
    yield server
    server.close()


@pytest.fixture
def secrets_dir(settings):
    folder = settings.DATA_DIR / "secrets"
    folder.mkdir()
    return folder


def add_synced(staff, url, token_ref, slug="team"):
    return staff.post(ADD, {"slug": slug, "name": slug, "mode": "synced", "source": "new", "path": "",
                            "remote_url": url, "token_ref": token_ref, "sync_interval": "1", **NO_MEMBERS})


def assert_nothing_leaked(response, caplog, *secrets, typed=""):
    """No secret on the page or in the logs, but for what was typed, shown back in its own field."""
    shown = response.content.decode().replace(f'value="{typed}"', "") + caplog.text
    for secret in secrets:
        assert secret not in shown
    assert not ClientDatabase.objects.filter(slug="team").exists()


# Defect 2: token references are confined ---------------------------------------------------------

def test_a_token_file_outside_the_secrets_dir_is_neither_read_nor_sent(staff, recorder, secrets_dir, settings,
                                                                       caplog):
    caplog.set_level(logging.DEBUG)
    password = settings.DATA_DIR / "admin-password.txt"
    password.write_text("Adm1n-Passw0rd-xyz\n")
    outside = settings.DATA_DIR / "elsewhere"
    outside.mkdir()
    (outside / "token").write_text(SECRET + "\n")
    (secrets_dir / "link").symlink_to(outside / "token")
    for ref in ("file:/etc/passwd", f"file:{password}", f"file:{secrets_dir}/../admin-password.txt",
                f"file:{secrets_dir / 'link'}", "file:secrets/token", f"file:{secrets_dir}"):
        response = add_synced(staff, recorder.url, ref)
        assert response.status_code == 200, ref
        assert "secrets directory" in response.content.decode(), ref
        assert_nothing_leaked(response, caplog, "root:x:0:0", "Adm1n-Passw0rd-xyz", SECRET)
    assert recorder.requests == []


def test_an_env_token_must_be_named_like_a_token_or_allowed(staff, recorder, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("DATABASE_PASSWORD", SECRET)
    monkeypatch.setenv("KB_SECRET_KEY_COPY", SECRET)
    for ref in ("env:DATABASE_PASSWORD", "env:KB_SECRET_KEY_COPY", "env:HOME", f"env:{SECRET}", SECRET):
        response = add_synced(staff, recorder.url, ref)
        assert response.status_code == 200, ref
        assert_nothing_leaked(response, caplog, SECRET, typed=ref)
    assert "KB_…TOKEN…" in add_synced(staff, recorder.url, "env:DATABASE_PASSWORD").content.decode()
    assert recorder.requests == []


def test_a_token_that_is_not_one_line_of_token_characters_is_refused_unseen(staff, recorder, secrets_dir,
                                                                           monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    (secrets_dir / "two-lines").write_text(f"{SECRET}\nsecond-line-of-it\n")
    monkeypatch.setenv("KB_ODD_TOKEN", f"{SECRET} with spaces")
    for ref in (f"file:{secrets_dir / 'two-lines'}", "env:KB_ODD_TOKEN"):
        response = add_synced(staff, recorder.url, ref)
        assert "not a valid token" in response.content.decode(), ref
        assert_nothing_leaked(response, caplog, SECRET, "second-line-of-it")
    assert recorder.requests == []


def test_allowed_references_are_sent_and_an_echoed_token_is_never_shown(
    staff, recorder, secrets_dir, settings, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    (secrets_dir / "team.token").write_text(SECRET + "-file\n")
    monkeypatch.setenv("KB_TEAM_TOKEN", SECRET + "-env")
    monkeypatch.setenv("PRIMARY_AUTH", SECRET + "-allowed")
    settings.KB_TOKEN_ENV_ALLOW = ["PRIMARY_AUTH"]
    for ref, token in (
        (f"file:{secrets_dir / 'team.token'}", SECRET + "-file"), ("env:KB_TEAM_TOKEN", SECRET + "-env"),
        ("env:PRIMARY_AUTH", SECRET + "-allowed"),
    ):
        recorder.requests.clear()
        response = add_synced(staff, recorder.url, ref)
        assert recorder.requests and recorder.requests[0][2]["Authorization"] == f"Bearer {token}"
        assert "answered HTTP 500" in response.content.decode()
        assert_nothing_leaked(response, caplog, SECRET)


def sync_once(client):
    """One run of the sync worker for ``client``, as its loop runs it."""
    sync = ReplicaSync(client)
    try:
        return sync.run()
    finally:
        sync.close()


def test_the_sync_worker_never_records_or_logs_an_echoed_token(recorder, monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("KB_TEAM_TOKEN", SECRET)
    client = ClientDatabase.objects.create(
        slug="team", name="Team", mode="synced", path=str(tmp_path / "r.db"), remote_url=recorder.url,
        token_ref="env:KB_TEAM_TOKEN",
    )
    run = sync_once(client)
    assert recorder.requests and run.error
    state = SyncState.objects.get(client=client)
    for text in (run.error, state.last_error, caplog.text):
        assert SECRET not in text


def test_the_sync_worker_refuses_a_stored_reference_outside_the_rules(recorder, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    client = ClientDatabase.objects.create(
        slug="team", name="Team", mode="synced", path=str(tmp_path / "r.db"), remote_url=recorder.url,
        token_ref="file:/etc/passwd",
    )
    run = sync_once(client)
    assert "secrets directory" in run.error and "root:" not in run.error + caplog.text
    assert recorder.requests == []


def test_editing_a_database_whose_stored_reference_breaks_the_rules_is_refused(staff, recorder, tmp_path):
    client = ClientDatabase.objects.create(
        slug="team", name="Team", mode="synced", path=str(tmp_path / "r.db"), remote_url=recorder.url,
        token_ref="file:/etc/passwd",
    )
    response = staff.post(
        f"/admin/memories/clientdatabase/{client.pk}/change/",
        {
            "slug": "team", "name": "Team renamed", "mode": "synced", "source": "existing",
            "path": client.path, "remote_url": recorder.url, "token_ref": client.token_ref,
            "sync_interval": "1", **NO_MEMBERS,
        },
    )
    assert response.status_code == 200 and "secrets directory" in response.content.decode()
    assert ClientDatabase.objects.get(pk=client.pk).name == "Team" and recorder.requests == []


def test_bootstrap_keeps_to_the_same_rules(recorder, memory_file, settings, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    settings.KB_MEMORY_DB = str(memory_file)
    monkeypatch.setenv("KB_PRIMARY_URL", recorder.url)
    monkeypatch.setenv("KB_PRIMARY_TOKEN_REF", "file:/etc/passwd")
    with pytest.raises(CommandError, match="secrets directory") as refused:
        call_command("kb_bootstrap")
    assert "root:" not in str(refused.value) + caplog.text and recorder.requests == []
    monkeypatch.delenv("KB_PRIMARY_TOKEN_REF")
    monkeypatch.setenv("KB_PRIMARY_TOKEN", SECRET)  # what docker-compose sets
    with pytest.raises(CommandError, match="answered HTTP 500") as failed:
        call_command("kb_bootstrap")
    assert recorder.requests[0][2]["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in str(failed.value) + caplog.text


# Defect 8: archiving `default` ------------------------------------------------------------------


def test_archiving_default_answers_404_everywhere_until_restored(staff, memory_file, settings):
    settings.KB_MEMORY_DB = str(memory_file)
    default = registry.ensure_default_client()
    memory_id = staff.get("/c/default/memories/?format=json").json()["items"][0]["id"]
    urls = [
        "/c/default/memories/", "/c/default/memories/?format=json", f"/c/default/memories/{memory_id}/",
        "/c/default/search/?q=error", "/c/default/tags/", "/c/default/memories/?unresolved=1",
        f"/c/default/graph/?memory={memory_id}&depth=1", f"/c/default/graph/?memory={memory_id}&format=json",
        "/c/default/export/?format=json", "/c/default/graph/embeds/",
    ]
    embed = EmbedToken.objects.create(client=default, view=f"memory={memory_id}&depth=1", title="Embedded")
    assert [staff.get(url).status_code for url in urls] == [200] * len(urls)
    staff.post(CHANGELIST, {"action": "archive", "_selected_action": [default.pk]})
    registry.ensure_default_client()  # what every start-up (kb_bootstrap) and the home page do
    assert [staff.get(url).status_code for url in urls] == [404] * len(urls)
    denied = staff.get(f"/embed/{embed.token}/")  # the embed's own page, saying why
    assert denied.status_code == 404 and b"archived" in denied.content
    assert staff.get(f"/oembed?url=http://testserver/embed/{embed.token}/").status_code == 404
    assert staff.get("/").status_code == 200  # no database left to open: not a redirect into it
    staff.post(CHANGELIST, {"action": "restore", "_selected_action": [default.pk]})
    assert [staff.get(url).status_code for url in urls] == [200] * len(urls)


# Defect 9: client database paths ----------------------------------------------------------------


def add_local(staff, path, slug="initech"):
    return staff.post(ADD, {"slug": slug, "name": slug, "path": str(path), **NO_MEMBERS})


def assert_refused(response, text, slug="initech"):
    assert response.status_code == 200
    assert text in response.content.decode()
    assert not ClientDatabase.objects.filter(slug=slug).exists()


def test_another_clients_file_is_refused_by_path_symlink_or_side_file(staff, client_db, tmp_path):
    link = tmp_path / "link.db"
    link.symlink_to(client_db.path)
    for path in (client_db.path, link, f"{client_db.path}-wal", tmp_path / "sub" / ".." / "memory.db"):
        assert_refused(add_local(staff, path), "already a file of the client database acme")


def test_an_archived_clients_file_is_refused(staff, client_db):
    client_db.archived = True
    client_db.save()
    assert_refused(add_local(staff, client_db.path), "already a file of the client database acme")


def test_a_read_model_or_replica_file_is_refused(staff, client_db, settings, tmp_path, recorder):
    assert_refused(add_local(staff, client_db.readmodel_path), "already a file of the client database acme")
    assert_refused(add_local(staff, settings.DATA_DIR / "index" / "initech.sqlite3"), "read model")
    replica = tmp_path / "replica.db"
    ClientDatabase.objects.create(
        slug="team", name="Team", mode="synced", path=str(replica), remote_url=recorder.url
    )
    assert_refused(add_local(staff, replica), "already a file of the client database team")
    response = staff.post(
        ADD,
        {
            "slug": "globex", "name": "globex", "mode": "synced", "source": "new", "path": client_db.path,
            "remote_url": recorder.url, "token_ref": "", "sync_interval": "1", **NO_MEMBERS,
        },
    )
    assert_refused(response, "already a file of the client database acme", slug="globex")
    assert recorder.requests == []


def test_a_relative_path_is_refused(staff, db):
    for path in ("clients/x.db", "x.db", "~/memory.db"):
        assert_refused(add_local(staff, path), "absolute path")


def test_an_existing_file_that_is_not_memorygraph_is_refused_not_initialised(staff, tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    schemaless = tmp_path / "schemaless.db"
    conn = sqlite3.connect(schemaless)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    before = schemaless.read_bytes()
    assert_refused(add_local(staff, empty), "no tables at all")
    assert empty.stat().st_size == 0
    assert_refused(add_local(staff, schemaless), "no tables at all")
    assert schemaless.read_bytes() == before
    assert_refused(add_local(staff, tmp_path), "not a file")
    assert_refused(add_local(staff, tmp_path / "missing-folder" / "x.db"), "folder")


def test_validating_the_form_creates_no_file_or_folder(settings, tmp_path):
    from memories.forms import ClientDatabaseForm

    for path in (tmp_path / "new.db", ""):  # a given path, and the default under KB_DATA_DIR/clients/
        form = ClientDatabaseForm({"slug": "initech", "name": "Initech", "path": str(path)})
        assert form.is_valid(), form.errors
    # Saving makes them (the admin's save_model); the data dir is every test's own, empty.
    assert [p.name for p in tmp_path.iterdir()] == ["data"] and not any(settings.DATA_DIR.iterdir())


def test_a_new_path_becomes_a_memorygraph_file_and_an_edit_keeps_its_own(staff, tmp_path):
    path = tmp_path / "new.db"
    assert add_local(staff, path).status_code == 302
    client = ClientDatabase.objects.get(slug="initech")
    assert client.path == str(path.resolve())
    tables = {
        r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"nodes", "relationships"} <= tables
    response = staff.post(
        f"/admin/memories/clientdatabase/{client.pk}/change/",
        {"slug": "initech", "name": "Initech Corp", "path": str(path), **NO_MEMBERS},
    )
    assert response.status_code == 302
    assert ClientDatabase.objects.get(slug="initech").name == "Initech Corp"
