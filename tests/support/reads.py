"""What a test reads back from a client database's read model."""
from memories import selectors
from memories.store import readmodel


def diffs():
    return readmodel.diff_runs


def title(handle, memory_id):
    detail = selectors.memory_detail(rm=handle.readmodel, memory_id=memory_id)
    return detail and detail["title"]
