"""The primary of a synced client database, spoken to over its Hrana `/v2/pipeline` endpoint.

Schema changes are applied here, never pushed from a replica (a DDL push corrupted the
primary in our measurements), and pushes are verified here by reading the primary's rows.
The same endpoint exists on Turso Cloud (`libsql://<db>.turso.io`, with a bearer token)
and on a self-hosted `tursodb --sync-server`.
"""
import json
import os
import re
import stat
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

from ..errors import KBError
from ..store import schema
from ..store.rows import marks
from . import sql

TIMEOUT_S = float(os.environ.get("KB_SYNC_TIMEOUT", "10"))


class RemoteError(KBError):
    """The primary cannot be used; the message says why, for a person."""

    status = 503


class SecretMissing(RemoteError):
    pass


class TokenRefused(SecretMissing):
    """A token reference outside the rules, or a token that cannot be one; nothing was sent."""


BEARER = re.compile(r"Bearer\s+\S+", re.IGNORECASE)


def http_url(remote_url):
    """libsql:// and turso:// URLs are served over HTTPS."""
    for scheme in ("libsql://", "turso://"):
        if remote_url.startswith(scheme):
            return "https://" + remote_url[len(scheme):]
    return remote_url.rstrip("/")


# RFC 6750's b64token: one line, no spaces. Anything else is refused unseen, so a file's lines
# or a variable's text never reach a header (whose errors quote it) or a message.
TOKEN_FORM = re.compile(r"[A-Za-z0-9._~+/-]+=*")
TOKEN_ENV_FORM = re.compile(r"KB_[A-Z0-9_]*TOKEN[A-Z0-9_]*")
TOKEN_FILE_MAX = 16 * 1024


def secrets_dir():
    return Path(settings.KB_SECRETS_DIR or settings.DATA_DIR / "secrets").expanduser()


def token_source(token_ref):
    """("env", name) or ("file", real path) of a reference, refused before anything is read when
    it names another variable or a file outside the secrets directory. Messages never repeat
    the reference itself: a token pasted in its place must not be shown back."""
    kind, _, where = (token_ref or "").strip().partition(":")
    if kind == "env" and where:
        if not (TOKEN_ENV_FORM.fullmatch(where) or where in settings.KB_TOKEN_ENV_ALLOW):
            raise TokenRefused("Auth token variables must be named KB_…TOKEN… or be listed in "
                               "KB_TOKEN_ENV_ALLOW; this one is neither.")
        return kind, where
    if kind == "file" and where:
        folder = os.path.realpath(secrets_dir())
        real = os.path.realpath(where)
        if not os.path.isabs(where) or os.path.commonpath([folder, real]) != folder or real == folder:
            raise TokenRefused(f"Auth token files must be in the secrets directory {folder} "
                               "(KB_SECRETS_DIR), given by an absolute path; "
                               "links and .. out of it are refused.")
        return kind, real
    raise TokenRefused("This is not a token reference: write env:KB_…TOKEN… or "
                       "file:<a file in the secrets directory>.")


def resolve_token(token_ref):
    """The token behind a reference: `env:NAME`, `file:/path`, or empty for none."""
    if not (token_ref or "").strip():
        return None
    kind, where = token_source(token_ref)
    if kind == "env":
        value = (os.environ.get(where) or "").strip()
        if not value:
            raise SecretMissing(f"The auth token variable {where} is not set in this process's environment.")
    else:
        value = _read_token_file(where)
    if not TOKEN_FORM.fullmatch(value):
        raise TokenRefused(f"The auth token {'variable' if kind == 'env' else 'file'} {where} holds what is "
                           "not a valid token (one line of letters, digits and -._~+/=).")
    return value


