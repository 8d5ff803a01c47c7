"""API keys: made once, stored as a hash, one client database each, limited per key and minute."""
from datetime import timedelta

import pytest
from django.utils import timezone

from memories import services
from memories.agents import keys
from memories.agents.actor import actor_for
from memories.agents.errors import KeyError401, KeyError403, RateLimited
from memories.models import ApiKey, ApiRate, AuditEntry, ClientDatabase

pytestmark = pytest.mark.django_db


def auth(raw, client, write=False, address="127.0.0.1"):
    return keys.authenticate_key(raw, client=client, write=write, address=address)


def test_key_is_shown_once_and_only_its_hash_is_kept(client_db, user):
    key, raw = keys.api_key_create(client=client_db, actor=user, name="ci", role="write")
    assert raw.startswith("mg_") and len(raw) >= 3 + 43
    assert key.prefix == raw[:10] and key.hash == keys.hash_key(raw) and raw not in key.hash
    assert auth(raw, client_db, write=True) == key
    assert AuditEntry.objects.filter(action="api_key.create", actor=user).exists()


def test_every_bad_key_is_the_same_401(client_db, user, empty_file):
    other = ClientDatabase.objects.create(slug="other", name="Other", path=str(empty_file))
    _, other_raw = keys.api_key_create(client=other, actor=user, name="theirs", role="write")
    expired, expired_raw = keys.api_key_create(client=client_db, actor=user, name="old", role="write",
                                               expires_at=timezone.now() + timedelta(seconds=30))
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, revoked_raw = keys.api_key_create(client=client_db, actor=user, name="gone", role="write")
    keys.api_key_revoke(key=revoked, actor=user)
    _, good = keys.api_key_create(client=client_db, actor=user, name="good", role="write")
    messages = set()
    for raw in (None, "", "mg_", good[:-1] + ("A" if good[-1] != "A" else "B"), "x" + good, other_raw,
                expired_raw, revoked_raw, "mg_" + "a" * 500):
        with pytest.raises(KeyError401) as info:
            auth(raw, client_db)
        messages.add(str(info.value))
    assert len(messages) == 1


def test_read_key_may_not_write(client_db, user):
    _, raw = keys.api_key_create(client=client_db, actor=user, name="reader", role="read")
    auth(raw, client_db)
    with pytest.raises(KeyError403):
        auth(raw, client_db, write=True)


def test_bad_names_roles_and_expiry_are_refused(client_db, user):
    keys.api_key_create(client=client_db, actor=user, name="dup", role="read")
    for kwargs, field in (({"name": "dup"}, "name"), ({"name": " "}, "name"), ({"name": "n" * 101}, "name"),
                          ({"role": "admin"}, "role"),
                          ({"expires_at": timezone.now() - timedelta(days=1)}, "expires_at")):
        with pytest.raises(keys.KeyProblem) as info:
            keys.api_key_create(client=client_db, actor=user, **{"name": "x", "role": "read", **kwargs})
        assert field in info.value.errors
    assert ApiKey.objects.count() == 1


def test_reads_and_writes_have_separate_budgets(client_db, user, settings):
    settings.KB_API_WRITES_PER_MIN, settings.KB_API_READS_PER_MIN = 2, 3
    _, raw = keys.api_key_create(client=client_db, actor=user, name="busy", role="write")
    auth(raw, client_db, write=True)
    auth(raw, client_db, write=True)
    with pytest.raises(RateLimited) as info:
        auth(raw, client_db, write=True)
    assert 1 <= info.value.retry_after_s <= 60 and info.value.headers["Retry-After"]
    for _ in range(3):
        auth(raw, client_db)
    with pytest.raises(RateLimited):
        auth(raw, client_db)
    assert ApiRate.objects.count() <= 4  # one row per key, kind and minute


def test_last_use_is_throttled(client_db, user, django_assert_max_num_queries):
    key, raw = keys.api_key_create(client=client_db, actor=user, name="agent", role="read")
    auth(raw, client_db, address="10.0.0.7")
    key.refresh_from_db()
    first = key.last_used_at
    assert first and key.last_used_address == "10.0.0.7"
    with django_assert_max_num_queries(2):  # the key lookup and the rate UPSERT, no last-use write
        auth(raw, client_db, address="10.0.0.8")
    key.refresh_from_db()
    assert key.last_used_at == first


