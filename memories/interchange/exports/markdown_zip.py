"""The Markdown export: one ``.md`` file per memory in a zip, linked to each other by file name.

Titles and ids are untrusted (any agent writes them), so a file name is built only from an
ASCII slug and the id's letters and digits, never a path, and the title is escaped where it
becomes Markdown (a heading, a link's text) so that it renders as the text it is. Content
is written verbatim: it is the memory's Markdown. The zip is a temporary file that is already
unlinked when it is handed back, so the operating system frees it once the response has been sent.
"""
import json
import re
import tempfile
import zipfile

from django.utils.text import slugify

from . import reads as export_data

SLUG_MAX = 60
# Backslash-escaped in titles: what could open a tag, link, emphasis, code span or entity.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#&|~!])")


def _short_id(memory_id):
    return re.sub(r"[^A-Za-z0-9]", "", memory_id)[:8] or "memory"


def file_names(titles):
    """{id: file name}: slug of the title + short id + ``.md``, unique even on case-insensitive disks."""
    names, taken = {}, set()
    for memory_id, title in titles.items():
        stem = f"{slugify(title)[:SLUG_MAX].strip('-_') or 'memory'}-{_short_id(memory_id)}"
        name, n = f"{stem}.md", 2
        while name.lower() in taken:
            name, n = f"{stem}-{n}.md", n + 1
        taken.add(name.lower())
        names[memory_id] = name
    return names


def inline(text):
    """One line of Markdown that renders as ``text`` itself."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _front_matter(row):
    """YAML front matter; every value is JSON, which YAML reads as is and which cannot span lines."""
    fields = (("id", row["id"]), ("type", row["type"]), ("tags", json.loads(row["tags"])),
              ("importance", row["importance"]), ("created_at", row["created_at"]),
              ("updated_at", row["updated_at"]))
    return ["---", *(f"{key}: {json.dumps(value)}" for key, value in fields), "---", ""]


def _relationship_line(direction, edge, names, titles):
    other = edge["to_id"] if direction == "out" else edge["from_id"]
    arrow = "→" if direction == "out" else "←"
    ended = "" if edge["current"] else " (no longer valid)"
    return f"- {inline(edge['rel_type'])} {arrow} [{inline(titles[other])}]({names[other]}){ended}"


def markdown_file(row, edges, names, titles):
    """The text of one memory's file; edges are (direction, edge row) pairs."""
    lines = _front_matter(row) + [f"# {inline(row['title'])}", ""]
    if row["summary"]:
        lines += ["> " + line for line in row["summary"].splitlines()] + [""]
    lines += [row["content"], ""]
    if edges:
        lines += ["## Relationships", ""]
        lines += [_relationship_line(direction, edge, names, titles) for direction, edge in edges]
        lines.append("")
    return "\n".join(lines)


def write_markdown(*, conn, ids, fileobj, folder):
    """Write the zip to fileobj: ``<folder>/<file name>`` per memory."""
    titles = export_data.export_titles(conn=conn, ids=ids)
    names = file_names(titles)
    with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED) as archive:
        for batch in export_data.export_memory_batches(conn=conn, ids=list(titles)):
            edges = export_data.export_edges_touching(conn=conn, ids=[r["id"] for r in batch], members=names)
            for row in batch:
                text = markdown_file(row, edges.get(row["id"], []), names, titles)
                archive.writestr(f"{folder}/{names[row['id']]}", text)


def markdown_zip(*, rm, ids, folder):
    """The Markdown export as an open binary zip file that is already deleted from disk."""
    archive = tempfile.TemporaryFile(prefix="kb-export-")
    try:
        with export_data.snapshot(rm=rm) as conn:
            write_markdown(conn=conn, ids=ids, fileobj=archive, folder=folder)
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    return archive
