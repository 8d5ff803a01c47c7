"""API keys: create, revoke, authenticate, and count each key's requests against its limits.

A key is ``mg_`` + 43 urlsafe characters (32 random bytes; memorygraph's client expects the
prefix). Only its sha256 is stored: with 256 random bits a fast hash is right, and the lookup
is one indexed query by hash; hmac.compare_digest guards the final comparison.
"""
import hashlib
import hmac
import secrets
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from ..errors import FieldErrors
from ..models import ApiKey, ApiRate, AuditEntry
from ..store.registry import DEFAULT_SLUG, default_memory_path, ensure_default_client
from . import sql
from .errors import KeyError401, KeyError403, RateLimited
from .rows import instances

PREFIX = "mg_"
SHOWN = 10  # characters kept for display: "mg_" and 7 of the random part
LAST_USE_EVERY = timedelta(seconds=60)  # last use is written at most once a minute per key
NAME_MAX = 100


class KeyProblem(FieldErrors, ValueError):
    """A key that cannot be created as asked; ``errors`` maps field -> message."""


def hash_key(raw_key):
    return hashlib.sha256(raw_key.encode("utf-8", "surrogatepass")).hexdigest()


def api_key_create(*, client, actor, name, role, expires_at=None):
    """Make a key for client; returns (ApiKey, plaintext). The plaintext is never stored."""
    name = " ".join(str(name or "").split())
    errors = {}
    if not name:
        errors["name"] = "A key needs a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"A key name may have at most {NAME_MAX} characters."
    if role not in (ApiKey.READ, ApiKey.WRITE):
        errors["role"] = "The role must be read or write."
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must lie in the future."
    if not errors and ApiKey.objects.filter(client=client, name=name).exists():
        errors["name"] = f"This client database already has a key named {name!r}."
    if errors:
        raise KeyProblem(errors)
    raw = PREFIX + secrets.token_urlsafe(32)
    creator = actor if getattr(actor, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            key = ApiKey.objects.create(client=client, name=name, role=role, prefix=raw[:SHOWN],
                                        hash=hash_key(raw), created_by=creator, expires_at=expires_at)
            AuditEntry.objects.create(client=client, actor=creator, action="api_key.create",
                                      object_id=key.prefix, after={"name": name, "role": role})
    except IntegrityError:
        raise KeyProblem({"name": f"This client database already has a key named {name!r}."}) from None
    return key, raw


def api_key_revoke(*, key, actor):
    """Revoke at once: the next request with it is a 401, in every worker (nothing is cached)."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        AuditEntry.objects.create(client=key.client, actor=actor if actor.is_authenticated else None,
                                  action="api_key.revoke", object_id=key.prefix, before={"name": key.name})
    return key


def authenticate_key(raw_key, *, client=None, slug=None, write, address):
    """The live ApiKey that raw_key is, of ``client`` or of the client database a URL's ``slug``
    names (not archived), counted against its read or write budget; ``key.client`` is that
    client database and ``key.created_by`` the key's creator, read in the same query.

    Raises KeyError401 (missing, wrong, expired, revoked, or another client's key: one answer),
    KeyError403 (a read key writing) or RateLimited.
    """
    if not raw_key or not isinstance(raw_key, str) or not raw_key.startswith(PREFIX) or len(raw_key) > 200:
        raise KeyError401()
    digest = hash_key(raw_key)
    key = _key_row(digest, client=client, slug=slug)
    now = timezone.now()
    if (key is None or not hmac.compare_digest(key.hash, digest) or key.revoked_at is not None
            or (key.expires_at is not None and key.expires_at <= now)):
        raise KeyError401()
    if write and key.role != ApiKey.WRITE:
        raise KeyError403()
    _count(key, write)
    _note_use(key, now, address)
    return key


def _key_row(digest, *, client, slug):
    """The key of that hash with its client database and creator, in one raw query (0.2 ms of
    CPU where get_client's get_or_create of `default` and get, then the ORM's select_related
    query of the key, took about 3 ms: issue 12, a store's way through Django); None if none."""
    if client is not None:
        query, params = sql.key_for_client(), [digest, client.pk]
    else:
        query, params = sql.key_for_slug(), [digest, slug]
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
    if row is None:
        return None
    key, database, creator = instances(sql.key_models(), row)
    if client is None and slug == DEFAULT_SLUG and database.path != str(default_memory_path()):
        # KB_MEMORY_DB names another file than the row: register it as every view does (get_client).
        ensure_default_client()
        return _key_row(digest, client=None, slug=slug)
    key.client, key.created_by = client or database, creator
    return key


def _limit(write):
    return settings.KB_API_WRITES_PER_MIN if write else settings.KB_API_READS_PER_MIN


# Requests are counted in this process and added to the shared count (Django's database, one
# UPSERT) at most every FLUSH_S, and at every request once a key is within a fifth of its limit,
# so the limit stays exact where it matters while most requests commit nothing. Between two
# flushes the other workers' requests are seen late: a key can pass its limit by at most what
# the other workers counted in their last FLUSH_S.
FLUSH_S = 1.0
_counts = {}  # (key hash, kind) -> _Window: keyed by hash, which no other key ever has
_counts_lock = threading.Lock()


class _Window:
    __slots__ = ("minute", "shared", "local", "flushing", "flushed_at")

    def __init__(self, minute):
        self.minute, self.shared, self.local, self.flushing, self.flushed_at = minute, 0, 0, 0, 0.0


def _count(key, write):
    """Count one request against a fixed one-minute window shared by every worker."""
    now = time.time()
    minute, kind, limit = int(now // 60), "w" if write else "r", _limit(write)
    with _counts_lock:
        window = _counts.get((key.hash, kind))
        if window is None or window.minute != minute:
            window = _counts[(key.hash, kind)] = _Window(minute)
        window.local += 1
        total = window.shared + window.flushing + window.local
        delta = 0
        if now - window.flushed_at >= FLUSH_S or 5 * total >= 4 * limit:
            delta, window.local, window.flushed_at = window.local, 0, now
            window.flushing += delta
    if delta:
        total = _flush(key, kind, window, delta)
    if total > limit:
        raise RateLimited(60 * (minute + 1) - now + 0.999, "writes" if write else "reads")


def _flush(key, kind, window, delta):
    """Add delta to the shared count; returns the window's total as now known."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.rate_add(), [key.pk, kind, window.minute, delta])
            shared = cursor.fetchone()[0]
    finally:
        with _counts_lock:
            window.flushing -= delta
    with _counts_lock:
        window.shared = max(window.shared, shared)
        total = window.shared + window.flushing + window.local
    if shared == delta and window.minute % 10 == 0:
        ApiRate.objects.filter(key=key, minute__lt=window.minute - 1).delete()  # keep the table small
    return total


def _note_use(key, now, address):
    address = (address or "")[:64]
    if key.last_used_at is None or now - key.last_used_at >= LAST_USE_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_address=address)
        key.last_used_at, key.last_used_address = now, address


def writes_last_day(keys):
    """{key pk: writes made with it in the last 24 h}, from the audit log (one query)."""
    since = timezone.now() - timedelta(hours=24)
    rows = (AuditEntry.objects.filter(api_key__in=keys, at__gte=since).exclude(action__startswith="api_key.")
            .values_list("api_key").annotate(n=Count("id")))
    return dict(rows)
