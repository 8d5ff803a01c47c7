"""Search engines, one module each; settings.KB_SEARCH_BACKEND names the one in use (search.engine)."""
