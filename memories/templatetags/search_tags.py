"""Template helpers of the search page: importance bands as the rows show them, plain links."""
from django import template
from django.utils.http import urlencode

from memories.format import importance_band

register = template.Library()

# The ranges format.importance_band cuts at, as a row's "★ 76%" reads them.
BAND_RANGES = {"high": "70–100%", "medium": "40–69%", "low": "0–39%"}


@register.filter
def band_of(importance):
    try:
        return importance_band(float(importance))
    except (TypeError, ValueError):
        return importance_band(None)


@register.filter
def band_range(band):
    return BAND_RANGES.get(band, "")


@register.filter
def query_only(text):
    """The query string of a search for text and nothing else."""
    return urlencode([("q", text)])
