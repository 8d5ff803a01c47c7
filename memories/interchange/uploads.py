"""Uploads waiting to be imported: stored per client database, capped, and expired.

An upload lives in ``KB_DATA_DIR/uploads/client-<pk>/<random>/upload`` (a zip is unpacked
beside it) from its preview until it is imported, discarded or KB_UPLOAD_KEEP_HOURS old; a
failed import keeps it for "Run it again" until then. The uploads of one client database
together may take KB_UPLOAD_CLIENT_MAX_MB: past that an upload is refused (413) rather than
removing someone's preview early, so what anyone sees on the page stays there until it expires.

Tidying runs at every upload (that client database's folder only, a few directory entries)
and every few minutes in the sync worker (every folder), never in a thread of its own in a
web process. Folders no import names (a preview cut off by a crash, the older flat layout)
go once they are an hour old, so a preview being read right now is never among them.
"""
import fcntl
import logging
import shutil
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ..errors import KBError
from ..models import ImportJob

log = logging.getLogger("memories.uploads")

ORPHAN_GRACE_S = 3600  # longer than any preview takes to read its file
MB = 1024 * 1024


class UploadsFull(KBError):
    """This client database's waiting uploads leave no room for another; the message says what to do."""

    status = 413


def _root():
    return settings.DATA_DIR / "uploads"


def _client_folder(client):
    return _root() / f"client-{client.pk}"


@contextmanager
def _locked(folder):
    """One upload at a time per client database measures its room and writes its file."""
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _size(folder):
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def upload_store(*, client, upload):
    """Write a Django upload to a fresh folder of its own and return its path. Expired uploads
    of this client database go first; raises UploadsFull when the rest and this one would pass
    KB_UPLOAD_CLIENT_MAX_MB (nothing is written then)."""
    folder = _client_folder(client)
    folder.mkdir(parents=True, exist_ok=True)
    uploads_expire(client=client)
    with _locked(folder):
        used, limit = _size(folder), settings.KB_UPLOAD_CLIENT_MAX_BYTES
        if used + upload.size > limit:
            raise UploadsFull(
                f"The uploads waiting to be imported into {client.name} take {used / MB:.1f} MB; "
                f"with this one ({upload.size / MB:.1f} MB) they would pass the {limit / MB:g} MB allowed "
                "(KB_UPLOAD_CLIENT_MAX_MB). Run or discard the pending imports listed on the import page, or "
                f"wait until they expire ({settings.KB_UPLOAD_KEEP_HOURS:g} hours after their upload).",
                errors={"file": "no room for more waiting uploads"})
        path = folder / uuid.uuid4().hex / "upload"
        path.parent.mkdir()
        try:
            with open(path, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
        except BaseException:
            shutil.rmtree(path.parent, ignore_errors=True)
            raise
    return path


def upload_remove(path):
    """Remove a stored upload with its folder (and whatever was unpacked there) at once."""
    folder = Path(path).parent
    if _root() in folder.parents:  # never anything outside the uploads folder, whatever a row says
        shutil.rmtree(folder, ignore_errors=True)


def uploads_expire(*, client=None):
    """Remove the uploads older than KB_UPLOAD_KEEP_HOURS (their imports become "expired") and
    folders no import names; of one client database, or of all. Returns how many went."""
    cutoff = timezone.now() - timedelta(hours=settings.KB_UPLOAD_KEEP_HOURS)
    jobs = ImportJob.objects.filter(status__in=ImportJob.LIVE, created_at__lt=cutoff)
    removed = 0
    for job in jobs.filter(client=client) if client else jobs:
        upload_remove(job.path)
        # Filtered on the status seen: an import that finished meanwhile keeps its "done".
        removed += ImportJob.objects.filter(pk=job.pk, status=job.status).update(
            status=ImportJob.EXPIRED, message=_expired_message(job), finished_at=timezone.now())
    return removed + _remove_orphans(client)


def _expired_message(job):
    hours = f"{settings.KB_UPLOAD_KEEP_HOURS:g} hours"
    if job.status == ImportJob.RUNNING:
        return (f"The import was interrupted (the server stopped while it ran) and its upload was removed "
                f"after {hours}. Rows already written are kept: upload the file again to complete it.")
    return (f"The uploaded file was removed after {hours} without being imported: "
            "upload it again to import it.")


def _remove_orphans(client):
    live = {str(Path(p).parent) for p in ImportJob.objects.filter(status__in=ImportJob.LIVE)
            .values_list("path", flat=True)}
    old = time.time() - ORPHAN_GRACE_S
    removed = 0
    for folder in _upload_folders(client):
        try:
            changed = max(f.stat().st_mtime for f in [folder, *folder.rglob("*")])
            stale = str(folder) not in live and changed < old
        except FileNotFoundError:  # removed meanwhile by another process
            continue
        if stale:
            log.info("removing upload folder %s, which no import names", folder.name)
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _upload_folders(client):
    """Each upload's own folder: client-<pk>/<random>/, and <random>/ of the older flat layout."""
    root = _root()
    parents = [_client_folder(client)] if client else [root, *root.glob("client-*")]
    for parent in parents:
        if not parent.is_dir():
            continue
        for folder in parent.iterdir():
            if folder.is_dir() and not (parent == root and folder.name.startswith("client-")):
                yield folder
