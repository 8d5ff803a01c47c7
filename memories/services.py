"""Writes: every change to a memory graph goes through here.

Each service validates against the memorygraph format, writes the canonical file in a
short transaction with exactly the server's keys, reads the written rows back (so the
read model stores the same version the canonical file now has), updates the read model
in the same request, and records an audit entry.
"""
import os
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.utils import timezone

from .errors import KBError
from .store.canonical import CanonicalStore, StoreError
from .format import (
    REL_TYPES, FormatError, id_error, is_fraction, memory_properties, new_id, normalise_tags,
    relationship_properties, tag_errors, validate_memory,
)
from .interchange.imports import plans, readers, refusals
from .interchange import uploads
from .models import AuditEntry, ImportJob, TagBatch
from .store.progress import throttled
from .selectors import memory_version
from .interchange.sides import ClientSide
from .store import freshness
from .store.audit import audit_record
from .store.groupcommit import group_for
from .worker.jobs import job_enqueue
from .worker.models import Job

# Bulk changes commit in chunks so the memorygraph server never waits long for the lock.
CHUNK = 500
BULK_INLINE = 1000  # bulk tagging of more memories than this is a worker job (memories/worker/)


class ServiceError(KBError):
    status = 400


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


def _sync(handle, *, memory_ids=(), edge_ids=(), removed_memory_ids=(), removed_edge_ids=()):
    store, rm = handle.store, handle.readmodel
    if store.writes_readmodel:
        return  # a synced client's outbox already overlaid the change in the same transaction
    claimed = freshness.commit_claim(store)  # our commit alone since the last: no diff for it
    try:
        with rm.write() as conn:
            # Read back inside: our processes' updates are serial here, so a later one holds later rows.
            nodes = list(store.iter_nodes(memory_ids)) if memory_ids else []
            edges = list(store.iter_edges(edge_ids)) if edge_ids else []
            rm.remove_memories(conn, removed_memory_ids)
            rm.remove_edges(conn, removed_edge_ids)
            rm.apply_memories(conn, nodes)
            rm.apply_edges(conn, edges)
            freshness.claim(conn, claimed)
    except BaseException:
        # The file holds the write, the read model not (its lock timed out: a 503): the next
        # probe must diff it in at once, not wait for this update as one of ours in flight.
        # Our own commit leaves this connection's data_version unmoved: look again next time.
        store.forget_commit(claimed)
        handle.forget_seen()
        raise


def _user(actor):
    actor = getattr(actor, "on_behalf_of", actor)  # an API key writes for its creator (agents/actor.py)
    return actor if getattr(actor, "is_authenticated", False) else None


class _Done(NamedTuple):
    """One grouped write's outcome: its answer, what the read model must take, its audit entry."""
    result: object
    audit: AuditEntry
    memory_ids: tuple = ()
    edge_ids: tuple = ()
    removed_memory_ids: tuple = ()
    removed_edge_ids: tuple = ()


def _apply(handle, outcomes):
    if outcomes:
        _sync(handle, memory_ids=[i for o in outcomes for i in o.memory_ids],
              edge_ids=[i for o in outcomes for i in o.edge_ids],
              removed_memory_ids=[i for o in outcomes for i in o.removed_memory_ids],
              removed_edge_ids=[i for o in outcomes for i in o.removed_edge_ids])


def _record(outcomes):
    audit_record([o.audit for o in outcomes])


def _grouped(handle, run):
    """Run ``run(store) -> _Done`` in the handle's write group (store/groupcommit.py): committed
    with the writes of other threads that arrive meanwhile, in a savepoint of its own, the read
    model updated before it returns and its audit entry written with theirs; returns its result."""
    return group_for(handle).submit(handle, run, apply=_apply, record=_record).result


def _entry(handle, actor, action, object_id, before=None, after=None):
    return AuditEntry(client=handle.client, actor=_user(actor), action=action, object_id=object_id,
                      before=before, after=after, api_key=getattr(actor, "api_key", None),
                      via_key=getattr(actor, "key_name", ""))


def memory_create(*, handle, actor, fields, memory_id=None):
    """Create a memory from form fields; returns its id: a new uuid4, or ``memory_id`` when the
    caller chose one (memorygraph's clients send their own uuid), which must be free."""
    fields = {**fields, "tags": normalise_tags(fields.get("tags", []))}
    validate_memory(fields)
    if memory_id is not None and (problem := id_error(memory_id)):
        raise FormatError({"id": problem})
    props = memory_properties({**fields, "id": memory_id or new_id()})

    def run(store):
        if memory_id is not None and store.node(memory_id) is not None:
            raise Conflict(f"A memory with id {memory_id} already exists.")
        store.insert_node(props)
        return _Done(props["id"], _entry(handle, actor, "memory.create", props["id"], after=props),
                     memory_ids=(props["id"],))

    return _grouped(handle, run)


