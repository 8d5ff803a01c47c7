"""Writes: every change to a memory graph goes through here.

Each service validates against the memorygraph format, writes the canonical file in a
short transaction with exactly the server's keys, reads the written rows back (so the
read model stores the same version the canonical file now has), updates the read model
in the same request, and records an audit entry.

This module holds memories, relationships and local client databases, and the write
machinery they share (the errors, the write group, the read model's update, the audit
entry's user). Writes of another topic have a module of their own beside it, as Zulip's
``actions/`` do: tags and bulk tagging in ``memories/tagging.py``, an upload's import in
``memories/interchange/imports/runs.py``.
"""
import os
from pathlib import Path
from typing import NamedTuple

from .errors import KBError
from .format import REL_TYPES, FormatError, id_error, is_fraction, new_id, normalise_tags, validate_memory
from .models import AuditEntry
from .properties import memory_properties, relationship_properties
from .selectors import memory_version
from .store import freshness
from .store.audit import audit_record
from .store.canonical import CanonicalStore
from .store.groupcommit import group_for


class ServiceError(KBError):
    status = 400


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


def update_readmodel(handle, *, memory_ids=(), edge_ids=(), removed_memory_ids=(), removed_edge_ids=()):
    """Bring the read model up to date with rows just written to the canonical file (read back
    from it) and with those removed; a store that updates the read model itself is left alone."""
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


def audit_user(actor):
    """The user an audit entry names for ``actor``: None for anonymous work (the worker, scripts)."""
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
        update_readmodel(handle, memory_ids=[i for o in outcomes for i in o.memory_ids],
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
    return AuditEntry(client=handle.client, actor=audit_user(actor), action=action, object_id=object_id,
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
        merged = {"type": before.get("type"), "title": before.get("title", ""),
                  "summary": before.get("summary"), "content": before.get("content"),
                  "tags": before.get("tags", []), **changes}
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
        return _Done(rel_id, _entry(handle, actor, "relationship.create", rel_id, after=after),
                     edge_ids=(rel_id,))

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
