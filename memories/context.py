from .access import can_edit


def kb(request):
    """The user's role in the current client database, for showing or hiding edit controls."""
    role = getattr(request, "kb_role", None)
    return {"kb_role": role, "can_edit": can_edit(role)}
