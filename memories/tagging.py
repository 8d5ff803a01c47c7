"""Tag writes: one memory's tags, a tag renamed everywhere, and bulk tagging with its undo.

A topic module beside ``services.py`` (whose write machinery and errors it uses), as Zulip keeps
``actions/alert_words.py`` beside the other actions. One memory's tag is a memory update; a rename
and a bulk tagging change many memories, chunk by chunk, and a bulk tagging of more than
BULK_INLINE memories, or its undo, is a worker job.
"""
from django.utils import timezone

from .format import FormatError, normalise_tags, tag_errors
from .models import AuditEntry, TagBatch
from .properties import memory_properties
from .services import Conflict, audit_user, memory_update, update_readmodel
from .worker.jobs import job_enqueue
from .worker.models import Job

# Bulk changes commit in chunks so the memorygraph server never waits long for the lock.
CHUNK = 500
BULK_INLINE = 1000  # bulk tagging of more memories than this is a worker job (memories/worker/)


def tag_add(*, handle, actor, memory_id, tag):
    return memory_update(handle=handle, actor=actor, memory_id=memory_id,
                         fields=lambda before: {"tags": [*(before.get("tags") or []),
                                                         *normalise_tags([tag])]})


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
                    audits.append(AuditEntry(client=handle.client, actor=audit_user(actor), action=action,
                                             object_id=memory_id, before=before, after=after))
            update_readmodel(handle, memory_ids=written)
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
    batch = TagBatch.objects.create(client=handle.client, actor=audit_user(actor), tag=tag,
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

    _retag(handle, actor, "tag.bulk", list(memory_ids),
           lambda tags: tags if batch.tag in tags else [*tags, batch.tag],
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
    _retag(handle, actor, "tag.bulk_undo", list(batch.memory_ids),
           lambda tags: [t for t in tags if t != batch.tag], progress=progress)
    batch.undone_at = timezone.now()
    batch.save(update_fields=["undone_at"])
