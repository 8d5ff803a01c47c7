"""What each kind of job does, and how it puts its own records right when it is retried or given up.

Every kind can be run again from the start after a crash and ends in the same state: a rebuild
is one read-model transaction (a killed one rolled back), an import is upserts by id (rows
already written compare identical), bulk tagging records each chunk in its batch before
writing it and skips memories already tagged.
"""
import os
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from memories import tagging
from memories.format import FormatError
from memories.interchange import uploads
from memories.interchange.imports import runs
from memories.interchange.imports.refusals import ImportRefused
from memories.models import ImportJob, SyncState, TagBatch
from memories.store.canonical import StoreError
from memories.store.progress import throttled
from memories.store.registry import handle_for

from .jobs import JobCancelled, JobError, cancel_point

SYNCED_PICKUP_S = 120.0  # how long a synced database's own thread may take to start its rebuild


class Kind:
    label = ""
    stops_at_chunks = False  # Cancel may stop it while it runs (at a committed chunk's end)

    def run(self, job, progress):
        """Do the work; return the result dict, or raise JobError with the reason it cannot."""
        raise NotImplementedError

    def retried(self, job):
        """The job was queued again by hand (Retry)."""

    def gave_up(self, job):
        """The job failed for good (its message says why)."""


class Rebuild(Kind):
    label = "Index rebuild"

    def run(self, job, progress):
        client = job.client
        state = SyncState.objects.filter(client=client)
        # Retried after a failure or a Cancel: asked for again, so the pickup check below applies.
        state.filter(rebuild_requested_at=None).update(rebuild_requested_at=timezone.now(),
                                                       rebuild_progress="queued")
        if client.synced:
            return self._synced(job, state, progress)

        def report(done, total):
            state.update(rebuild_progress=f"{done:,} of {total:,} memories")
            progress(done, total)

        try:
            result = handle_for(client).rebuild(progress=throttled(report, 1.0))
        except StoreError as exc:
            state.update(rebuild_requested_at=None, rebuild_progress=f"Rebuild failed: {exc}")
            raise JobError(f"Rebuild failed: {exc}") from exc
        state.update(rebuild_requested_at=None, rebuild_progress=(
            f"Rebuilt: {result['memories']:,} memories in {result['seconds']} s "
            f"at {timezone.now():%H:%M:%S}"))
        return {"memories": result["memories"], "seconds": result["seconds"]}

    def _synced(self, job, state, progress):
        """The replica belongs to its database's sync thread in this same process: it rebuilds,
        this job waits for it and reports its progress."""
        started = time.monotonic()
        while True:
            row = state.values("rebuild_requested_at", "rebuild_progress").first() or {}
            text = row.get("rebuild_progress") or ""
            if not row.get("rebuild_requested_at"):
                if text.startswith("Rebuild failed"):
                    raise JobError(text)
                return {"message": text}
            if text == "queued" and time.monotonic() - started > SYNCED_PICKUP_S:
                raise JobError("The sync thread of this database did not start the rebuild; "
                               "is kb_worker running? Press Retry.")
            progress(0, 0, text)
            time.sleep(0.25)

    def gave_up(self, job):
        state = SyncState.objects.filter(client=job.client)
        text = job.message if job.status == job.CANCELLED else f"Rebuild failed: {job.message}"
        if job.client.synced:  # its sync thread may have started it already: then it finishes
            state = state.filter(rebuild_progress="queued")
        state.update(rebuild_requested_at=None, rebuild_progress=text[:200])


class Import(Kind):
    label = "Import"
    stops_at_chunks = True

    def run(self, job, progress):
        record = ImportJob.objects.get(pk=job.params["import"])
        handle, check = handle_for(job.client), cancel_point(job)
        before = self._counts(handle)

        def step(done, total):
            """After each committed chunk; a bulk copy's indexing after its rows (progress past
            them) is one read-model transaction and is let finish."""
            progress(done, total)
            if done < min(total, record.total or total):
                check()

        try:
            runs.import_execute(handle=handle, actor=job.actor, job=record, on_progress=step)
        except JobCancelled:
            raise JobCancelled(self._cancelled(handle, before)) from None
        record.refresh_from_db()
        if record.status == ImportJob.FAILED:
            raise JobError(record.message)
        return record.result

    @staticmethod
    def _counts(handle):
        conn = handle.readmodel.conn
        return [conn.execute(query).fetchone()[0] for query in ("SELECT count(*) FROM memory",
                                                                "SELECT count(*) FROM edge")]

    def _cancelled(self, handle, before):
        """What a stopped import left, counted. A local client's read model may lag its file
        after a cancelled bulk copy (indexed in one transaction, rolled back): one (id, version)
        diff puts it in step first, so what the message counts is searchable."""
        if not handle.synced:
            with handle.lock:
                handle.readmodel.refresh(handle.store)
        memories, edges = (now - then for now, then in zip(self._counts(handle), before))
        return (f"the import stopped part-way; since it started the database has {memories:+,} memories "
                f"and {edges:+,} relationships, whole rows, searchable. "
                "Run it again to import the rest (rows already there are left alone), or discard the upload.")

    def retried(self, job):
        ImportJob.objects.filter(pk=job.params["import"], status=ImportJob.FAILED).update(
            status=ImportJob.RUNNING, message="")

    def gave_up(self, job):
        ImportJob.objects.filter(pk=job.params["import"], status=ImportJob.RUNNING).update(
            status=ImportJob.FAILED, message=job.message, finished_at=timezone.now())


