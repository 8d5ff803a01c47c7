"""Search: query parsing, ranked full-text search, typo suggestions."""
