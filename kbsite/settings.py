"""Settings: everything comes from the environment, with safe local defaults.

Every variable the site reads is named ``KB_*`` and listed in the README.
"""
import ipaddress
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _flag(name, default=False):
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def _private_data_dir(path):
    """KB_DATA_DIR holds password hashes, sessions, the secret key and every client's memories, so
    only this site's user may read it. The umask makes what this process creates 0600 (folders
    0700; SQLite gives -wal and -shm files their database's mode); a folder that already existed
    keeps its mode, so it is closed here when it is ours."""
    os.umask(0o077)
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid():
        path.chmod(0o700)


def _secret_key(data_dir):
    """KB_SECRET_KEY, or else a random key made at the first start and kept in
    KB_DATA_DIR/secret-key.txt (0600), which every later process reads, so web workers, kb_sync
    and commands all sign alike. Production must say which key it uses."""
    key = os.environ.get("KB_SECRET_KEY", "")
    if key:
        return key
    if _flag("KB_PRODUCTION"):
        raise RuntimeError("KB_SECRET_KEY must be set when KB_PRODUCTION=1 (whatever KB_DEBUG says)")
    path = data_dir / "secret-key.txt"
    if not path.exists():
        # Written aside and linked into place: of processes starting together one key wins, and
        # none reads a half-written file.
        fd, aside = tempfile.mkstemp(dir=data_dir, prefix=".secret-key-")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(64) + "\n")
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(aside)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it to make a new key (sessions and embed links made "
                           "with the old one stop working), or set KB_SECRET_KEY")
    return key


DATA_DIR = Path(os.environ.get("KB_DATA_DIR", BASE_DIR / "data")).expanduser().resolve()
_private_data_dir(DATA_DIR)
# The canonical memory file of the `default` client database. Empty means the demo file.
KB_MEMORY_DB = os.environ.get("KB_MEMORY_DB", "").strip()
KB_PAGE_SIZE = int(os.environ.get("KB_PAGE_SIZE", "25"))
# Each process's cache of query results (memories/store/cache.py) holds at most about this many MB.
KB_CACHE_MB = float(os.environ.get("KB_CACHE_MB", "16"))
# SQLite's page cache of each read-model connection (one per web thread), in KB.
KB_READMODEL_CACHE_KB = int(os.environ.get("KB_READMODEL_CACHE_KB", "512"))
# The search engine: a module holding a SearchBackend class (memories/search/backends/base.py).
KB_SEARCH_BACKEND = os.environ.get("KB_SEARCH_BACKEND", "memories.search.backends.fts").strip()
# Graph views show at most this many nodes ("showing N of M", with a way to load more).
KB_GRAPH_LIMIT = int(os.environ.get("KB_GRAPH_LIMIT", "300"))
# Above this many nodes, positions come precomputed from networkx instead of live physics.
KB_GRAPH_PHYSICS_MAX = int(os.environ.get("KB_GRAPH_PHYSICS_MAX", "500"))
# Each change is followed by a step within about a second; the full run (Louvain, PageRank from
# scratch) comes at most this often (seconds) while writes keep coming, or with "auto" after twice
# as long as the last one took, within 1-30 s (graphs/analytics/schedule.py); the first change
# after a quiet spell at once. 120: at 100,000 memories a full run takes about 40 s of CPU.
KB_ANALYTICS_INTERVAL = os.environ.get("KB_ANALYTICS_INTERVAL", "120").strip().lower()
KB_ANALYTICS_INTERVAL = "auto" if KB_ANALYTICS_INTERVAL == "auto" else float(KB_ANALYTICS_INTERVAL)
# The steps' pace while writes keep coming: "auto" lets the next step start 5 times as long after
# the last one began as it took, at most 20 s (a step takes about 0.1 s at 10,000 memories and
# 1-2.6 s at 100,000), or a number of seconds; after a quiet spell a step comes at once.
KB_ANALYTICS_STEP_INTERVAL = os.environ.get("KB_ANALYTICS_STEP_INTERVAL", "auto").strip().lower()
KB_ANALYTICS_STEP_INTERVAL = ("auto" if KB_ANALYTICS_STEP_INTERVAL == "auto"
                              else float(KB_ANALYTICS_STEP_INTERVAL))