class Preview(Kind):
    """What an upload too big to read in its request would do (counts, invalid rows)."""

    label = "Import preview"

    def run(self, job, progress):
        record = ImportJob.objects.get(pk=job.params["import"])
        if record.status != ImportJob.PREVIEW:
            return {"skipped": record.status}  # discarded or expired meanwhile
        try:
            plan = runs.import_plan(handle=handle_for(job.client), path=record.path)
        except (ImportRefused, StoreError, OSError) as exc:
            reason = f"{record.filename}: {exc}" if not isinstance(exc, OSError) else (
                f"The uploaded file could not be read ({exc.strerror or type(exc).__name__}).")
            uploads.upload_remove(record.path)  # a file that cannot be imported is not kept
            ImportJob.objects.filter(pk=record.pk).update(status=ImportJob.DISCARDED, message=reason,
                                                          finished_at=timezone.now())
            raise JobError(reason) from exc
        ImportJob.objects.filter(pk=record.pk, status=ImportJob.PREVIEW).update(
            source=plan.source, preview=plan.as_dict(), total=len(plan.writes))
        return {"total": len(plan.writes)}

    def gave_up(self, job):
        record = ImportJob.objects.filter(pk=job.params["import"]).first()
        if record and record.status == ImportJob.PREVIEW and not record.preview:
            ImportJob.objects.filter(pk=record.pk).update(status=ImportJob.FAILED, message=job.message)


class BulkTag(Kind):
    label = "Bulk tagging"
    stops_at_chunks = True

    def run(self, job, progress):
        batch, check = TagBatch.objects.get(pk=job.params["batch"]), cancel_point(job)

        def step(done, total):  # after each chunk, committed and recorded in the batch
            progress(done, total)
            if done < total:
                check()

        try:
            tagging.bulk_tag_apply(handle=handle_for(job.client), actor=job.actor, batch=batch,
                                    memory_ids=job.params["memory_ids"], progress=step)
        except FormatError as exc:
            raise JobError("; ".join(str(v) for v in exc.errors.values())) from exc
        except JobCancelled:
            batch.refresh_from_db()
            raise JobCancelled(f"#{batch.tag} was added to {len(batch.memory_ids):,} of "
                               f"{len(job.params['memory_ids']):,} memories; Undo on the Tags page "
                               "removes it from those.") from None
        batch.refresh_from_db()
        return {"batch": batch.pk, "tagged": len(batch.memory_ids), "tag": batch.tag}


class BulkUntag(Kind):
    label = "Undo of a bulk tagging"

    def run(self, job, progress):
        batch = TagBatch.objects.get(pk=job.params["batch"])
        if batch.undone_at is None:
            tagging.bulk_tag_untag(handle=handle_for(job.client), actor=job.actor, batch=batch,
                                    progress=progress)
        return {"batch": batch.pk, "untagged": len(batch.memory_ids), "tag": batch.tag}


KINDS = {"rebuild": Rebuild(), "preview": Preview(), "import": Import(), "bulk_tag": BulkTag(),
         "bulk_untag": BulkUntag()}


class Export(Kind):
    """A download too big to stream in a request: written to a temporary file, then renamed into
    KB_DATA_DIR/exports/<client>/ (a killed one leaves only its .part, which the next run replaces).
    Cancel stops it between chunks of a JSON or CSV file, or once a SQLite or Markdown file is
    made, before it is copied; it leaves no file (an export writes nothing else)."""

    label = "Export"
    stops_at_chunks = True

    def run(self, job, progress):
        fmt, ids = job.params["format"], job.params["ids"]
        folder = exports_folder(job.client)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{job.pk}-{job.params['name']}.{EXPORT_EXTENSIONS[fmt]}"
        part = folder / f".{job.pk}.part"
        try:
            self._write(job, part, fmt, ids, progress, cancel_point(job))
        except JobCancelled:
            part.unlink(missing_ok=True)
            raise JobCancelled("no file was kept.") from None
        os.replace(part, final)
        return {"file": final.name, "bytes": final.stat().st_size, "memories": len(ids)}

    @staticmethod
    def _write(job, part, fmt, ids, progress, check):
        from memories.interchange.exports import csv_export, json_export, markdown_zip, sqlite_export

        rm = handle_for(job.client).readmodel
        with open(part, "wb") as out:
            if fmt in ("json", "csv"):
                stream = json_export.json_stream if fmt == "json" else csv_export.csv_stream
                for chunk in stream(rm=rm, ids=ids):
                    out.write(chunk.encode())
                    progress(0, len(ids), f"{out.tell():,} bytes written")
                    check()
            else:
                made = (sqlite_export.sqlite_file(rm=rm, ids=ids) if fmt == "sqlite"
                        else markdown_zip.markdown_zip(rm=rm, ids=ids, folder=job.params["name"]))
                with made:
                    check()
                    shutil.copyfileobj(made, out)


EXPORT_EXTENSIONS = {"json": "json", "sqlite": "db", "csv": "csv", "markdown": "zip"}
EXPORT_KEEP_S = 24 * 3600  # the clean-up in the worker's tick removes older export files


def exports_folder(client):
    return Path(settings.DATA_DIR) / "exports" / client.slug


KINDS["export"] = Export()
