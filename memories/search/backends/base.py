"""The contract every search backend keeps.

A backend is a module holding a ``SearchBackend`` class, a subclass of the one below;
``settings.KB_SEARCH_BACKEND`` names the module and ``memories.search.engine`` loads it once.
Every method reads one client database's read model (``rm``, or its connection ``conn``) and
takes the query as ``query.parse_query`` made it, so no backend ever sees unescaped user text.
``filters`` is a ``selectors.Filters``; rowids are the read model's ``memories.rid``.
A backend keeps no state between calls: one instance serves every thread of a process.
"""


class SearchBackend:
    """Methods that child classes must implement: memory_search, search_ids, ranked_rids."""

    def memory_search(self, *, rm, text, filters, page=1, limit=20, exact=False, facets=True):
        """One page of results for the user's `text`, as a dict: `page_data` (a selectors.Page
        whose items are memory summaries with `title_html` and `snippet_html`, escaped, matches in
        <mark>), `query` (`text`), `page`, `corrected` (the query as a typo fallback rewrote it, or
        None), `partial` (the words an any-word fallback searched for, or None), `total_more` (the
        total was only counted up to a bound) and `titles_only` (terms looked for in titles only).
        `exact` turns every fallback off; `facets=False` leaves `page_data.facets` None."""
        raise NotImplementedError("subclasses of SearchBackend must provide a memory_search() method")

    def search_ids(self, *, rm, parsed, filters, limit):
        """The memory ids of the best `limit` hits of `parsed`, best first (for graphing a search)."""
        raise NotImplementedError("subclasses of SearchBackend must provide a search_ids() method")

    def ranked_rids(self, conn, parsed, filters, want, *, titles_first=True):
        """Up to `want` rowids matching `parsed` under `filters`, best first. With `titles_first`,
        memories whose title matches come before the rest."""
        raise NotImplementedError("subclasses of SearchBackend must provide a ranked_rids() method")