# Origins allowed to frame embed pages (space or comma separated), besides this site itself.
# Uploads (imports) larger than this are refused with 413 before they are read.
KB_UPLOAD_MAX_MB = float(os.environ.get("KB_UPLOAD_MAX_MB", "100"))
KB_UPLOAD_MAX_BYTES = int(KB_UPLOAD_MAX_MB * 1024 * 1024)
# Uploads waiting to be imported: how long they are kept, and how much one client database's may take.
KB_UPLOAD_KEEP_HOURS = float(os.environ.get("KB_UPLOAD_KEEP_HOURS", "24"))
KB_UPLOAD_CLIENT_MAX_MB = float(os.environ.get("KB_UPLOAD_CLIENT_MAX_MB", str(3 * KB_UPLOAD_MAX_MB)))
KB_UPLOAD_CLIENT_MAX_BYTES = int(KB_UPLOAD_CLIENT_MAX_MB * 1024 * 1024)
# Requests per API key and minute, counted across all web workers (memories/agents/keys.py).
KB_API_WRITES_PER_MIN = int(os.environ.get("KB_API_WRITES_PER_MIN", "60"))
KB_API_READS_PER_MIN = int(os.environ.get("KB_API_READS_PER_MIN", "600"))
# The worker (manage.py kb_worker) runs jobs queued in Django's database (memories/worker/).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
KB_JOB_STALE_S = float(os.environ.get("KB_JOB_STALE_S", "60"))
KB_WORKER_THREADS = max(1, int(os.environ.get("KB_WORKER_THREADS", "2")))
# The worker's heavy work (job threads, the full analytics run, the freshness diffs) runs at this nice
# value (0-19), below the web workers' 0: it takes the CPU requests leave (memories/worker/priority.py).
KB_WORKER_NICE = min(19, max(0, int(os.environ.get("KB_WORKER_NICE", "5"))))
# From this many rows on, a copy into a local client (an import, the bridge) is written by a writer
# process of its own while the read model is built beside it (memories/interchange/bulk.py).
KB_IMPORT_BULK_ROWS = max(1, int(os.environ.get("KB_IMPORT_BULK_ROWS", "20000")))
# Rows per transaction of that writer process: each commit journals every page it touches in the
# file's indexes keyed by random ids (5,000-row commits wrote 50,000 memories and 100,000
# relationships in 11.9 s, 1,000-row ones in 21.1 s); one holds the file about 0.1-0.4 s, which
# the memorygraph server waits out (its busy timeout is 5 s).
KB_IMPORT_BULK_CHUNK = max(1, int(os.environ.get("KB_IMPORT_BULK_CHUNK", "5000")))
KB_EMBED_ORIGINS = [o for o in os.environ.get("KB_EMBED_ORIGINS", "").replace(",", " ").split() if o]
# Token references of synced databases may name only variables KB_*TOKEN* or these (comma
# separated), and only files under KB_SECRETS_DIR (empty: DATA_DIR/secrets/, decided when used
# so tests can move DATA_DIR).
KB_TOKEN_ENV_ALLOW = [n.strip() for n in os.environ.get("KB_TOKEN_ENV_ALLOW", "").split(",") if n.strip()]
KB_SECRETS_DIR = os.environ.get("KB_SECRETS_DIR", "").strip()

DEBUG = _flag("KB_DEBUG")
SECRET_KEY = _secret_key(DATA_DIR)
ALLOWED_HOSTS = [
    h for h in os.environ.get("KB_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "memories",
    "memories.worker",
    "graphs",
    "django_tasks",
    "django_tasks_db",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kbsite.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "memories.http.KBErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kbsite.urls"
WSGI_APPLICATION = "kbsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "memories.context.kb",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "kbsite.sqlite3",
        # Each thread keeps its connection across requests (gunicorn's threads live on): opening
        # one per request, with its PRAGMAs, and closing it (the last to close checkpoints the WAL)
        # cost 1.3 ms of CPU, and 3-5 ms a cloud API store under the agents' benchmark shape
        # (issue 12). A SQLite connection does not go stale; an unusable one is closed as before.
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 10,
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Login throttling (django-axes; the hooks and why are in kbsite/auth.py). Axes' backend goes first,
# so a locked login is refused before any password is checked, whichever view calls authenticate().
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "kbsite.auth.LoginThrottle"  # counts in Django's database: every worker sees them
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks, each with its own limit:
AXES_FAILURE_LIMIT = "kbsite.auth.failure_limit"  # 5 per username, 20 per address
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True  # for that username only (LoginThrottle)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # refused attempts are not counted
AXES_LOCKOUT_CALLABLE = "kbsite.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "kbsite.auth.client_address"
# Addresses or networks of reverse proxies whose X-Forwarded-For is believed (comma separated).
KB_TRUSTED_PROXIES = [ipaddress.ip_network(p.strip(), strict=False)
                      for p in os.environ.get("KB_TRUSTED_PROXIES", "").split(",") if p.strip()]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Whatever a file storage saves (collectstatic included) stays private too; Django's default is 0644.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_ENGINE = "kbsite.sessions"  # Django's database sessions, read with one raw query (issue 13)
if _flag("KB_SECURE"):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"memories": {"handlers": ["console"], "level": os.environ.get("KB_LOG_LEVEL", "INFO")}},
}
