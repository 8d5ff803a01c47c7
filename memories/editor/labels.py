"""Field labels for people: the audit log keeps memorygraph's keys (``context_frameworks``),
the history shows what the edit form calls them ("Frameworks")."""
from django.forms.utils import pretty_name

from ..forms import MemoryForm

# Keys of memorygraph's properties that are not named like the form's fields.
RENAMED = {"type": "Type", "memory_type": "Type", "context_project_path": "Project path"}


def field_label(key):
    if key in RENAMED:
        return RENAMED[key]
    name = key.removeprefix("context_")
    field = MemoryForm.base_fields.get(name)
    if field is not None and field.label:
        return str(field.label)
    return pretty_name(name)


def label_history(history):
    """memory_history's entries with a ``label`` beside each change's ``field``."""
    for entry in history:
        for change in entry["changes"]:
            change["label"] = field_label(change["field"])
    return history
