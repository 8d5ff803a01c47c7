"""The cloud API's endpoints, one per CloudRESTAdapter call: parse, one service or selector, JSON."""
from django.http import HttpResponse, JsonResponse

from ... import services
from ...format import REL_TYPES
from . import selectors
from .http import api_view, read_json
from .serializers import PayloadError, int_param, memory_fields, relationship_args, search_args

VERSION = "memory-kb/1"


def _not_found(memory_id):
    return services.NotFound(f"No memory with id {memory_id}.")


@api_view(methods=("GET",))
def health(request, handle, actor):
    return JsonResponse({"status": "healthy", "version": VERSION})


@api_view(methods=("POST",), write=("POST",), fresh=False)
def memory_store(request, handle, actor):
    payload = read_json(request)
    fields = memory_fields(payload)
    memory_id = services.memory_create(handle=handle, actor=actor, fields=fields,
                                       memory_id=payload.get("id") or None)
    return JsonResponse(selectors.memory_get(rm=handle.readmodel, memory_id=memory_id), status=201)


@api_view(methods=("GET", "PUT", "DELETE"), write=("PUT", "DELETE"))
def memory(request, handle, actor, memory_id):
    rm = handle.readmodel
    if selectors.memory_row(rm, memory_id) is None:
        raise _not_found(memory_id)
    if request.method == "GET":
        return JsonResponse(selectors.memory_get(rm=rm, memory_id=memory_id))
    if request.method == "DELETE":
        services.memory_delete(handle=handle, actor=actor, memory_id=memory_id)
        return HttpResponse(status=204)
    fields = memory_fields(read_json(request), partial=True)
    services.memory_update(handle=handle, actor=actor, memory_id=memory_id, fields=fields)
    return JsonResponse(selectors.memory_get(rm=rm, memory_id=memory_id))


@api_view(methods=("POST",), write=("POST",))
def relationship_store(request, handle, actor):
    args = relationship_args(read_json(request))
    for memory_id in (args["from_id"], args["to_id"]):
        if selectors.memory_row(handle.readmodel, memory_id) is None:
            raise _not_found(memory_id)
    rel_id = services.relationship_create(handle=handle, actor=actor, **args)
    return JsonResponse({"id": rel_id, "relationship_id": rel_id}, status=201)


@api_view(methods=("GET",))
def related(request, handle, actor, memory_id):
    depth = int_param(request.GET.get("max_depth"), "max_depth", 1, 5, 1)
    types = tuple(t.strip() for t in request.GET.get("relationship_types", "").split(",") if t.strip())
    if unknown := [t for t in types if t not in REL_TYPES]:
        raise PayloadError({"relationship_types": f"Unknown relationship type {unknown[0][:40]!r}."})
    if selectors.memory_row(handle.readmodel, memory_id) is None:
        raise _not_found(memory_id)
    found = selectors.related(rm=handle.readmodel, memory_id=memory_id, max_depth=depth, rel_types=types)
    return JsonResponse({"memory_id": memory_id, "related_memories": found})


@api_view(methods=("POST",))
def search_advanced(request, handle, actor):
    args = search_args(read_json(request) or {})
    return JsonResponse({"memories": selectors.search(rm=handle.readmodel, args=args)})


@api_view(methods=("POST",))
def search_recall(request, handle, actor):
    args = search_args(read_json(request) or {}, recall=True)
    return JsonResponse({"memories": selectors.recall(rm=handle.readmodel, args=args)})


@api_view(methods=("GET",))
def recent(request, handle, actor):
    days = int_param(request.GET.get("days"), "days", 1, 3650, 7)
    project = request.GET.get("project") or None
    return JsonResponse(selectors.recent_activity(rm=handle.readmodel, days=days, project=project))


@api_view(methods=("GET",))
def statistics(request, handle, actor):
    return JsonResponse(selectors.statistics(rm=handle.readmodel))

