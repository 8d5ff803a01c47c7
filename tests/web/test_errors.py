"""memories/errors.py: every KBError family answers its status, as a page, as JSON and to htmx.

The errors are raised where a client page resolves its database (``memories.http.handle_for``), so
one real view carries each of them to the one middleware that answers them.
"""
import pytest
from django.utils.html import escape

from memories import http, services
from memories.agents.cloud_api.serializers import PayloadError
from memories.agents.errors import AgentError, BodyTooLarge, KeyError401, KeyError403, RateLimited
from memories.agents.keys import KeyProblem
from memories.errors import FieldErrors, KBError
from memories.format import FormatError
from memories.interchange.bulk import WriterStopped
from memories.interchange.imports import runs
from memories.interchange.imports.refusals import ImportRefused, RowRefused
from memories.interchange.uploads import UploadsFull
from memories.models import ImportJob
from memories.store.canonical import StoreBusy, StoreError, StoreMissing, StoreSchemaError
from memories.sync.primary import RemoteError, SecretMissing, TokenRefused
from memories.sync.replica import OwnershipError
from memories.worker.jobs import JobCancelled, JobConflict, JobError

FAMILIES = [
    (StoreError("The memory file cannot be opened."), 503),
    (StoreMissing("The memory file /srv/memory.db does not exist."), 503),
    (StoreSchemaError("The memory file is not a memorygraph database."), 503),
    (StoreBusy("The memory file is busy (another process holds a write lock); try again."), 503),
    (OwnershipError("Another sync worker owns this replica."), 503),
    (WriterStopped("The import's writer process stopped."), 503),
    (RemoteError("Cannot reach the primary at https://db.example."), 503),
    (SecretMissing("The auth token variable KB_TOKEN is not set in this process's environment."), 503),
    (TokenRefused("This is not a token reference."), 503),
    (ImportRefused("This is neither a SQLite database, a JSON export nor a zip file."), 400),
    (RowRefused("The row has no id."), 400),
    (services.ServiceError("This cannot be done."), 400),
    (services.NotFound("No memory with id m-1."), 404),
    (services.Conflict("The memory was changed meanwhile."), 409),
    (FormatError({"title": "Title is required.", "tags": "At most 50 tags."}), 400),
    (
        UploadsFull("The uploads waiting take 10.0 MB.", errors={"file": "no room for more waiting uploads"}),
        413,
    ),
    (JobError("Rebuild failed: the file is gone."), 400),
    (JobConflict("Only a failed or cancelled job can be retried."), 409),
    (JobCancelled("no file was kept."), 409),
    (AgentError("That request cannot be done."), 400),
    (KeyError401(), 401),
    (KeyError403(), 403),
    (RateLimited(7, "writes"), 429),
    (BodyTooLarge("The body may have at most 256 KB."), 413),
    (PayloadError({"title": "title must be text."}), 400),
    (KeyProblem({"name": "Give the key a name."}), 400),
]
IDS = [type(error).__name__ for error, _ in FAMILIES]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_family_has_a_case_here():
    assert set(_subclasses(KBError)) - {FieldErrors} == {type(error) for error, _ in FAMILIES}


@pytest.fixture
def raising(client_db, monkeypatch):
    """Make the client pages of `acme` raise ``error``."""

    def arm(error):
        def fail(database):
            raise error

        monkeypatch.setattr(http, "handle_for", fail)

    return arm


def _check_headers(response, error):
    if isinstance(error, RateLimited):
        assert response["Retry-After"] == "7"


@pytest.mark.parametrize(("error", "status"), FAMILIES, ids=IDS)
def test_page(web, raising, error, status):
    raising(error)
    response = web.get("/c/acme/memories/")
    assert response.status_code == status == error.status
    assert "text/html" in response["Content-Type"]
    body = response.content.decode()
    assert f"<title>Error {status}" in body and escape(error.message) in body
    _check_headers(response, error)


@pytest.mark.parametrize(("error", "status"), FAMILIES, ids=IDS)
def test_json(web, raising, error, status):
    raising(error)
    response = web.get("/c/acme/memories/?format=json")
    assert response.status_code == status
    assert response.json() == {"error": error.message, "errors": error.errors}
    _check_headers(response, error)


@pytest.mark.parametrize(("error", "status"), FAMILIES, ids=IDS)
def test_htmx(web, raising, error, status):
    raising(error)
    response = web.get("/c/acme/memories/", headers={"HX-Request": "true"})
    assert response.status_code == status
    assert escape(error.message) in response.content.decode()
    _check_headers(response, error)


def test_field_errors_are_listed_on_the_page(web, raising):
    raising(UploadsFull("No room for this upload.", errors={"file": "no room for more waiting uploads"}))
    body = web.get("/c/acme/memories/").content.decode()
    assert "no room for more waiting uploads" in body


def test_a_format_error_while_an_import_runs_is_bad_input(web, handle, monkeypatch):
    """It was answered 409 (changed meanwhile); a value the format refuses is the file's fault."""
    job = ImportJob.objects.create(client=handle.client, filename="laptop.json", path="/nonexistent/upload")

    def refuse(**kwargs):
        raise FormatError({"title": "Title is required."})

    monkeypatch.setattr(runs, "import_run", refuse)
    response = web.post(f"/c/acme/import/{job.pk}/run/", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "title: Title is required.", "errors": {"title": "Title is required."},
    }
    page = web.post(f"/c/acme/import/{job.pk}/run/")
    assert page.status_code == 400 and "title: Title is required." in page.content.decode()
