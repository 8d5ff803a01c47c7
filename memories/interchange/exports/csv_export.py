"""The CSV export: UTF-8, a header row, one row per memory, streamed as text a chunk at a time."""
import csv
import io
import json

from . import reads as export_data

CSV_COLUMNS = ("id", "type", "title", "summary", "content", "tags", "importance", "confidence", "project",
               "created_at", "updated_at")
CSV_NUMBERS = ("importance", "confidence")
# Spreadsheets run a cell that starts with one of these as a formula (OWASP adds tab and CR).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """Text a spreadsheet shows as text: a leading quote stops it being run as a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_row(row):
    tags = ", ".join(json.loads(row["tags"]))
    return [row[c] if c in CSV_NUMBERS else csv_cell(tags if c == "tags" else row[c]) for c in CSV_COLUMNS]


def csv_stream(*, rm, ids):
    """UTF-8 CSV with a header row, a chunk of text per chunk of memories."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    with export_data.snapshot(rm=rm) as conn:
        for batch in export_data.export_memory_batches(conn=conn, ids=ids):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(csv_row(row) for row in batch)
            yield buffer.getvalue()
