"""Facet and sort links of a list page, built once per request in Python.

A list page shows ~200 links that each keep the rest of the URL's state; building them
with template tags cost a third of the page's render time.
"""
from django.utils.http import urlencode

from .templatetags.kb import RESET, month_name
MULTI = ("type", "tag")
SORTS = ("newest", "oldest", "updated", "importance", "title")


class Links:
    def __init__(self, query):
        self.pairs = [(k, v) for k, values in query.lists() for v in values if k != "format"]
        self.kept = [(k, v) for k, v in self.pairs if k not in RESET]

    def toggle(self, key, value):
        """This URL with key=value added, or removed when present (other keys' values kept)."""
        pairs = list(self.kept)
        if (key, value) in pairs:
            pairs.remove((key, value))
        else:
            if key not in MULTI:
                pairs = [(k, v) for k, v in pairs if k != key]
            pairs.append((key, value))
        return "?" + urlencode(pairs)

    def with_param(self, key, value):
        base = self.pairs if key in RESET else self.kept
        return "?" + urlencode([(k, v) for k, v in base if k != key] + [(key, str(value))])


def facet_links(query, facets, filters):
    """{facet: [{value, label, n, url, on}]} for the sidebar, plus the active filters and sorts."""
    links = Links(query)
    chosen = {"type": set(filters.types), "tag": set(filters.tags), "project": {filters.project},
              "band": {filters.band}, "month": {filters.month}}
    labels = {"type": lambda v: v.replace("_", " "), "tag": lambda v: f"#{v}",
              "project": lambda v: v or "(no project)", "band": str, "month": month_name}
    result = {
        facet: [{"value": value, "label": labels[facet](value), "n": n, "url": links.toggle(facet, value),
                 "on": value in chosen[facet]} for value, n in facets.get(facet, {}).items()]
        for facet in labels
    }
    result["active"] = [{"key": k, "value": v, "url": links.toggle(k, v)} for k, v in filters.as_params()]
    result["sorts"] = [{"key": s, "url": links.with_param("sort", s)} for s in SORTS]
    return result