def _read_token_file(path):
    """At most TOKEN_FILE_MAX bytes of a regular file, opened without following a link swapped in since."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise SecretMissing(f"The auth token file {path} cannot be read: {exc.strerror}.") from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise TokenRefused(f"The auth token file {path} is not a regular file.")
        data = handle.read(TOKEN_FILE_MAX + 1)
    if len(data) > TOKEN_FILE_MAX:
        raise TokenRefused(f"The auth token file {path} is too big to hold a token.")
    return data.decode("ascii", "replace").strip()


def redact(text, token):
    """text without the token, nor whatever follows "Bearer": remote servers echo headers in error
    bodies, and drivers quote header values in their exceptions."""
    text = str(text)
    if token:
        text = text.replace(token, "[token]")
    return BEARER.sub("Bearer [token]", text)


def _value(cell):
    kind, value = cell.get("type"), cell.get("value")
    if kind == "integer":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "null":
        return None
    return value


def _arg(value):
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool) or isinstance(value, int):
        return {"type": "integer", "value": str(int(value))}
    if isinstance(value, float):
        return {"type": "float", "value": value}
    return {"type": "text", "value": str(value)}


class Primary:
    def __init__(self, remote_url, token=None):
        self.url = http_url(remote_url)
        self.token = token

    def pipeline(self, statements):
        """Run (sql, args) statements in one request; returns one list of row tuples per statement."""
        body = {"requests": [
            {"type": "execute", "stmt": {"sql": text, "args": [_arg(a) for a in args]}}
            for text, args in statements
        ]}
        request = urllib.request.Request(
            f"{self.url}/v2/pipeline", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "kbsite"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                payload = json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise RemoteError(
                    f"The primary at {self.url} refused the auth token (HTTP {exc.code}).") from exc
            # Redacted before it is cut short, so that no part of an echoed token survives.
            detail = self._redact(exc.read(64 * 1024).decode("utf-8", "replace")).strip()[:300]
            raise RemoteError(f"The primary at {self.url} answered HTTP {exc.code}: {detail}") from exc
        except urllib.error.URLError as exc:
            raise RemoteError(f"Cannot reach the primary at {self.url}: {self._redact(exc.reason)}.") from exc
        except (OSError, ValueError) as exc:
            raise RemoteError(f"Cannot talk to the primary at {self.url}: {self._redact(exc)}.") from exc
        results = []
        for (text, _), result in zip(statements, payload.get("results", [])):
            if result.get("type") != "ok":
                message = self._redact((result.get("error") or {}).get("message", "unknown error"))
                raise RemoteError(f"The primary at {self.url} failed {text.split()[0]}: {message}")
            rows = result["response"]["result"]["rows"]
            results.append([tuple(_value(c) for c in row) for row in rows])
        return results

    def _redact(self, text):
        return redact(text, self.token)

    def tables(self):
        return {row[0] for row in self.pipeline([(sql.PRIMARY_TABLES, ())])[0]}

    def check_memorygraph(self, *, allow_empty):
        """Refuse a primary holding another schema; returns True when it has no tables yet."""
        tables = self.tables()
        if {"nodes", "relationships"} <= tables:
            columns = {row[1] for row in self.pipeline([("PRAGMA table_info(nodes)", ())])[0]}
            if {"id", "label", "properties", "created_at", "updated_at"} <= columns:
                return False
            raise RemoteError(f"The primary at {self.url} has a `nodes` table with columns "
                              f"{', '.join(sorted(columns))}, not memorygraph's.")
        if not tables and allow_empty:
            return True
        found = ", ".join(sorted(tables)) or "no tables at all"
        raise RemoteError(f"The primary at {self.url} is not a memorygraph database: found {found}; "
                          "expected the tables `nodes` and `relationships`.")

    def create_schema(self):
        """Apply memorygraph's schema at the primary (idempotent: CREATE ... IF NOT EXISTS)."""
        self.pipeline([(statement, ()) for statement in schema.statements(schema.CANONICAL_SCHEMA)])

    def _rows_by_ids(self, query, ids, chunk=200):
        """Rows of query for every id, in one request of as many statements as chunks."""
        ids = list(ids)
        chunks = [ids[start:start + chunk] for start in range(0, len(ids), chunk)]
        if not chunks:
            return []
        results = self.pipeline([(query.format(marks=marks(len(c))), c) for c in chunks])
        return [row for rows in results for row in rows]

    def node_versions(self, ids):
        """{id: the properties' updated_at} at the primary, for verifying pushes."""
        return dict(self._rows_by_ids(sql.PRIMARY_NODES, ids))

    def edge_ids(self, ids):
        return {row[0] for row in self._rows_by_ids(sql.PRIMARY_EDGES, ids)}
