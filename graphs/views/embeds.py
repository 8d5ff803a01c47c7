"""Embed links: the page that makes and revokes them, the view one opens without login (in an
iframe of an allowed origin, or as an SVG image), and the oEmbed provider for wikis."""
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_POST

from memories.access import require
from memories.http import client_view, error_response
from memories.store.registry import handle_for

from ..models import EmbedToken
from .graph import graph_for, present

# The iframe snippet's height (px) on the embed links page: the graph fills whatever it is given.
EMBED_HEIGHT, EMBED_HEIGHT_MIN, EMBED_HEIGHT_MAX = 600, 200, 2000


@client_view
def embeds(request, handle):
    if request.method == "POST":
        require(request.user, handle.client, "editor")
        state = request.POST.get("view", "")
        try:
            graph_for(handle, QueryDict(state))
        except (ValueError, LookupError):
            return error_response(
                request, "That graph view cannot be embedded: its parameters are not valid.", status=400)
        days = request.POST.get("expires_days", "")
        if days and _whole_number(days, 1, 3650) is None:
            return error_response(request, "Expiry must be a number of days between 1 and 3650.", status=400)
        embed = EmbedToken.objects.create(
            client=handle.client, view=state[:2000],
            title=(request.POST.get("title") or "Memory graph")[:200], created_by=request.user,
            expires_at=timezone.now() + timedelta(days=int(days)) if days else None)
        messages.success(request, "Embed link created.")
        return redirect(f"{reverse('graph_embeds', args=[handle.client.slug])}#embed-{embed.pk}")
    items = EmbedToken.objects.filter(client=handle.client)
    height = _whole_number(request.GET.get("height", ""), EMBED_HEIGHT_MIN, EMBED_HEIGHT_MAX) or EMBED_HEIGHT
    rows = [{"embed": e, "url": request.build_absolute_uri(reverse("embed", args=[e.token])),
             "svg": request.build_absolute_uri(reverse("embed_svg", args=[e.token])),
             "problem": e.problem()} for e in items]
    return render(request, "graphs/embeds.html", {
        "client": handle.client, "rows": rows, "height": height,
        "height_min": EMBED_HEIGHT_MIN, "height_max": EMBED_HEIGHT_MAX})


@require_POST
@client_view(role="editor")
def embed_revoke(request, handle, embed_id):
    embed = get_object_or_404(EmbedToken, pk=embed_id, client=handle.client)
    if not embed.revoked_at:
        embed.revoked_at = timezone.now()
        embed.save(update_fields=["revoked_at"])
    messages.success(request, "Embed link revoked: it now shows a 403 page.")
    return redirect("graph_embeds", handle.client.slug)


def _frame_ancestors(response):
    origins = " ".join(["'self'", *settings.KB_EMBED_ORIGINS])
    response["Content-Security-Policy"] = f"frame-ancestors {origins}"
    return response


def _embed_or_403(token):
    try:
        embed = EmbedToken.from_token(token)
    except (signing.BadSignature, EmbedToken.DoesNotExist):
        return None, "This embed link is not valid."
    return embed, embed.problem()


@login_not_required
@xframe_options_exempt
def embed(request, token, force_format=None):
    embed, problem = _embed_or_403(token)
    if problem:
        # An archived database is not found anywhere, embeds included; revoked or expired is 403.
        status = 404 if embed is not None and embed.client.archived else 403
        response = render(request, "graphs/embed_denied.html", {"message": problem}, status=status)
        return _frame_ancestors(response)
    handle = handle_for(embed.client)
    handle.ensure_fresh()
    # The stored view is the whole scope: only the output format may come from the request.
    query = QueryDict(embed.view, mutable=True)
    fmt = force_format or request.GET.get("format", "")
    if fmt in ("json", "svg"):
        query["format"] = fmt
    try:
        data, result = graph_for(handle, query)
    except (ValueError, LookupError) as exc:
        denied = render(request, "graphs/embed_denied.html", {"message": str(exc)}, status=404)
        return _frame_ancestors(denied)
    response = present(request, embed.client, result, data, state=embed.view, base="", embed=embed)
    return _frame_ancestors(response)


@login_not_required
@xframe_options_exempt
def embed_svg(request, token):
    return embed(request, token, force_format="svg")


@login_not_required
def oembed(request):
    """oEmbed provider (JSON, type rich) for embed URLs of this site."""
    url = request.GET.get("url", "")
    if request.GET.get("format", "json") != "json":
        return JsonResponse({"error": "Only format=json is supported."}, status=501)
    parts = urlsplit(url)
    prefix = "/embed/"
    if parts.netloc != request.get_host() or not parts.path.startswith(prefix):
        return JsonResponse({"error": "url must be an embed link of this site (/embed/<token>/)."},
                            status=404)
    token = parts.path[len(prefix):].strip("/")
    found, problem = _embed_or_403(token)
    if problem:
        return JsonResponse({"error": problem}, status=403 if found and not found.client.archived else 404)
    width, height = _dimension(request, "maxwidth", 800), _dimension(request, "maxheight", 600)
    src = request.build_absolute_uri(reverse("embed", args=[token]))
    html = (f'<iframe src="{src}" width="{width}" height="{height}" style="border:0" '
            f'title="{escape(found.title)}" loading="lazy"></iframe>')
    return JsonResponse({
        "version": "1.0", "type": "rich", "provider_name": "Memory KB", "title": found.title,
        "html": html, "width": width, "height": height,
        "thumbnail_url": request.build_absolute_uri(reverse("embed_svg", args=[token])),
        "thumbnail_width": width, "thumbnail_height": height,
    })


def _dimension(request, key, default):
    value = _whole_number(request.GET.get(key, ""), 1, 10**6)
    return min(default, value) if value else default


def _whole_number(text, low, high):
    """text as an integer within low..high, or None. Only ASCII digits, and not too many of
    them: str.isdigit() accepts "²", which int() refuses, as it refuses 4,301 digits."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(high))):
        return None
    value = int(text)
    return value if low <= value <= high else None
