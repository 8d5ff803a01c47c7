"""Where the project is, and the Python that runs it, for tests that start manage.py or read its files."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