def test_writes_with_a_key_are_audited_as_the_key_of_its_creator(handle, user):
    key, _ = keys.api_key_create(client=handle.client, actor=user, name="laptop agent", role="write")
    memory_id = services.memory_create(handle=handle, actor=actor_for(key), fields={
        "type": "general", "title": "Written by an agent", "content": "x"}, memory_id="agent-chosen-1")
    entry = AuditEntry.objects.get(object_id=memory_id, action="memory.create")
    assert entry.actor == user and entry.api_key == key and entry.via_key == "laptop agent"
    assert keys.writes_last_day([key]) == {key.pk: 1}
    assert str(actor_for(key)) == "via key laptop agent of alice"


def test_kb_api_key_prints_the_key_alone_and_revokes(client_db):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command("kb_api_key", "--client", "acme", "--role", "write", "--name", "ci", "--expires-days", "3",
                 stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mg_")
    key = auth(lines[0], client_db, write=True)
    assert key.name == "ci" and key.expires_at > timezone.now() + timedelta(days=2)
    with pytest.raises(CommandError):
        call_command("kb_api_key", "--client", "acme", "--name", "ci", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("kb_api_key", "--client", "nope", "--name", "x", stdout=io.StringIO())
    call_command("kb_api_key", "--client", "acme", "--revoke", "ci",
                 stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(KeyError401):
        auth(lines[0], client_db)


def test_keys_page_for_admins(client, client_db, user):
    from memories.models import Membership

    client.force_login(user)
    assert b'/c/acme/keys/"' not in client.get("/c/acme/memories/").content  # an editor: no menu link
    Membership.objects.filter(user=user).update(role=Membership.ADMIN)
    assert b'<a href="/c/acme/keys/">API keys of Acme</a>' in client.get("/c/acme/memories/").content
    page = client.get("/c/acme/keys/")
    assert page.status_code == 200 and b"No keys yet" in page.content
    example = page.content.decode()
    assert (
        "claude mcp add --transport http team-kb http://testserver/c/acme/mcp/ --header "
        "&#x27;Authorization: Bearer mg_…&#x27;" in example
    )
    assert (
        "-e MEMORY_BACKEND=cloud -e MEMORYGRAPH_API_URL=http://testserver/c/acme/api/memorygraph" in example
    )
    assert example.count("data-copy=") == 4
    made = client.post("/c/acme/keys/", {"name": "alice laptop", "role": "write", "expires_days": "30"})
    assert made.status_code == 201 and made["Cache-Control"] == "no-store"
    text = made.content.decode()
    key = ApiKey.objects.get(name="alice laptop")
    raw = text.split('id="new-key"><code>')[1].split("</code>")[0]
    assert raw.startswith("mg_") and auth(raw, client_db, write=True) == key
    assert "claude mcp add memorygraph -e MEMORY_BACKEND=cloud" in text
    assert "MEMORYGRAPH_API_URL=http://testserver/c/acme/api/memorygraph" in text
    assert f"MEMORYGRAPH_API_KEY={raw}" in text and "&quot;MEMORYGRAPH_API_KEY&quot;" in text
    assert f"--header &#x27;Authorization: Bearer {raw}&#x27;" in text and text.count("data-copy=") == 9
    listed = client.get("/c/acme/keys/").content.decode()
    assert raw not in listed and key.prefix in listed and "from 127.0.0.1" in listed
    assert client.post("/c/acme/keys/", {"name": "alice laptop", "role": "write"}).status_code == 400
    assert client.post("/c/acme/keys/", {"name": "x", "role": "admin"}).status_code == 400
    assert client.post(f"/c/acme/keys/{key.pk}/revoke/").status_code == 302
    with pytest.raises(KeyError401):
        auth(raw, client_db)
    assert ApiKey.objects.count() == 1


def test_requests_far_from_the_limit_are_counted_in_memory(
    client_db, user, settings, django_assert_max_num_queries
):
    settings.KB_API_READS_PER_MIN = 100
    _, raw = keys.api_key_create(client=client_db, actor=user, name="counted", role="read")
    auth(raw, client_db)  # the window's first request adds itself to the shared count at once
    assert ApiRate.objects.get().count == 1
    for _ in range(10):
        with django_assert_max_num_queries(1):  # the key lookup only: no write
            auth(raw, client_db)
    assert ApiRate.objects.get().count == 1


def test_near_the_limit_every_request_counts_the_other_workers(client_db, user, settings, monkeypatch):
    settings.KB_API_WRITES_PER_MIN = 10
    key, raw = keys.api_key_create(client=client_db, actor=user, name="shared", role="write")
    monkeypatch.setattr(keys, "FLUSH_S", 3600.0)  # no flush for time's sake in this test
    auth(raw, client_db, write=True)
    # Another web worker adds its 7 writes of this minute; a second later ours flushes and sees them.
    ApiRate.objects.filter(key=key, kind="w").update(count=8)
    monkeypatch.setattr(keys, "FLUSH_S", 0.0)
    auth(raw, client_db, write=True)  # 9 in all
    monkeypatch.setattr(keys, "FLUSH_S", 3600.0)
    auth(raw, client_db, write=True)  # within a fifth of the limit: flushed although no time passed
    assert ApiRate.objects.get(key=key, kind="w").count == 10
    with pytest.raises(RateLimited):
        auth(raw, client_db, write=True)
    assert ApiRate.objects.get(key=key, kind="w").count == 11


def test_a_key_by_its_urls_slug_comes_with_its_client_database_and_creator(
    client_db, user, empty_file, django_assert_max_num_queries
):
    """One query finds the key, its client database (not archived) and its creator, the same
    instances the ORM builds (aware datetimes included)."""
    other = ClientDatabase.objects.create(slug="other", name="Other", path=str(empty_file))
    _, other_raw = keys.api_key_create(client=other, actor=user, name="theirs", role="write")
    key, raw = keys.api_key_create(
        client=client_db, actor=user, name="agent", role="write",
        expires_at=timezone.now() + timedelta(days=1),
    )
    auth(raw, client_db, write=True)  # its last use noted and its write window opened
    with django_assert_max_num_queries(2):  # the lookup, at most the rate UPSERT
        found = keys.authenticate_key(raw, slug="acme", write=True, address="127.0.0.1")
    stored = ApiKey.objects.select_related("client", "created_by").get(pk=key.pk)
    for got, expected in (
        (found, stored), (found.client, stored.client), (found.created_by, stored.created_by),
    ):
        assert type(got) is type(expected) and got.pk == expected.pk
        for field in type(expected)._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(expected, field.attname), field.name
    assert found.expires_at.tzinfo is not None and found.client.archived is False
    for slug, raw_key in (("other", raw), ("acme", other_raw), ("nope", raw)):
        with pytest.raises(KeyError401):
            keys.authenticate_key(raw_key, slug=slug, write=False, address="")
    ClientDatabase.objects.filter(pk=client_db.pk).update(archived=True)
    with pytest.raises(KeyError401):
        keys.authenticate_key(raw, slug="acme", write=False, address="")


def test_a_key_whose_creator_is_gone_still_opens_its_database(client_db, user):
    key, raw = keys.api_key_create(client=client_db, actor=user, name="orphan", role="read")
    user.delete()
    found = keys.authenticate_key(raw, slug="acme", write=False, address="")
    assert found.pk == key.pk and found.created_by is None and found.client.slug == "acme"
    assert str(actor_for(found)) == "via key orphan of a removed user"


def test_a_key_of_default_follows_kb_memory_db(db, user, settings, empty_file, memory_file):
    """`default` points at KB_MEMORY_DB, as get_client registers it for every view."""
    from memories.store.registry import ensure_default_client

    settings.KB_MEMORY_DB = str(empty_file)
    default = ensure_default_client()
    _, raw = keys.api_key_create(client=default, actor=user, name="agent", role="read")
    settings.KB_MEMORY_DB = str(memory_file)
    found = keys.authenticate_key(raw, slug="default", write=False, address="")
    assert found.client.path == str(memory_file) == ClientDatabase.objects.get(slug="default").path
