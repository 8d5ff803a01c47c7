"""Export a client database (or a search of it) to a file, with a progress bar.

    manage.py kb_export --client team --format json --out team.json
    manage.py kb_export --client team --format markdown --q "redis" --out redis.zip
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from tqdm import tqdm

from memories.interchange.exports import csv_export, json_export, markdown_zip, sqlite_export
from memories.interchange.exports import reads as export_data
from memories.selectors import Filters
from memories.store.canonical import StoreError
from memories.store.registry import get_client, handle_for


class Command(BaseCommand):
    help = "Export a client database: memorygraph JSON 2.0, a memorygraph SQLite file, CSV or a Markdown zip."

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True)
        parser.add_argument("--format", required=True, choices=["json", "sqlite", "csv", "markdown"])
        parser.add_argument("--out", required=True, help="The file to write.")
        parser.add_argument("--q", default="", help="Only the memories this search matches.")

    def handle(self, *args, client, format, out, q, **options):
        try:
            handle = handle_for(get_client(client))
            rm = handle.ensure_fresh(apply=True)
        except (Http404, StoreError) as exc:
            raise CommandError(str(exc)) from exc
        if q:
            ids = export_data.export_ids_search(rm=rm, filters=Filters(), q=q)
        else:
            ids = export_data.export_ids_all(rm=rm)
        bar = tqdm(unit="B", unit_scale=True, desc=f"Exporting {len(ids):,} memories",
                   disable=options["verbosity"] == 0)
        path = Path(out).expanduser()
        with open(path, "wb") as target:
            if format in ("json", "csv"):
                stream = json_export.json_stream if format == "json" else csv_export.csv_stream
                for chunk in stream(rm=rm, ids=ids):
                    data = chunk.encode()
                    target.write(data)
                    bar.update(len(data))
            else:
                source = (sqlite_export.sqlite_file(rm=rm, ids=ids) if format == "sqlite"
                          else markdown_zip.markdown_zip(rm=rm, ids=ids, folder=path.stem))
                with source:
                    while data := source.read(1 << 20):
                        target.write(data)
                        bar.update(len(data))
        bar.close()
        self.stdout.write(f"Wrote {len(ids):,} memories to {path} ({path.stat().st_size:,} bytes).")
