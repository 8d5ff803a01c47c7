"""The API keys page of a client database (admins only): create, list, revoke."""
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..http import client_view
from ..models import ApiKey
from .forms import ApiKeyForm
from .keys import KeyProblem, api_key_create, api_key_revoke, writes_last_day
from .mcp.setup import endpoint_url, http_config
from .setup import api_url, mcp_config


def setups(request, client, key):
    """The two ways to point an agent at client with key: memorygraph's cloud backend, our MCP endpoint."""
    return {"cloud": mcp_config(url=api_url(request, client), key=key),
            "http": http_config(url=endpoint_url(request, client), key=key)}


def _page(request, handle, form, created=None, status=200):
    client = handle.client
    keys = list(ApiKey.objects.filter(client=client).select_related("created_by"))
    counts = writes_last_day(keys)
    for key in keys:
        key.writes_24h = counts.get(key.pk, 0)
    return TemplateResponse(request, "agents/keys.html", {
        "client": client, "form": form, "keys": keys, "created": created, "now": timezone.now(),
        "api_url": api_url(request, client), "mcp_url": endpoint_url(request, client),
        "example": setups(request, client, "mg_…"),
        "limits": {"writes": settings.KB_API_WRITES_PER_MIN, "reads": settings.KB_API_READS_PER_MIN},
    }, status=status)


@client_view(role="admin")
def key_list(request, handle):
    if request.method != "POST":
        return _page(request, handle, ApiKeyForm())
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, handle, form, status=400)
    days = form.cleaned_data.get("expires_days")
    try:
        key, raw = api_key_create(client=handle.client, actor=request.user, name=form.cleaned_data["name"],
                                  role=form.cleaned_data["role"],
                                  expires_at=timezone.now() + timedelta(days=days) if days else None)
    except KeyProblem as exc:
        for field, message in exc.errors.items():
            form.add_error(field if field in form.fields else None, message)
        return _page(request, handle, form, status=400)
    created = {"key": key, "raw": raw, "setup": setups(request, handle.client, raw)}
    # The key is shown in this response only: it is not stored and never put in a redirect.
    response = _page(request, handle, ApiKeyForm(), created=created, status=201)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@client_view(role="admin")
def key_revoke(request, handle, key_id):
    key = get_object_or_404(ApiKey, pk=key_id, client=handle.client)
    api_key_revoke(key=key, actor=request.user)
    messages.success(request, f"Key {key.name} is revoked: requests with it are refused from now on.")
    return redirect("api_keys", handle.client.slug)
