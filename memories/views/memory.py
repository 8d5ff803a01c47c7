"""One memory: its page, create, edit and delete, its tags inline, and its relationships."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors, services, tagging
from ..editor import views as editor_views
from ..editor.labels import label_history
from ..format import FormatError
from ..forms import MemoryEditForm, MemoryForm, RelationshipForm, TagForm
from ..history import memory_history
from ..http import add_format_errors, client_view, error_response, form_response, respond, wants_json
from ..markdown import render as render_markdown
from ..models import AuditEntry
from ..sync.selectors import outbox_pending_ids


def _memory_or_404(handle, memory_id):
    memory = selectors.memory_detail(rm=handle.readmodel, memory_id=memory_id)
    if memory is None:
        raise Http404(f"No memory with id {memory_id}.")
    return memory


@client_view
def memory_detail(request, handle, memory_id):
    memory = _memory_or_404(handle, memory_id)
    pending = handle.synced and bool(outbox_pending_ids(rm=handle.readmodel, ids=[memory_id]))
    context = {"client": handle.client, "memory": memory, "content_html": render_markdown(memory["content"]),
               "audit": label_history(memory_history(entries=AuditEntry.objects.filter(
                   client=handle.client, object_id=memory_id).select_related("actor")[:50])),
               "pending": pending}
    return respond(request, "memories/detail.html", context, partial="tags",
                   data={"memory": memory, "pending_sync": pending})


@client_view(role="editor")
def memory_create(request, handle):
    context = {"client": handle.client, "memory": None}
    form = MemoryForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                memory_id = services.memory_create(handle=handle, actor=request.user,
                                                   fields=form.fields_for_service())
            except FormatError as exc:
                add_format_errors(form, exc)
            else:
                messages.success(request, "Memory created.")
                return redirect("memory_detail", handle.client.slug, memory_id)
        return form_response(request, "memories/form.html", context, form)
    return respond(request, "memories/form.html", {**context, "form": form})


@client_view(role="editor")
def memory_edit(request, handle, memory_id):
    memory = _memory_or_404(handle, memory_id)
    context = {"client": handle.client, "memory": memory}
    if request.method == "POST":
        form = MemoryEditForm(request.POST)
        if form.is_valid():
            try:
                services.memory_update(handle=handle, actor=request.user, memory_id=memory_id,
                                       fields=form.fields_for_service(),
                                       expected_updated_at=form.cleaned_data["updated_at"])
            except FormatError as exc:
                add_format_errors(form, exc)
            except services.Conflict as exc:
                form.add_error(None, str(exc))
                return form_response(request, "memories/form.html", context, form, status=409)
            else:
                messages.success(request, "Memory saved.")
                return redirect("memory_detail", handle.client.slug, memory_id)
        return form_response(request, "memories/form.html", context, form)
    form = MemoryEditForm(initial={**MemoryForm.initial_from(memory), "updated_at": memory["edit_version"]})
    return respond(request, "memories/form.html", {**context, "form": form})


@require_POST
@client_view(role="editor")
def memory_delete(request, handle, memory_id):
    services.memory_delete(handle=handle, actor=request.user, memory_id=memory_id)
    messages.success(request, "Memory deleted.")
    return redirect("memory_list", handle.client.slug)


@require_POST
@client_view(role="editor")
def memory_tags(request, handle, memory_id):
    form = TagForm(request.POST)
    status, error = 200, None
    if form.is_valid():
        service = tagging.tag_add if form.cleaned_data["action"] == "add" else tagging.tag_remove
        try:
            service(handle=handle, actor=request.user, memory_id=memory_id, tag=form.cleaned_data["tag"])
        except FormatError as exc:
            status, error = 400, " ".join(exc.errors.values())
    else:
        status, error = 400, "Enter a tag of at most 100 characters."
    memory = _memory_or_404(handle, memory_id)
    if not wants_json(request) and not request.htmx and status == 200:
        return redirect("memory_detail", handle.client.slug, memory_id)
    context = {"client": handle.client, "memory": memory, "tag_error": error,
               "content_html": render_markdown(memory["content"])}
    return respond(request, "memories/detail.html", context, partial="tags",
                   data={"tags": memory["tags"], "error": error}, status=status)


@client_view(role="editor")
def relationship_create(request, handle, memory_id):
    memory = _memory_or_404(handle, memory_id)
    context = {"client": handle.client, "memory": memory}
    form = RelationshipForm(request.POST or None, initial={"other": request.GET.get("other", "")})
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            ends = (memory_id, data["other"]) if data["direction"] == "out" else (data["other"], memory_id)
            try:
                services.relationship_create(
                    handle=handle, actor=request.user, from_id=ends[0], to_id=ends[1],
                    rel_type=data["rel_type"], strength=data["strength"], confidence=data["confidence"],
                    context=data["context"])
            except FormatError as exc:
                for field, message in exc.errors.items():
                    form.add_error("other" if field in ("from_id", "to_id") else
                                   field if field in form.fields else None, message)
            else:
                messages.success(request, "Relationship added.")
                return redirect("memory_detail", handle.client.slug, memory_id)
        return form_response(request, "memories/relationship_form.html", context, form)
    return respond(request, "memories/relationship_form.html", {**context, "form": form})


@require_http_methods(["GET", "POST"])
@client_view(role="editor")
def relationship_delete(request, handle, rel_id):
    if request.method == "GET":  # the ✕ on the memory page asks first
        return editor_views.relationship_confirm(request, handle, rel_id)
    # `memory` is the page to go back to; checked before the delete, because a bad one
    # found after it would answer an error for a change that was made.
    back = request.POST.get("memory", "")
    ends = selectors.relationship_ends(rm=handle.readmodel, rel_id=rel_id)
    if ends is None:
        raise Http404(f"No relationship with id {rel_id}.")
    if back and back not in ends:
        return error_response(request, "memory must be the id of one end of this relationship (the page to "
                                       "go back to); nothing was removed.", status=400)
    services.relationship_delete(handle=handle, actor=request.user, rel_id=rel_id)
    messages.success(request, "Relationship removed.")
    if back:
        return redirect("memory_detail", handle.client.slug, back)
    return redirect("memory_list", handle.client.slug)
