"""The picker's endpoint: /c/<client>/pick/?q=words (viewers and up).

An htmx request gets the list of matches (buttons the picker script turns into a choice);
?format=json the same as data; a plain request a page of links to the memories.
"""
from django.http import JsonResponse
from django.shortcuts import render

from memories.http import client_view, wants_fragment, wants_json

from .selectors import memory_pick

Q_MAX = 200


@client_view
def pick(request, handle):
    q = request.GET.get("q", "")[:Q_MAX]
    choices = memory_pick(rm=handle.readmodel, text=q)
    if wants_json(request):
        return JsonResponse({"q": q, "results": [{k: c[k] for k in ("id", "title", "type")} for c in choices]})
    context = {"client": handle.client, "q": q, "choices": choices, "field": request.GET.get("field", "")[:40]}
    template = "graphs/pick.html#results" if wants_fragment(request) else "graphs/pick.html"
    return render(request, template, context)