def memory_update(*, handle, actor, memory_id, fields, expected_updated_at=None):
    """Update fields of a memory. expected_updated_at (``selectors.memory_version`` of the
    row the edit was made on) guards against overwriting a newer edit: any other value,
    empty included, is a Conflict. Only None skips the check.

    ``fields`` may also be a function of the current properties, for changes (such as
    adding a tag) that must be computed from the row as it is inside the transaction.
    """
    def run(store):
        # Read, check and write under one write lock, so a concurrent server write is never lost.
        before = store.node(memory_id)
        if before is None:
            raise NotFound(f"No memory with id {memory_id}.")
        if expected_updated_at is not None and memory_version(before) != expected_updated_at:
            raise Conflict("This memory was changed by someone else since you opened it; "
                           "reload to see their change.")
        changes = fields(before) if callable(fields) else fields
        merged = {"type": before.get("type"), "title": before.get("title", ""), "summary": before.get("summary"),
                  "content": before.get("content"), "tags": before.get("tags", []), **changes}
        merged["tags"] = normalise_tags(merged["tags"])
        validate_memory(merged)
        after = memory_properties(merged, existing=before)
        store.update_node(after)
        return _Done(after, _entry(handle, actor, "memory.update", memory_id, before=before, after=after),
                     memory_ids=(memory_id,))

    return _grouped(handle, run)


def memory_delete(*, handle, actor, memory_id):
    def run(store):
        before = store.node(memory_id)
        if before is None:
            raise NotFound(f"No memory with id {memory_id}.")
        store.delete_node(memory_id)
        return _Done(None, _entry(handle, actor, "memory.delete", memory_id, before=before),
                     removed_memory_ids=(memory_id,))

    _grouped(handle, run)


def tag_add(*, handle, actor, memory_id, tag):
    return memory_update(handle=handle, actor=actor, memory_id=memory_id,
                         fields=lambda before: {"tags": [*(before.get("tags") or []), *normalise_tags([tag])]})


def tag_remove(*, handle, actor, memory_id, tag):
    return memory_update(handle=handle, actor=actor, memory_id=memory_id,
                         fields=lambda before: {"tags": [t for t in before.get("tags") or [] if t != tag]})


def _tags(props):
    return props.get("tags") if isinstance(props.get("tags"), list) else []


def _retag(handle, actor, action, ids, change, before_write=None, progress=None):
    """Apply change(tags) -> tags to many memories, chunk by chunk; returns the ids changed.

    Every memory is checked before the first chunk is written, so a change that would break
    the format's tag limits on any of them writes nothing at all. before_write(ids) is told
    which memories a chunk will change before it is written (so an undo can cover a chunk
    a crash cut short); progress(done, total) after each chunk.
    """
    for memory_id, before, _ in handle.store.iter_nodes(ids):
        if problem := tag_errors(normalise_tags(change(_tags(before)))):
            raise FormatError({"tags": f"{before.get('title', memory_id)[:60]}: {problem}"})
    changed = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        with handle.lock:
            audits, written = [], []
            with handle.store.transaction() as store:
                rows = [(memory_id, before, normalise_tags(change(_tags(before))))
                        for memory_id, before, _ in store.iter_nodes(chunk)]
                # Unchanged ones, or ones changed by someone else since the check, are left.
                rows = [row for row in rows if row[2] != _tags(row[1]) and not tag_errors(row[2])]
                if before_write and rows:
                    before_write([row[0] for row in rows])
                for memory_id, before, new_tags in rows:
                    after = memory_properties({"type": before.get("type"), "title": before.get("title", ""),
                                               "tags": new_tags}, existing=before)
                    store.update_node(after)
                    written.append(memory_id)
                    audits.append(AuditEntry(client=handle.client, actor=_user(actor), action=action,
                                             object_id=memory_id, before=before, after=after))
            _sync(handle, memory_ids=written)
        AuditEntry.objects.bulk_create(audits)
        changed += written
        if progress:
            progress(min(start + CHUNK, len(ids)), len(ids))
    return changed


def _clean_tag(tag):
    tags = normalise_tags([tag])
    if not tags:
        raise FormatError({"tag": "A tag cannot be empty."})
    if problem := tag_errors(tags):
        raise FormatError({"tag": problem})
    return tags[0]


def tag_rename(*, handle, actor, old, new, memory_ids):
    """Rename tag old to new on memory_ids; when new already exists this merges the two."""
    new = _clean_tag(new)
    if new == old:
        return []
    return _retag(handle, actor, "tag.rename", list(memory_ids),
                  lambda tags: [new if t == old else t for t in tags])


