"""Markdown for memory content. Agents write this text: treat it as untrusted.

markdown-it renders CommonMark with raw HTML disabled; nh3 (Ammonia) then keeps only a
safelist of tags, attributes and URL schemes, so script, event handlers, javascript:
links and SVG payloads never survive. Images are dropped: a page must load nothing from
elsewhere (no tracking pixels, works offline).
"""
import re

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"},
                      "code": {"class"}, "th": {"style"}, "td": {"style"}}


def render(text):
    """Safe HTML for a memory's Markdown content."""
    return nh3.clean(
        _md.render(text or ""),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
    )


_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_SYNTAX = re.compile(r"```[\w+-]*|`|\*\*|__|^#+\s*", re.MULTILINE)


def plain(text):
    """Markdown source -> readable one-line text for snippets and summaries (links keep their text)."""
    return " ".join(_SYNTAX.sub("", _LINK.sub(r"\1", text or "")).split())
