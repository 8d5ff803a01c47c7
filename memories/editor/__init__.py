"""Helpers of the memory editor and memory page: Markdown preview, tag suggestions, history labels,
the confirmation before a relationship is removed."""