def bulk_tag(*, handle, actor, tag, memory_ids, selection):
    """Tag memory_ids; returns (batch, job): job is None when it was done at once (up to
    BULK_INLINE memories), else the worker's job, which fills the batch chunk by chunk."""
    tag, ids = _clean_tag(tag), list(memory_ids)
    batch = TagBatch.objects.create(client=handle.client, actor=_user(actor), tag=tag,
                                    selection=selection[:1000], memory_ids=[])
    if len(ids) > BULK_INLINE:
        job = job_enqueue(kind="bulk_tag", client=handle.client, actor=actor, total=len(ids),
                          params={"batch": batch.pk, "memory_ids": ids})
        return batch, job
    try:
        bulk_tag_apply(handle=handle, actor=actor, batch=batch, memory_ids=ids)
    except FormatError:
        batch.delete()
        raise
    return batch, None


def bulk_tag_apply(*, handle, actor, batch, memory_ids, progress=None):
    """Add batch.tag to memory_ids. Each chunk's memories are added to the batch before the chunk
    is written, so undo covers whatever a crash left; run again, it skips those already tagged."""
    def record(ids):
        known = set(batch.memory_ids)
        batch.memory_ids = [*batch.memory_ids, *(i for i in ids if i not in known)]
        batch.save(update_fields=["memory_ids"])

    _retag(handle, actor, "tag.bulk", list(memory_ids), lambda tags: tags if batch.tag in tags else [*tags, batch.tag],
           before_write=record, progress=progress)


def bulk_tag_undo(*, handle, actor, batch):
    """Undo a bulk tagging: at once up to BULK_INLINE memories (returns None), else as the worker's
    job (returned)."""
    if batch.undone_at is not None:
        raise Conflict("This bulk tagging was already undone.")
    if len(batch.memory_ids) <= BULK_INLINE:
        bulk_tag_untag(handle=handle, actor=actor, batch=batch)
        return None
    if Job.objects.filter(kind="bulk_untag", params__batch=batch.pk, status__in=Job.ACTIVE).exists():
        raise Conflict("This bulk tagging is already being undone.")
    return job_enqueue(kind="bulk_untag", client=handle.client, actor=actor, total=len(batch.memory_ids),
                       params={"batch": batch.pk})


def bulk_tag_untag(*, handle, actor, batch, progress=None):
    """Remove batch.tag from the batch's memories; run again, it skips those without it."""
    _retag(handle, actor, "tag.bulk_undo", list(batch.memory_ids), lambda tags: [t for t in tags if t != batch.tag],
           progress=progress)
    batch.undone_at = timezone.now()
    batch.save(update_fields=["undone_at"])


def relationship_create(*, handle, actor, from_id, to_id, rel_type, strength=0.5, confidence=0.8, context=""):
    errors = {}
    if rel_type not in REL_TYPES:
        errors["rel_type"] = f"Unknown relationship type {rel_type!r}."
    if from_id == to_id:
        errors["to_id"] = "A memory cannot be related to itself."
    for key, value in (("strength", strength), ("confidence", confidence)):
        if not is_fraction(value):
            errors[key] = f"{key.capitalize()} must be a number between 0 and 1."
    if errors:
        raise FormatError(errors)
    rel_id = new_id()

    def run(store):
        for key, memory_id in (("from_id", from_id), ("to_id", to_id)):
            if store.node(memory_id) is None:
                raise FormatError({key: f"No memory with id {memory_id}."})
        if store.edge_exists(from_id, to_id, rel_type):
            raise FormatError({"rel_type": f"These memories are already linked by {rel_type}."})
        if store.closes_cycle(from_id, to_id, rel_type):
            raise FormatError({"rel_type": f"This {rel_type} link would close a cycle of {rel_type} links, "
                                           "which memorygraph does not allow."})
        props = relationship_properties(rel_id=rel_id, strength=strength, confidence=confidence,
                                        context=context, temporal=store.temporal)
        store.insert_edge(rel_id=rel_id, from_id=from_id, to_id=to_id, rel_type=rel_type, props=props)
        after = {"from_id": from_id, "to_id": to_id, "rel_type": rel_type, "properties": props}
        return _Done(rel_id, _entry(handle, actor, "relationship.create", rel_id, after=after), edge_ids=(rel_id,))

    return _grouped(handle, run)


def relationship_delete(*, handle, actor, rel_id):
    def run(store):
        edges = list(store.iter_edges([rel_id]))
        if not edges:
            raise NotFound(f"No relationship with id {rel_id}.")
        store.delete_edge(rel_id)
        edge = edges[0]
        before = {"from_id": edge["from_id"], "to_id": edge["to_id"], "rel_type": edge["rel_type"],
                  "properties": edge["props"]}
        return _Done(None, _entry(handle, actor, "relationship.delete", rel_id, before=before),
                     removed_edge_ids=(rel_id,))

    _grouped(handle, run)


