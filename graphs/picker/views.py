"""The picker's endpoint: /c/<client>/pick/?q=words (viewers and up).

An htmx request gets the list of matches (buttons the picker script turns into a choice);
?format=json the same as data; a plain request a page of links to the memories. A query shorter
than PICK_MIN_CHARS gets no matches but the hint, without a search.
"""
from django.http import JsonResponse
from django.shortcuts import render

from memories.http import client_view, wants_fragment, wants_json

from .selectors import PICK_HINT, memory_pick, too_short

Q_MAX = 200


@client_view
def pick(request, handle):
    q = request.GET.get("q", "")[:Q_MAX]
    # Too short a query is answered at once, empty with a hint (the picker asks as people type).
    hint = PICK_HINT if too_short(q) else ""
    choices = [] if hint else memory_pick(rm=handle.readmodel, text=q)
    if wants_json(request):
        results = [{k: c[k] for k in ("id", "title", "type")} for c in choices]
        return JsonResponse({"q": q, "results": results, **({"hint": hint} if hint else {})})
    context = {"client": handle.client, "q": q, "choices": choices, "hint": hint,
               "field": request.GET.get("field", "")[:40]}
    template = "graphs/pick.html#results" if wants_fragment(request) else "graphs/pick.html"
    return render(request, template, context)
