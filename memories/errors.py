"""The one root of the errors our code raises for a person to read, each with its HTTP status.

As HackSoft's ``ApplicationError``: an error carries a message written for the person who made the
request, optional field errors (``errors``: field -> message) and headers, and its class says the
status. One handler answers them all (``memories.http.KBErrorMiddleware``: the error page, its
htmx fragment or JSON); the agents' APIs keep their own bodies and take the status from here too.
This module imports nothing from the project, so every room, the store included, may use it.

The families and why they have their status:

- 503, the store cannot be used now (``StoreError``: a memory file missing, locked, of another
  schema, an import's writer stopped, a replica owned by another worker; ``RemoteError``: the
  primary of a synced database): nothing the request did wrong, it may be tried again later.
- 400, bad input: ``ServiceError``, ``FormatError`` (a value the memorygraph format refuses),
  ``ImportRefused``/``RowRefused`` (a file that cannot be imported), ``PayloadError`` and
  ``KeyProblem`` (an API payload or a key request), ``AgentError``, ``JobError`` (work that cannot
  be done as asked).
- 404, not found: ``services.NotFound``.
- 409, conflicts with the present state: ``services.Conflict``, ``JobConflict``, ``JobCancelled``.
- 413, too large: ``UploadsFull`` (no room for another waiting upload), ``BodyTooLarge``.
- 401/403, an API key missing or wrong / allowed to read only: ``KeyError401``, ``KeyError403``.
- 429, rate limited: ``RateLimited``, with its ``Retry-After`` header.

Families that also subclass ``ValueError`` (``FormatError``, ``PayloadError``, ``KeyProblem``) do
so because code parsing input catches ``ValueError`` for them.
"""


class KBError(Exception):
    """``str(e)`` and ``e.message`` are the message for a person; ``errors`` maps a field to its
    message; ``headers`` are set on the response. Subclasses set ``status``."""

    status = 400

    def __init__(self, message=None, *, errors=None, headers=None):
        super().__init__(*(() if message is None else (message,)))
        self.message = "" if message is None else str(message)
        self.errors = errors or {}
        self.headers = headers or {}


class FieldErrors(KBError):
    """Errors named by field: the message joins them as ``field: message; ...``."""

    def __init__(self, errors):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()), errors=errors)
