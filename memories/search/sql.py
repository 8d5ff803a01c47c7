"""The search room's SQL: FTS5 matches, their BM25 rank, snippets, over the read model.

Run by the search backend (search/backends/fts.py); memories/selectors.py takes the matching ids
for a graph of search results. Filters are the pages' (memories/sql.py filter_clause). User
search text only reaches MATCH after ``memories.search.query.parse_query`` has quoted it.
"""

from memories.sql import filter_clause

# Title weighted above summary, tags and content.
BM25 = "bm25(memory_fts, 10.0, 4.0, 1.0, 3.0)"


def _match(filters):
    where, params = filter_clause(filters)
    if not where:
        return "FROM memory_fts WHERE memory_fts MATCH ?", []
    return ("FROM memory_fts JOIN memory m ON m.rid = memory_fts.rowid WHERE memory_fts MATCH ? AND "
            + " AND ".join(where), params)


def match_query(select, tail="", *, filters):
    """SELECT <select> over the FTS matches that pass filters; bind the MATCH expression first."""
    body, params = _match(filters)
    return f"SELECT {select} {body} {tail}", params


def match_count_upto(filters):
    """count(*) of the matches that stops at a limit (bind MATCH, filter values, the limit):
    the first page of a common word need not count 40,000 matches."""
    body, params = _match(filters)
    return f"SELECT count(*) FROM (SELECT 1 {body} LIMIT ?)", params


MATCH_COUNT = "count(*)"
MATCH_RANKED = (f"memory_fts.rowid AS rid, {BM25} AS score", "ORDER BY score LIMIT ?")  # best first
MATCH_ROWIDS = ("memory_fts.rowid", "LIMIT ?")
MATCH_IDS = "(SELECT id FROM memory WHERE rid = memory_fts.rowid)"


# One statement for the whole sample (bind a JSON array of rowids): 10x faster than one insert per row.
SAMPLE_BY_RIDS = (
    "INSERT OR IGNORE INTO temp.sample SELECT rid, id, type, project, band, month FROM memory "
    "WHERE rid IN (SELECT value FROM json_each(?))"
)
MEMORIES_BY_RIDS = "SELECT * FROM memory WHERE rid IN ({marks})"


# \x02 and \x03 mark matches; the text is HTML-escaped before they become <mark>.
# Snippets come from the content or the summary only: a snippet of the tag column reads
# as a word list, not as text.
SNIPPETS = (
    "SELECT rowid, highlight(memory_fts, 0, char(2), char(3)) AS title_hl, "
    "snippet(memory_fts, 2, char(2), char(3), '…', 24) AS content_snippet, "
    "snippet(memory_fts, 1, char(2), char(3), '…', 24) AS summary_snippet "
    "FROM memory_fts WHERE memory_fts MATCH ? AND rowid IN ({marks})"
)