# Local client databases ------------------------------------------------------------------

def local_client_save(*, client):
    """Save a local client database that ClientDatabaseForm validated (``form.save(commit=False)``):
    a path the form found free becomes a new memorygraph file first (its folder made too, as
    KB_DATA_DIR/clients/ for the default path); an existing file, which the form checked is one,
    is left as it is. Returns client."""
    path = Path(client.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not os.path.lexists(path):
        CanonicalStore(path, create=True).close()
    client.save()
    return client


# Imports ------------------------------------------------------------------------------------

IMPORT_INLINE_ROWS = 2000  # smaller imports run in the request (bounded); bigger ones are worker jobs
PREVIEW_INLINE_BYTES = 4 * 1024 * 1024  # bigger uploads are stored by the request and previewed by a job


def import_upload(*, handle, actor, upload):
    """Store an uploaded file and preview its import; returns the ImportJob (status preview).
    A file that cannot be imported at all raises ImportRefused and is not kept; one that
    would pass the client database's room for waiting uploads raises UploadsFull."""
    path = uploads.upload_store(client=handle.client, upload=upload)
    if upload.size > PREVIEW_INLINE_BYTES:  # reading and planning it is long work: the worker's
        record = ImportJob.objects.create(client=handle.client, actor=_user(actor), filename=upload.name[:255],
                                          path=str(path), size=upload.size)
        job_enqueue(kind="preview", client=handle.client, actor=actor, params={"import": record.pk},
                    message="analysing the file")
        return record
    try:
        plan = import_plan(handle=handle, path=path)
    except BaseException:
        uploads.upload_remove(path)
        raise
    return ImportJob.objects.create(client=handle.client, actor=_user(actor), filename=upload.name[:255],
                                    path=str(path), size=upload.size, source=plan.source, preview=plan.as_dict(),
                                    total=len(plan.writes))


def import_plan(*, handle, path):
    incoming = readers.read_path(path, max_bytes=settings.KB_UPLOAD_MAX_BYTES, scratch=Path(path).parent)
    return plans.plan(incoming, ClientSide(handle))


def import_run(*, handle, actor, job):
    """Import a previewed upload. The file is read and compared again (the database may have
    changed since the preview); every chunk is an upsert, so a failed run can be run again."""
    if job.status == ImportJob.PREVIEW and not job.preview:
        raise Conflict("This upload is still being analysed; its page shows the preview when it is ready.")
    updated = ImportJob.objects.filter(pk=job.pk, status__in=[ImportJob.PREVIEW, ImportJob.FAILED]).update(
        status=ImportJob.RUNNING, message="", done=0)
    if not updated:
        raise Conflict("This import is already running, done, discarded or expired.")
    job.refresh_from_db()
    if job.total <= IMPORT_INLINE_ROWS:
        import_execute(handle=handle, actor=actor, job=job)
    else:
        job_enqueue(kind="import", client=handle.client, actor=actor, total=job.total, params={"import": job.pk})
    return job


def import_execute(*, handle, actor, job, on_progress=None):
    """Run a previewed import (in the request when small, else as the worker's job)."""
    def report(done, total):
        ImportJob.objects.filter(pk=job.pk).update(done=done, total=total)
        if on_progress:
            on_progress(done, total)

    progress = throttled(report, 0.5)
    try:
        plan = plans.plan(readers.read_path(job.path, max_bytes=settings.KB_UPLOAD_MAX_BYTES,
                                             scratch=Path(job.path).parent), ClientSide(handle))
        result = plans.apply(plan, ClientSide(handle), progress)
    except (refusals.ImportRefused, StoreError, FormatError, OSError) as exc:
        # An OSError's text names the server's paths; its reason alone is enough here.
        message = (f"The uploaded file could not be read ({exc.strerror or type(exc).__name__})."
                   if isinstance(exc, OSError) else exc)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.FAILED, message=str(message),
                                                   finished_at=timezone.now())
    else:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.DONE, result=result, done=len(plan.writes),
                                                   total=len(plan.writes), finished_at=timezone.now())
        AuditEntry.objects.create(client=handle.client, actor=_user(actor), action="import",
                                  object_id=str(job.pk), after={"file": job.filename, "source": plan.source,
                                                                "counts": plan.counts, **result})
        uploads.upload_remove(job.path)


def import_discard(*, job):
    if job.status == ImportJob.RUNNING:
        raise Conflict("A running import cannot be discarded.")
    if job.status not in ImportJob.LIVE:
        raise Conflict("This import is already done, discarded or expired.")
    uploads.upload_remove(job.path)
    job.status = ImportJob.DISCARDED
    job.save(update_fields=["status"])
