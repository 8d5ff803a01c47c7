"""Test set-up shared by every test: a private KB_DATA_DIR and a fresh registry per test."""
import os
import tempfile

# Settings create DATA_DIR at import: point it at a throw-away folder before Django loads.
os.environ.setdefault("KB_DATA_DIR", tempfile.mkdtemp(prefix="kb-test-data-"))
