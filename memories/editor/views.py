"""The editor's helpers: a Markdown preview and tag suggestions (htmx fragments with JSON twins),
and the page that confirms a relationship's removal."""
from django.http import Http404, JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST

from ..format import CONTENT_MAX
from ..http import client_view, error_response, wants_json
from ..markdown import render as render_markdown
from . import selectors


@require_POST
@client_view(role="editor")
def markdown_preview(request, handle):
    """The content as the memory page will show it: the same renderer and sanitiser."""
    content = request.POST.get("content", "")
    if len(content) > CONTENT_MAX:
        return error_response(request, f"The content is longer than {CONTENT_MAX:,} characters; "
                                       "shorten it to preview or save it.", status=400)
    html = render_markdown(content)
    if wants_json(request):
        return JsonResponse({"html": html})
    return TemplateResponse(request, "memories/_preview.html", {"html": html})


@require_GET
@client_view
def tag_suggest(request, handle):
    """Tags for a comma-separated tags box: each suggestion is the whole box's value with its last
    word completed, because a <datalist> matches against the whole value."""
    typed = request.GET.get("q", request.GET.get("tags", request.GET.get("tag", "")))[:1000]
    head, _, last = typed.rpartition(",")
    suggestions = selectors.tag_suggestions(rm=handle.readmodel, prefix=last[:100])
    if wants_json(request):
        return JsonResponse({"tags": suggestions})
    taken = {t.strip().lower() for t in head.split(",") if t.strip()}
    prefix = f"{head.strip()}, " if head.strip() else ""
    options = [{"value": prefix + s["tag"], "tag": s["tag"], "count": s["count"]}
               for s in suggestions if s["tag"] not in taken]
    return TemplateResponse(request, "memories/_tag_options.html", {"options": options})


def relationship_confirm(request, handle, rel_id):
    """GET of the remove URL: what would be removed, and the button that removes it (a POST)."""
    relationship = selectors.relationship_summary(rm=handle.readmodel, rel_id=rel_id)
    if relationship is None:
        raise Http404(f"No relationship with id {rel_id}.")
    back = request.GET.get("memory", "")
    if back not in (relationship["from_id"], relationship["to_id"]):
        back = relationship["from_id"]
    return TemplateResponse(request, "memories/relationship_delete.html",
                            {"client": handle.client, "rel": relationship, "back": back})
