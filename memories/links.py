"""Links: a memory id as a URL path segment, and the facet and sort links of a list page.

A list page shows ~200 links that each keep the rest of the URL's state; building them
with template tags cost a third of the page's render time.
"""
import base64
import re

from django.utils.http import urlencode

from .templatetags.kb import RESET, month_name

MULTI = ("type", "tag")
SORTS = ("newest", "oldest", "updated", "importance", "title")
ENCODED = "~"  # starts a path segment holding an id in base64url; no valid id starts with it
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
RESERVED = ("", ".", "..", "new")


def memory_segment(memory_id):
    """A memory or relationship id as one URL path segment (before reverse() quotes it).

    Ids of the format's form stand as they are, so their URLs never change. An id someone
    else wrote that could not stand as a segment ('/' splits it, browsers resolve '.' and
    '..' away, control characters and lone surrogates do not survive quoting, `new` is the
    create page) is base64url behind a '~', so such a memory can still be opened, edited
    and deleted.
    """
    if memory_id not in RESERVED and "/" not in memory_id and not memory_id.startswith(ENCODED) \
            and memory_id.isprintable() and _encodable(memory_id):
        return memory_id
    return ENCODED + base64.urlsafe_b64encode(memory_id.encode("utf-8", "surrogatepass")).decode().rstrip("=")


def _encodable(text):
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def memory_id_from_segment(segment):
    """The id a path segment names; ValueError (a 404) for a '~' segment that is not base64url."""
    if not segment.startswith(ENCODED):
        return segment
    body = segment[len(ENCODED):]
    if not _BASE64URL.fullmatch(body) or len(body) % 4 == 1:
        raise ValueError("not an encoded id")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8", "surrogatepass")


class MemoryIdConverter:
    """``<memory_id:...>`` in URL patterns: any id, as ``memory_segment`` writes it."""
    regex = "[^/]+"

    def to_python(self, value):
        return memory_id_from_segment(value)

    def to_url(self, value):
        return memory_segment(value)


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
