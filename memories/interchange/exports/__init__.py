"""Exports: downloads of a selection of memories."""
