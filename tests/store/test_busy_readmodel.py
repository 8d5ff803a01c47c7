"""A read model locked for longer than its busy timeout (a rebuild or a bulk import holds its write
lock for the whole run) answers 503 with Retry-After and a message, not a 500; nothing is lost."""
import sqlite3

from memories.store import readmodel, registry


def test_a_write_behind_a_long_read_model_lock_gets_503_and_lands_after(web, handle, monkeypatch):
    path = handle.readmodel.path
    registry.close_all()
    monkeypatch.setattr(readmodel, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        form = {"type": "fix", "title": "Behind the rebuild", "content": "x", "tags": "",
                "importance": "0.5", "confidence": "0.8"}
        page = web.post("/c/acme/memories/new/", form)
        assert page.status_code == 503 and page["Retry-After"] == "5"
        assert b"busy with a long write" in page.content and b"Traceback" not in page.content
        # reads go on meanwhile, from the read model as it is
        assert web.get("/c/acme/search/?q=rebuild&format=json").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # at once: the failed update's commit is not waited for as one of ours in flight
    found = web.get("/c/acme/search/?q=%22Behind+the+rebuild%22&format=json").json()
    assert [row["title"] for row in found["items"]] == ["Behind the rebuild"]  # nothing lost



def test_only_lock_timeouts_count_as_busy():
    from django.db import OperationalError

    from memories.http import _busy

    assert _busy(sqlite3.OperationalError("database is locked"))
    assert _busy(OperationalError("database is locked"))  # the site's own database, through Django
    assert not _busy(sqlite3.OperationalError("no such table: memory"))  # a bug stays a 500
    assert not _busy(ValueError("database is locked"))
