"""Template helpers: URLs that toggle one facet value while keeping the rest of the state."""
from datetime import datetime

from django import template
from django.utils.http import urlencode

from memories.markdown import plain as markdown_plain

register = template.Library()

# Paging state that a change of filters makes meaningless.
_RESET = ("after", "page")


def _pairs(request):
    return [(k, v) for k, values in request.GET.lists() for v in values if k not in _RESET and k != "format"]


@register.simple_tag(takes_context=True)
def toggle(context, key, value):
    """The current URL with key=value added, or removed when it is already there."""
    request = context["request"]
    value = str(value)
    pairs = _pairs(request)
    if (key, value) in pairs:
        pairs.remove((key, value))
    else:
        if key not in ("type", "tag"):
            pairs = [(k, v) for k, v in pairs if k != key]
        pairs.append((key, value))
    return "?" + urlencode(pairs)


@register.simple_tag(takes_context=True)
def with_param(context, key, value):
    """The current URL with key set to value (paging state kept only when key is paging)."""
    request = context["request"]
    pairs = [(k, v) for k, values in request.GET.lists() for v in values if k != key and k != "format"]
    if key not in _RESET:
        pairs = [(k, v) for k, v in pairs if k not in _RESET]
    if value not in (None, ""):
        pairs.append((key, str(value)))
    return "?" + urlencode(pairs)


@register.simple_tag(takes_context=True)
def json_url(context):
    request = context["request"]
    pairs = [(k, v) for k, values in request.GET.lists() for v in values if k != "format"]
    return "?" + urlencode(pairs + [("format", "json")])


@register.filter
def label(value):
    return str(value).replace("_", " ")


@register.filter
def when(value):
    """ISO timestamp -> 'YYYY-MM-DD HH:MM' (UTC)."""
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return value or ""


@register.filter
def month_name(value):
    try:
        return datetime.strptime(value, "%Y-%m").strftime("%b %Y")
    except (TypeError, ValueError):
        return value


@register.filter
def percent(value):
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return ""


@register.filter
def plain(value):
    """Markdown -> one line of plain text."""
    return markdown_plain(value)
