"""The database memorygraph's tool handlers talk to, on top of our services and read model.

It implements the methods of memorygraph 0.12.4's ``CloudMemoryDatabase`` that its core
and extended tool handlers call, with the same contract (``get_memory`` answers None for an
unknown id, ``update_memory``/``delete_memory`` False), so the handlers' texts are
memorygraph's own. Writes go through ``memories.services`` (validation, read model updated
at once, audit with the key as actor, the outbox on a synced database); reads through the
read model (``reads``).

The handlers are coroutines; our services are sync Django code. Each method runs its work
with ``sync_to_async`` (thread-sensitive), i.e. back on the request's own thread, where the
view's ``async_to_sync`` waits: the ORM and the per-thread read-model connection are used
exactly as by any other view.
"""
from asgiref.sync import sync_to_async

from ... import services
from ...format import CONTEXT_LIST_FIELDS, CONTEXT_TEXT_FIELDS, FormatError
from ..actor import actor_for
from . import reads


def _fields(memory):
    fields = {"type": memory.type.value, "title": memory.title, "content": memory.content,
              "summary": memory.summary, "tags": list(memory.tags or []), "importance": memory.importance,
              "confidence": memory.confidence}
    context = memory.context
    if context is not None:
        for name in CONTEXT_TEXT_FIELDS:
            if getattr(context, name, None):
                fields[name] = getattr(context, name)
        for name in CONTEXT_LIST_FIELDS:
            if getattr(context, name, None):
                fields[name] = list(getattr(context, name))
        if getattr(context, "additional_metadata", None):
            fields["additional_metadata"] = dict(context.additional_metadata)
    return fields


class KbMemoryDatabase:
    """One request's view of one client database, acting as one API key."""

    def __init__(self, *, handle, key):
        self.handle = handle
        self.key = key
        self.actor = actor_for(key)
        self._read = {}  # memory id -> the Memory get_memory answered, as it was read

    @property
    def rm(self):
        return self.handle.readmodel

    # Writes ----------------------------------------------------------------------------

    async def store_memory(self, memory):
        return await sync_to_async(self._store)(memory)

    def _store(self, memory):
        return services.memory_create(handle=self.handle, actor=self.actor, fields=_fields(memory),
                                      memory_id=memory.id)

    async def update_memory(self, memory):
        return await sync_to_async(self._update)(memory)

    def _update(self, memory):
        # The fields CloudMemoryDatabase.update_memory sends; None means "leave as it is". memorygraph's
        # handler reads the memory, changes some fields and sends all of them back: only those that
        # differ from what it read are written, so an edit made in between to another field survives.
        read = self._read.get(memory.id)
        changes = {k: v for k, v in (("title", memory.title), ("content", memory.content),
                                     ("summary", memory.summary), ("tags", memory.tags),
                                     ("importance", memory.importance))
                   if v is not None and (read is None or getattr(read, k) != v)}
        try:
            services.memory_update(handle=self.handle, actor=self.actor, memory_id=memory.id, fields=changes)
        except services.NotFound:
            return False
        return True

    async def delete_memory(self, memory_id):
        return await sync_to_async(self._delete)(memory_id)

    def _delete(self, memory_id):
        try:
            services.memory_delete(handle=self.handle, actor=self.actor, memory_id=memory_id)
        except services.NotFound:
            return False
        return True

    async def create_relationship(self, from_memory_id, to_memory_id, relationship_type, properties=None):
        return await sync_to_async(self._relate)(from_memory_id, to_memory_id, relationship_type, properties)

    def _relate(self, from_id, to_id, rel_type, properties):
        for memory_id in (from_id, to_id):
            if not isinstance(memory_id, str):
                raise FormatError({"memory_id": "Memory ids must be text."})
        return services.relationship_create(
            handle=self.handle, actor=self.actor, from_id=from_id, to_id=to_id, rel_type=rel_type.value,
            strength=properties.strength if properties else 0.5,
            confidence=properties.confidence if properties else 0.8,
            context=(properties.context or "") if properties else "")

    # Reads -----------------------------------------------------------------------------

    async def get_memory(self, memory_id, include_relationships=True):
        if not isinstance(memory_id, str):
            raise FormatError({"memory_id": "A memory id must be text."})
        memory = await sync_to_async(reads.memory_get)(self.rm, memory_id)
        if memory is not None:
            self._read[memory_id] = memory.model_copy(deep=True)
        return memory

    async def search_memories(self, search_query):
        return await sync_to_async(reads.memory_search)(self.rm, search_query)

    async def get_related_memories(self, memory_id, relationship_types=None, max_depth=2):
        if not isinstance(memory_id, str) or isinstance(max_depth, bool) or not isinstance(max_depth, int):
            raise FormatError({"memory_id": "memory_id must be text and max_depth a whole number."})
        return await sync_to_async(reads.related_memories)(self.rm, memory_id, relationship_types, max_depth)

    async def get_recent_activity(self, days=7, project=None):
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            raise FormatError({"days": "days must be a whole number from 1 to 3650."})
        return await sync_to_async(reads.recent_activity)(self.rm, days, project)

    async def get_memory_statistics(self):
        return await sync_to_async(reads.statistics)(self.rm)
