"""Deterministic generator of a realistic demo memory graph.

The graph looks like what AI coding agents of a small software team record through the
"memorygraph" MCP server: errors, the problems they cause, the solutions and fixes that
resolved them, reusable code patterns, commands, workflows, decisions, project and
technology notes.  See docs/memorygraph-format.md for the format and its limits.

``demo_graph(seed=7)`` returns ``(memories, relationships)`` as plain dicts.  It uses only
the standard library, does no I/O and never reads the clock: all dates are spread over the
18 months before ``ANCHOR``.

Most of this module is hand-written text.  Texts are organised in *stories*: a story is a
small group of memories (for instance error -> problem -> solution -> fix) that is
instantiated once per *variant*; a variant picks a project and may override the
``[[placeholder]]`` values used in the texts (service, model, table, versions ...).
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import datetime, timedelta, timezone

__all__ = ["ANCHOR", "MEMORY_TYPES", "RELATIONSHIP_TYPES", "demo_graph"]

ANCHOR = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
SPAN_DAYS = 548  # about 18 months

MEMORY_TYPES = (
    "task", "code_pattern", "problem", "solution", "project", "technology", "error",
    "fix", "command", "file_context", "workflow", "general", "conversation",
)
RELATIONSHIP_TYPES = (
    "CAUSES", "TRIGGERS", "LEADS_TO", "PREVENTS", "BREAKS",
    "SOLVES", "ADDRESSES", "ALTERNATIVE_TO", "IMPROVES", "REPLACES",
    "OCCURS_IN", "APPLIES_TO", "WORKS_WITH", "REQUIRES", "USED_IN",
    "BUILDS_ON", "CONTRADICTS", "CONFIRMS", "GENERALIZES", "SPECIALIZES",
    "SIMILAR_TO", "VARIANT_OF", "RELATED_TO", "ANALOGY_TO", "OPPOSITE_OF",
    "FOLLOWS", "DEPENDS_ON", "ENABLES", "BLOCKS", "PARALLEL_TO",
    "EFFECTIVE_FOR", "INEFFECTIVE_FOR", "PREFERRED_OVER", "DEPRECATED_BY", "VALIDATED_BY",
)

# ---------------------------------------------------------------------------------------
# Projects.  Every project defines the same placeholder keys so that any story can run in
# any project; a story variant may override any of them.
# ---------------------------------------------------------------------------------------

PROJECTS = {
    "billing": dict(
        path="/home/dev/projects/billing-api", svc="billing-api", app="invoices",
        model="Invoice", table="invoices_invoice", dbhost="billing-db", db="billing",
        queue="billing", endpoint="/api/v1/invoices/", component="InvoiceTable",
        ns="billing", memlimit="512Mi", memlimit2="768Mi",
    ),
    "storefront": dict(
        path="/home/dev/projects/storefront-web", svc="storefront-web", app="orders",
        model="Order", table="orders_order", dbhost="storefront-db", db="storefront",
        queue="storefront", endpoint="/api/orders/", component="OrderHistory",
        ns="storefront", memlimit="256Mi", memlimit2="384Mi",
    ),
    "auth": dict(
        path="/home/dev/projects/auth-gateway", svc="auth-gateway", app="accounts",
        model="User", table="accounts_user", dbhost="auth-db", db="auth",
        queue="auth", endpoint="/oauth/token/", component="LoginForm",
        ns="identity", memlimit="384Mi", memlimit2="512Mi",
    ),
    "pipeline": dict(
        path="/home/dev/projects/data-pipeline", svc="ingest-worker", app="events",
        model="Event", table="events_event", dbhost="warehouse-db", db="warehouse",
        queue="ingest", endpoint="/admin/events/event/", component="EventTable",
        ns="data", memlimit="1Gi", memlimit2="1536Mi",
    ),
    "infra": dict(
        path="/home/dev/projects/platform-infra", svc="platform", app="platform",
        model="Cluster", table="n/a", dbhost="n/a", db="n/a", queue="default",
        endpoint="/healthz", component="n/a", ns="platform", memlimit="256Mi",
        memlimit2="512Mi",
    ),
}

PROJECT_NOTES = {
    "billing": (
        "billing-api: Django 5.1 + DRF service for invoicing, dunning and Stripe payments",
        """Monolith that owns customers, invoices, payments and dunning. Django 5.1, Django REST
Framework, PostgreSQL 16 behind PgBouncer, Celery 5.4 workers with Redis as broker, Stripe
for card payments and webhooks.

- Apps: `customers`, `invoices`, `payments`, `dunning`
- Run locally with `docker compose up` then `make migrate seed`
- Business logic lives in `<app>/services.py`, never in views or serializers

Deployed to the `billing` namespace with Helm; see [runbook](https://wiki.example.com/billing/runbook).""",
        "django python postgres celery stripe",
    ),
    "storefront": (
        "storefront-web: Next.js 14 + React 18 + TypeScript customer storefront and account area",
        """Customer-facing shop and account pages. Next.js 14 (pages router, migrating to the app
router), React 18, TypeScript in `strict` mode, TanStack Query for server state, a small
GraphQL BFF (Apollo Server) in `bff/` that fans out to billing-api and auth-gateway.

Login is OAuth 2.0 authorization code + PKCE against auth-gateway. `npm run dev` starts both
the web app and the BFF; `npm run typecheck` must pass before review.""",
        "react typescript nextjs graphql",
    ),
    "auth": (
        "auth-gateway: OAuth 2.0 / OIDC provider (django-oauth-toolkit) issuing JWT access tokens",
        """Identity service: user accounts, OAuth 2.0 authorization server with PKCE, OIDC
discovery, short-lived RS256 JWT access tokens (5 min) and rotating refresh tokens.

Built on Django 5.1 + django-oauth-toolkit 2.x, PostgreSQL, Redis for rate limiting.
Public keys are served at `/.well-known/jwks.json`; key rotation procedure is in
`docs/keys.md`. Security-sensitive: every change needs a second reviewer.""",
        "django python oauth jwt security",
    ),
    "pipeline": (
        "data-pipeline: Kafka -> Celery ingest workers -> PostgreSQL warehouse, plus pandas reports",
        """Consumes domain events from Kafka (`billing.events`, `storefront.events`), normalises
them in Celery workers (`ingest` queue) and writes to the `warehouse` PostgreSQL database.
Monthly finance reports are built with pandas and exported as CSV/XLSX.

- `make consume` runs a local consumer against the dev Kafka
- Backfills: `python -m pipeline.backfill --since 2026-01-01`""",
        "python kafka celery postgres",
    ),
    "infra": (
        "platform-infra: Terraform + Helm charts for EKS (Kubernetes 1.30), ingress-nginx, GitHub Actions",
        """Infrastructure as code for all services: Terraform modules for AWS (EKS, RDS,
ElastiCache Redis, S3), Helm charts per service in `charts/`, and reusable GitHub Actions
workflows in `.github/workflows/`.

Environments: `staging` and `prod` clusters in eu-west-1. `make plan ENV=staging` before any
apply; applies to prod only from CI.""",
        "kubernetes terraform ci deployment",
    ),
}

# ---------------------------------------------------------------------------------------
# Technologies: (key, title, content, tags, projects that use it)
# ---------------------------------------------------------------------------------------

TECHNOLOGIES = [
    ("python", "Python 3.11/3.12: team baseline and tooling (uv, ruff, mypy)",
     """All Python services run on Python 3.11, moving to 3.12 after the Celery 5.4 upgrade.
Tooling: `uv` for locking and installs, `ruff` for lint + format, `mypy --strict` on new
modules only.

Docs: [Python 3.12 what's new](https://docs.python.org/3/whatsnew/3.12.html).""",
     "python tooling", ["billing", "pipeline"]),
    ("django", "Django 5.1 (LTS 4.2 before): conventions and upgrade notes",
     """We use Django for billing-api and auth-gateway. Conventions: fat `services.py`, thin
views, explicit `select_related`, `DEFAULT_AUTO_FIELD = BigAutoField`, `USE_TZ = True`.

Upgrade path 4.2 LTS -> 5.1 done; 5.2 LTS is next. Check the
[release notes](https://docs.djangoproject.com/en/5.1/releases/5.1/) for deprecations.""",
     "django python", ["billing", "auth"]),
    ("postgres", "PostgreSQL 16 on RDS: extensions, settings and backups",
     """Production databases are RDS PostgreSQL 16 with `pg_stat_statements`, `pgcrypto` and
`citext` enabled. `statement_timeout` is 30 s for web roles, unlimited for migration roles.

Point-in-time recovery keeps 14 days; nightly logical dumps go to S3 for staging refreshes.""",
     "postgres database", ["billing", "pipeline"]),
    ("sqlite", "SQLite for tests and local tools: limits we keep hitting",
     """SQLite is used for fast unit tests and for small local tools. It is **not** a drop-in
for Postgres: no `select_for_update`, different UNIQUE error messages, a single writer.

Use WAL mode plus a busy timeout when more than one process writes.""",
     "sqlite testing database", ["auth"]),
    ("redis", "Redis 7.2: cache, Celery broker and rate limiting (separate instances)",
     """Two ElastiCache Redis 7.2 clusters: `cache` (allkeys-lru, 2 GB) and `broker`
(noeviction, used by Celery). Never share them: eviction on the broker loses tasks.

Rate limiting in auth-gateway uses the cache instance with `INCR` + `EXPIRE`.""",
     "redis caching", ["billing", "pipeline"]),
    ("celery", "Celery 5.4: workers, beat and queue layout",
     """Queues: `default`, `billing`, `ingest`, `emails`. Workers run with `--concurrency=4`,
`acks_late=True` and `worker_prefetch_multiplier=1` for long tasks.

Beat runs as a single-replica Deployment. Monitoring via Flower (internal only) and
`celery inspect`.""",
     "celery python redis", ["billing", "pipeline"]),
    ("react", "React 18: state management and data fetching conventions",
     """Server state with TanStack Query, local UI state with `useState`/`useReducer`, no Redux.
Components are function components with hooks; effects must clean up subscriptions and
in-flight requests.

See [You Might Not Need an Effect](https://react.dev/learn/you-might-not-need-an-effect).""",
     "react frontend", ["storefront"]),
    ("typescript", "TypeScript 5.x strict mode settings for the frontend and BFF",
     """`strict: true`, `noUncheckedIndexedAccess: true`, `exactOptionalPropertyTypes: false`.
Runtime validation at boundaries (HTTP, env, localStorage) with Zod; never trust `as` casts
for external data.""",
     "typescript frontend", ["storefront"]),
    ("nextjs", "Next.js 14: rendering modes and the app router migration",
     """storefront-web uses the pages router with incremental migration to the app router.
Product pages are ISR (`revalidate: 300`), account pages are client-rendered behind auth.

Watch for hydration mismatches with dates, `Math.random()` and `window` access.""",
     "nextjs react typescript", ["storefront"]),
    ("docker", "Docker and Docker Compose v2: images and local stacks",
     """Images are built with BuildKit, multi-stage, on `python:3.11-slim` or `node:20-alpine`.
Local stacks use `docker compose` (v2 plugin) with healthchecks on every stateful service.""",
     "docker deployment", ["infra", "billing"]),
    ("kubernetes", "Kubernetes 1.30 on EKS: requests, limits, probes and PDBs",
     """Every Deployment sets CPU/memory requests and a memory limit, readiness and liveness
probes, a PodDisruptionBudget and `terminationGracePeriodSeconds: 40`.

Cluster add-ons: ingress-nginx, cert-manager, external-secrets, metrics-server.""",
     "kubernetes deployment", ["infra"]),
    ("pgbouncer", "PgBouncer 1.22 in transaction pooling mode in front of RDS",
     """PgBouncer runs as a sidecar-less Deployment (2 replicas) with `pool_mode = transaction`,
`default_pool_size = 20`, `max_client_conn = 2000`.

Transaction pooling means no session state: no server-side cursors, no `SET` outside a
transaction, no advisory session locks.""",
     "pgbouncer postgres performance", ["billing", "pipeline"]),
    ("graphql", "GraphQL BFF (Apollo Server 4) for the storefront",
     """The storefront talks to a GraphQL backend-for-frontend that aggregates billing-api and
auth-gateway REST APIs. Schema-first, codegen for TypeScript types, DataLoader for batching.

Public API stays REST (DRF); GraphQL is internal to the storefront.""",
     "graphql typescript", ["storefront"]),
    ("github-actions", "GitHub Actions CI: reusable workflows, caching and required checks",
     """Reusable workflows in platform-infra: `python-ci.yml`, `node-ci.yml`, `docker-build.yml`.
Required checks: lint, tests, migrations check, image build.

Cache: `actions/setup-python` with `cache: pip`, Docker layers via `cache-to: type=gha`.""",
     "ci github-actions", ["infra"]),
    ("oauth", "OAuth 2.0 authorization code flow with PKCE (RFC 7636) in our stack",
     """Public clients (storefront SPA, mobile app) use the authorization code flow with PKCE
(`S256`). Confidential clients (internal services) use client credentials.

References: [RFC 7636](https://datatracker.ietf.org/doc/html/rfc7636),
[OAuth 2.0 Security BCP](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-security-topics).""",
     "oauth pkce auth security", ["auth", "storefront"]),
    ("jwt", "JWT access tokens: RS256, 5 minute lifetime, JWKS rotation",
     """Access tokens are RS256-signed JWTs with `iss`, `aud`, `exp`, `iat`, `sub`, `scope`.
Services validate with PyJWT against the cached JWKS (refresh on unknown `kid`).

Never accept `alg: none` or HS256 tokens; pin `algorithms=["RS256"]`.""",
     "jwt auth security", ["auth", "billing"]),
    ("stripe", "Stripe API integration: payment intents, webhooks, idempotency keys",
     """billing-api uses PaymentIntents and Stripe Billing webhooks (`invoice.paid`,
`payment_intent.payment_failed`). All POSTs send an `Idempotency-Key`.

Test mode keys live in `.env.example`; the webhook secret differs per endpoint.""",
     "stripe payments", ["billing"]),
    ("kafka", "Kafka (MSK) topics and consumer groups used by data-pipeline",
     """Topics `billing.events` and `storefront.events`, 12 partitions, 7 day retention.
Consumers use `confluent-kafka` with manual commits after the Celery task is enqueued.""",
     "kafka data", ["pipeline"]),
    ("terraform", "Terraform 1.8 module layout and state handling",
     """State in S3 with DynamoDB locking, one state per environment and stack. Modules are
versioned by git tag. `terraform fmt` and `tflint` run in CI; `plan` output is posted on
the PR.""",
     "terraform infrastructure", ["infra"]),
    ("sentry", "Sentry error tracking and performance tracing setup",
     """All services send errors to Sentry with `release` set to the git SHA and
`environment` to the namespace. Traces sample rate 0.05 in prod, 1.0 in staging.

Scrub PII: `send_default_pii=False`, custom `before_send` strips emails.""",
     "sentry logging monitoring", ["billing", "storefront"]),
    ("pytest", "pytest + pytest-django + factory_boy testing stack",
     """Tests run with `pytest -n auto` (xdist), `--reuse-db` locally, fresh DB in CI.
Factories in `tests/factories.py`; no fixtures JSON. Time is frozen with `time-machine`.""",
     "testing pytest python", ["billing", "auth"]),
    ("ingress-nginx", "ingress-nginx controller: timeouts, body size and annotations",
     """Default `proxy-read-timeout` 60 s, `proxy-body-size` 10m. Per-ingress overrides via
annotations, e.g. `nginx.ingress.kubernetes.io/proxy-read-timeout: "300"` for exports.""",
     "kubernetes nginx deployment", ["infra"]),
]

TECH_PAIRS = [  # WORKS_WITH between technologies
    ("django", "postgres"), ("celery", "redis"), ("react", "typescript"), ("nextjs", "react"),
    ("pgbouncer", "postgres"), ("kubernetes", "docker"), ("oauth", "jwt"), ("django", "celery"),
    ("pytest", "django"), ("graphql", "typescript"), ("kafka", "celery"),
    ("terraform", "kubernetes"), ("ingress-nginx", "kubernetes"), ("sentry", "django"),
]

# Tag -> language / framework, used to fill the `languages` and `frameworks` context fields.
LANGUAGE_TAGS = {
    "python": "python", "django": "python", "celery": "python", "pytest": "python",
    "typescript": "typescript", "react": "typescript", "nextjs": "typescript",
    "graphql": "typescript", "sql": "sql", "postgres": "sql", "bash": "bash",
    "kubernetes": "yaml", "terraform": "hcl",
}
FRAMEWORK_TAGS = {
    "django": "django", "celery": "celery", "react": "react", "nextjs": "next.js",
    "pytest": "pytest", "graphql": "apollo-server", "drf": "django-rest-framework",
}


def _story(key, tags, tech, variants, nodes, edges=(), iso=False):
    """A story: memories `nodes` [(key, type, title, content[, extra tags])], extra in-story
    `edges` [(from key, type, to key[, context])], linked to technologies `tech`; made once per
    variant.  Auto edges for keys e/p/s/f/c: e CAUSES p, s SOLVES p, f ADDRESSES e (or p),
    f BUILDS_ON s, c USED_IN f.  `iso` stories get no edges at all."""
    return dict(key=key, tags=tags.split(), tech=tech.split(), variants=variants,
                nodes=nodes, edges=list(edges), iso=iso)


def _v(*projects):
    return [{"proj": p} for p in projects]


# ---------------------------------------------------------------------------------------
# Resolved chains: error -> problem -> solution -> fix (+ command)
# ---------------------------------------------------------------------------------------

CHAINS = [
    _story("pg-refused", "postgres docker", "postgres docker", _v("billing", "pipeline"), [
        ("e", "error", "psycopg2.OperationalError: could not connect to server: Connection refused ([[svc]] on docker compose up)",
         """`docker compose up` on a fresh checkout: `[[svc]]` crashes while running migrations on boot.

```
psycopg2.OperationalError: could not connect to server: Connection refused
    Is the server running on host "[[dbhost]]" (172.18.0.3) and accepting
    TCP/IP connections on port 5432?
```

Only on a cold start (empty volume, `initdb` takes ~6 s). `docker compose restart [[svc]]` makes it go away."""),
        ("p", "problem", "[[svc]] starts before PostgreSQL accepts connections under Docker Compose",
         """`depends_on: [[[dbhost]]]` only waits for the container to *start*, not for Postgres to be
ready. The entrypoint runs `manage.py migrate`, fails, and the container exits because no
`restart:` policy is set.

- Affects local dev and the CI job that uses compose
- Masked on warm volumes because `initdb` is skipped"""),
        ("s", "solution", "Gate startup on a pg_isready healthcheck with depends_on condition: service_healthy",
         """Give the database service a healthcheck and make the app depend on it being *healthy*:

```yaml
services:
  [[dbhost]]:
    image: postgres:16
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U postgres -d [[db]]"]
      interval: 2s
      retries: 30
  [[svc]]:
    depends_on:
      [[dbhost]]:
        condition: service_healthy
```

Better than `wait-for-it.sh` loops in the entrypoint: compose shows the state and CI logs stay readable.
See [Compose startup order](https://docs.docker.com/compose/how-tos/startup-order/)."""),
        ("f", "fix", "Added Postgres healthcheck and service_healthy dependency to [[svc]] docker-compose.yml",
         """Changed `docker-compose.yml` in [[proj]]: healthcheck on `[[dbhost]]`, `condition: service_healthy`
on `[[svc]]` and the worker. Verified with `docker compose down -v && docker compose up` three times
in a row: no more `OperationalError` on cold start."""),
    ]),
    _story("unique-race", "django postgres", "django postgres", [
        {"proj": "auth", "field": "email", "action": "signup", "module": "accounts/services.py"},
        {"proj": "billing", "model": "Customer", "table": "customers_customer",
         "field": "stripe_customer_id", "action": "Stripe webhook delivery", "module": "customers/services.py"},
    ], [
        ("e", "error", "django.db.utils.IntegrityError: UNIQUE constraint failed: [[table]].[[field]] during [[action]]",
         """Seen in CI (SQLite) and as the Postgres variant in Sentry:

```
django.db.utils.IntegrityError: UNIQUE constraint failed: [[table]].[[field]]
django.db.utils.IntegrityError: duplicate key value violates unique constraint "[[table]]_[[field]]_key"
DETAIL:  Key ([[field]])=(...) already exists.
```

Comes from `[[module]]`, roughly 5 events per day, always in pairs a few ms apart."""),
        ("p", "problem", "Race condition: two concurrent requests create the same [[model]] during [[action]]",
         """The code does *check then insert*: `if not [[model]].objects.filter([[field]]=x).exists(): create(...)`.
Two requests (double-click, or Stripe retrying a webhook) both pass the check before either
commits. The unique constraint saves the data but the second request returns a 500."""),
        ("s", "solution", "Rely on the database unique constraint: get_or_create in transaction.atomic and catch IntegrityError",
         """Let the database arbitrate instead of a Python pre-check:

```python
from django.db import IntegrityError, transaction

def get_or_create_[[field]](value, **defaults):
    try:
        with transaction.atomic():
            return [[model]].objects.get_or_create([[field]]=value, defaults=defaults)
    except IntegrityError:
        return [[model]].objects.get([[field]]=value), False
```

The inner `atomic()` creates a savepoint so the outer transaction stays usable after the error."""),
        ("f", "fix", "Replaced exists()+create() with atomic get_or_create and IntegrityError fallback in [[module]]",
         """Patched `[[module]]`, added a regression test that runs the function from two threads with
`TransactionTestCase`. Sentry issue resolved; no duplicates since deploy."""),
    ]),
    _story("undefined-map", "react typescript", "react typescript", [
        {"proj": "storefront"},
        {"proj": "storefront", "component": "InvoiceList", "endpoint": "/api/invoices/"},
    ], [
        ("e", "error", "TypeError: Cannot read properties of undefined (reading 'map') in [[component]]",
         """White screen on the account page, console shows:

```
TypeError: Cannot read properties of undefined (reading 'map')
    at [[component]] ([[component]].tsx:42:23)
```

Only on slow connections (reproducible with DevTools "Slow 3G")."""),
        ("p", "problem", "[[component]] renders before the [[endpoint]] response arrives",
         """`[[component]]` reads `data.items.map(...)` on the first render, before `[[endpoint]]` has answered.
TypeScript did not catch it because the fetch helper returned `any`."""),
        ("s", "solution", "Model fetch state explicitly (loading / error / success) and type API responses",
         """Render from the query status, never from optional data:

```tsx
const { data, status } = useQuery({ queryKey: ["items"], queryFn: fetchItems });
if (status === "pending") return <Spinner />;
if (status === "error") return <ErrorState />;
return <ul>{data.items.map(renderRow)}</ul>;
```

And make `fetchItems` return a parsed, typed value (Zod) instead of `any`."""),
        ("f", "fix", "Guarded [[component]] with TanStack Query status and parsed [[endpoint]] with Zod",
         """Added loading/error branches to `[[component]].tsx`, typed the fetcher with a Zod schema, enabled
`noUncheckedIndexedAccess`. Added a Playwright test with network throttling."""),
    ]),
    _story("cors", "cors security django", "django", [
        {"proj": "auth", "apihost": "auth.example.com"},
        {"proj": "billing", "apihost": "billing.example.com"},
    ], [
        ("e", "error", "CORS error: No 'Access-Control-Allow-Origin' header on preflight to [[svc]]",
         """Browser console on the storefront dev server:

```
Access to fetch at 'https://[[apihost]]/api/me' from origin 'http://localhost:3000' has been
blocked by CORS policy: Response to preflight request doesn't pass access control check:
No 'Access-Control-Allow-Origin' header is present on the requested resource.
```

`curl` against the same URL works, so the API itself is fine."""),
        ("p", "problem", "CORS preflight (OPTIONS) fails for credentialed requests from the storefront to [[svc]]",
         """The storefront sends `credentials: "include"`, which triggers a preflight. [[svc]] had no CORS
middleware, so `OPTIONS` returned 401 from the auth layer without CORS headers. With credentials
the browser also refuses a wildcard `*` origin."""),
        ("s", "solution", "Configure django-cors-headers with an explicit origin allowlist and CORS_ALLOW_CREDENTIALS",
         """```python
INSTALLED_APPS += ["corsheaders"]
MIDDLEWARE.insert(0, "corsheaders.middleware.CorsMiddleware")  # before CommonMiddleware
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS")
CORS_ALLOW_CREDENTIALS = True
```

Never `CORS_ALLOW_ALL_ORIGINS = True` together with credentials. Docs:
[django-cors-headers](https://github.com/adamchainz/django-cors-headers)."""),
        ("f", "fix", "Added CorsMiddleware and CORS_ALLOWED_ORIGINS from env to [[svc]] settings",
         """`CORS_ALLOWED_ORIGINS=http://localhost:3000,https://shop.example.com` in the Helm values for
[[svc]]; `OPTIONS` now returns 200 with `Access-Control-Allow-Credentials: true`."""),
    ]),
    _story("n-plus-one", "django performance postgres", "django postgres", [
        {"proj": "billing", "viewset": "InvoiceViewSet", "rel1": "customer", "rel2": "line_items",
         "rel2_model": "LineItem"},
        {"proj": "pipeline", "viewset": "EventAdmin", "rel1": "source", "rel2": "attributes",
         "rel2_model": "EventAttribute"},
    ], [
        ("p", "problem", "N+1 queries on [[endpoint]]: one SELECT per row for [[rel1]] and [[rel2]]",
         """django-debug-toolbar shows 203 queries for a page of 100 rows on `[[endpoint]]`, p95 latency 1.8 s.
Each row triggers a query for `[[rel1]]` and another for `[[rel2]]` from the serializer / list display."""),
        ("s", "solution", "Use select_related for foreign keys and prefetch_related with Prefetch() for reverse relations",
         """```python
def get_queryset(self):
    return (
        [[model]].objects
        .select_related("[[rel1]]")
        .prefetch_related(Prefetch("[[rel2]]", queryset=[[rel2_model]].objects.order_by("position")))
    )
```

`select_related` joins in one query; `prefetch_related` runs one extra query per relation.""", "orm"),
        ("f", "fix", "Added select_related('[[rel1]]') and prefetch_related('[[rel2]]') to [[viewset]]",
         """[[viewset]] now runs 3 queries regardless of page size; p95 went from 1.8 s to 140 ms.
Added a test with `django_assert_max_num_queries(5)` so the N+1 cannot come back silently."""),
        ("c", "command", "Catch N+1 regressions in tests with django_assert_max_num_queries (pytest-django)",
         """```python
def test_list_is_constant_queries(client, django_assert_max_num_queries):
    [[model]]Factory.create_batch(50)
    with django_assert_max_num_queries(5):
        client.get("[[endpoint]]")
```

Run just these with `pytest -k constant_queries -q`.""", "testing pytest"),
    ]),
    _story("celery-redelivery", "celery redis", "celery redis", _v("billing"), [
        ("p", "problem", "Celery tasks with ETA longer than the Redis visibility_timeout run twice (duplicate emails)",
         """Customers got two "invoice overdue" emails. The dunning task is scheduled with `countdown=7200`,
but the Redis transport redelivers any unacknowledged message after `visibility_timeout`
(default 1 hour), so a second worker picks it up while the first still holds it."""),
        ("s", "solution", "Make Celery tasks idempotent and set visibility_timeout above the longest ETA",
         """Two layers:

1. `broker_transport_options = {"visibility_timeout": 43200}` (12 h) so ETAs never exceed it
2. Idempotency guard in the task itself (a `SET NX` key in Redis or a unique DB row), because
   redelivery also happens on worker crashes

See [Celery docs: Redis caveats](https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#caveats)."""),
        ("f", "fix", "Set broker visibility_timeout=43200 and added idempotency key to send_dunning_email",
         """`celery.py`: `app.conf.broker_transport_options = {"visibility_timeout": 43200}`.
`dunning/tasks.py`: `if not cache.add(f"dunning:{invoice_id}:{step}", 1, 86400): return`.
No duplicate emails in the following two dunning cycles."""),
    ]),
    _story("pkce-mismatch", "oauth pkce auth security", "oauth", _v("storefront"), [
        ("e", "error", "OAuth token endpoint returns invalid_grant: PKCE verification failed (code_verifier mismatch)",
         """`POST /oauth/token/` from the storefront callback returns 400:

```json
{"error": "invalid_grant", "error_description": "Code verifier does not match code challenge"}
```

About 2% of logins, mostly users with several tabs open."""),
        ("p", "problem", "PKCE code_verifier overwritten when login starts in two browser tabs",
         """The SPA stored the verifier under a single `sessionStorage` key. `sessionStorage` is copied
when a tab is duplicated, and our "login in new tab" link reused it: the second login overwrote
the verifier of the first, so the first callback sent the wrong one."""),
        ("s", "solution", "Key the PKCE code_verifier by the OAuth state parameter",
         """Generate a random `state` per authorization request and store `pkce:<state> -> verifier`.
On the callback, look up the verifier with the returned `state`, then delete it.
This also gives CSRF protection for the callback for free."""),
        ("f", "fix", "Stored PKCE verifier under pkce:<state> in sessionStorage and cleared it after token exchange",
         """`src/auth/pkce.ts`: `sessionStorage.setItem(`pkce:${state}`, verifier)`; callback reads and removes it.
invalid_grant rate dropped from 2% to 0.01% (expired codes only)."""),
    ]),
    _story("jwt-iat", "jwt auth python", "jwt", _v("auth"), [
        ("e", "error", "jwt.exceptions.ImmatureSignatureError: The token is not yet valid (iat)",
         """Intermittent 401s from billing-api right after login:

```
jwt.exceptions.ImmatureSignatureError: The token is not yet valid (iat)
```

Only on requests served by two specific nodes."""),
        ("p", "problem", "JWT validation fails because of clock skew between auth-gateway pods and API nodes",
         """Two worker nodes had clocks about 2 s behind the auth-gateway pods, so the token `iat` was in
their future. chrony was not running on the custom AMI those nodes were built from."""),
        ("s", "solution", "Allow a small leeway in PyJWT decode and keep node clocks in sync with chrony",
         """```python
claims = jwt.decode(token, key, algorithms=["RS256"], audience="billing-api", leeway=30)
```

30 s leeway is standard; the real fix is NTP on every node (chrony + Amazon Time Sync Service).
[PyJWT docs on leeway](https://pyjwt.readthedocs.io/en/stable/usage.html#expiration-time-claim-exp)."""),
        ("f", "fix", "Passed leeway=30 to jwt.decode() and added chrony to the node bootstrap script",
         """`accounts/tokens.py` and the shared `auth_client` package now pass `leeway=30`.
platform-infra: chrony enabled in the launch template user data. 401 spikes gone."""),
    ]),
    _story("oomkilled", "kubernetes performance python", "kubernetes", [
        {"proj": "billing"}, {"proj": "pipeline"},
    ], [
        ("e", "error", "Kubernetes pod [[svc]] in CrashLoopBackOff: Reason OOMKilled, exit code 137",
         """```
$ kubectl -n [[ns]] get pods
[[svc]]-7d9c6b5f4-xk2lp   0/1   CrashLoopBackOff   6   14m
$ kubectl -n [[ns]] describe pod [[svc]]-7d9c6b5f4-xk2lp
    Last State:  Terminated
      Reason:    OOMKilled
      Exit Code: 137
```

Memory limit is [[memlimit]]."""),
        ("p", "problem", "Gunicorn workers in [[svc]] exceed the [[memlimit]] container memory limit",
         """Gunicorn defaults to `2 * CPU + 1` workers using the *node* CPU count (16), not the pod's CPU
request, so 33 workers started inside a [[memlimit]] limit. Each worker also grows slowly
(~2 MB/hour) because of a cache that is never evicted."""),
        ("s", "solution", "Size Gunicorn workers from the pod resources and recycle them with max_requests",
         """- Set `WEB_CONCURRENCY` explicitly per Deployment (don't derive from `nproc`)
- `--max-requests 1000 --max-requests-jitter 100` to recycle leaky workers
- Memory limit = workers x steady-state RSS + 30% headroom"""),
        ("f", "fix", "Set WEB_CONCURRENCY=3 with --max-requests 1000 and raised [[svc]] memory limit to [[memlimit2]]",
         """Helm values for [[svc]]: `env.WEB_CONCURRENCY: "3"`, `resources.limits.memory: [[memlimit2]]`.
No OOMKilled restarts in 30 days (`kube_pod_container_status_last_terminated_reason`)."""),
        ("c", "command", "kubectl commands to diagnose OOMKilled / CrashLoopBackOff pods",
         """```bash
kubectl -n [[ns]] describe pod <pod> | grep -A5 "Last State"
kubectl -n [[ns]] logs <pod> --previous --tail=200
kubectl -n [[ns]] top pod --containers
kubectl get events -n [[ns]] --sort-by=.lastTimestamp | tail -20
```""", "bash"),
    ]),
    _story("pgbouncer-cursor", "pgbouncer postgres django", "pgbouncer django", [
        {"proj": "billing"}, {"proj": "pipeline"},
    ], [
        ("e", "error", "ProgrammingError: cursor \"_django_curs_..._sync_3\" does not exist behind PgBouncer ([[svc]])",
         """Management command `export_[[app]]` fails after moving [[svc]] behind PgBouncer:

```
django.db.utils.ProgrammingError: cursor "_django_curs_140245923_sync_3" does not exist
```

Works against RDS directly."""),
        ("p", "problem", "Server-side cursors from QuerySet.iterator() in [[svc]] break under PgBouncer transaction pooling",
         """`export_[[app]]` loops over `QuerySet.iterator()`, which uses a named server-side cursor (`DECLARE ... CURSOR WITH HOLD`) on
Postgres. In transaction pooling mode the next `FETCH` may hit a different server connection,
where the cursor does not exist."""),
        ("s", "solution", "Set DISABLE_SERVER_SIDE_CURSORS for databases behind PgBouncer in transaction mode",
         """```python
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
```

`iterator(chunk_size=2000)` then fetches client-side in chunks. For huge exports, paginate by
primary key (`filter(pk__gt=last_pk)[:2000]`) instead.
[Django docs](https://docs.djangoproject.com/en/5.1/ref/databases/#transaction-pooling-server-side-cursors)."""),
        ("f", "fix", "Added DISABLE_SERVER_SIDE_CURSORS=True to [[svc]] DATABASES and keyset pagination in export_[[app]]",
         """Settings change in [[svc]] plus a rewrite of the export loop to keyset pagination. Export of 3M rows runs
in 4 minutes with flat memory."""),
    ]),
    _story("migration-conflict", "django migrations ci", "django", [
        {"proj": "billing", "mig1": "0042_invoice_due_date", "mig2": "0042_invoice_currency", "merge": "0043_merge_20260114_1012"},
        {"proj": "auth", "mig1": "0018_user_last_seen", "mig2": "0018_user_locale", "merge": "0019_merge_20260503_0931"},
    ], [
        ("e", "error", "CommandError: Conflicting migrations detected; multiple leaf nodes in the migration graph ([[app]])",
         """After merging two PRs into main, the deploy job failed:

```
CommandError: Conflicting migrations detected; multiple leaf nodes in the migration graph:
([[mig1]], [[mig2]] in [[app]]).
To fix them run 'python manage.py makemigrations --merge'
```"""),
        ("p", "problem", "Parallel feature branches both added migration [[mig1]] / [[mig2]] to [[app]]",
         """Each branch of [[svc]] was green on its own; nothing in CI checked the combined migration graph after the
second merge, so main broke."""),
        ("s", "solution", "Resolve with makemigrations --merge and check the migration graph in CI on every push to main",
         """- `python manage.py makemigrations --merge` (review the generated file; it is empty unless the
  branches touch the same fields)
- CI: `python manage.py makemigrations --check --dry-run` and `migrate --plan` on the merge result
- Enable "require branches to be up to date" on main"""),
        ("f", "fix", "Created [[merge]] and added makemigrations --check step to [[svc]] CI",
         """Committed `[[app]]/migrations/[[merge]].py`; `.github/workflows/ci.yml` now runs
`python manage.py makemigrations --check --dry-run` after tests."""),
        ("c", "command", "Inspect Django migrations: showmigrations, sqlmigrate, migrate --plan",
         """```bash
python manage.py showmigrations [[app]]
python manage.py sqlmigrate [[app]] [[mig1]]
python manage.py migrate --plan
python manage.py makemigrations --check --dry-run
```""", "bash"),
    ]),
    _story("alter-lock", "postgres migrations performance", "postgres django", _v("billing"), [
        ("e", "error", "django.db.utils.OperationalError: canceling statement due to lock timeout (ALTER TABLE [[table]])",
         """Deploy 2026.03.2 hung for 4 minutes, then:

```
django.db.utils.OperationalError: canceling statement due to lock timeout
CONTEXT:  SQL statement "ALTER TABLE "[[table]]" ADD COLUMN "tax_region" varchar(8) DEFAULT 'EU' NOT NULL"
```

API latency spiked during the wait."""),
        ("p", "problem", "ALTER TABLE on [[table]] (40M rows) waits for ACCESS EXCLUSIVE lock and blocks the API",
         """The `ALTER` queued behind a long-running report query; every new query on `[[table]]` then
queued behind the `ALTER`. Lock queue, not the rewrite itself, caused the outage."""),
        ("s", "solution", "Expand/contract migrations with lock_timeout: nullable column, batched backfill, NOT VALID constraint",
         """1. `SET lock_timeout = '5s'` in the migration and retry on failure
2. Add the column nullable without default (metadata-only)
3. Backfill in batches of 10k in a separate data migration / Celery task
4. `ADD CONSTRAINT ... CHECK (...) NOT VALID` then `VALIDATE CONSTRAINT` (no exclusive lock)"""),
        ("f", "fix", "Split migration 0057 into three migrations with lock_timeout='5s' and a batched backfill",
         """0057 adds `tax_region` nullable, 0058 backfills via `RunPython` in 10k-row batches, 0059 adds
the NOT NULL check constraint as `NOT VALID` and validates it. Ran in prod with zero blocking."""),
    ]),
    _story("graphql-dataloader", "graphql performance typescript", "graphql", _v("storefront"), [
        ("p", "problem", "GraphQL N+1: Order.customer resolver issues one REST call per order in the BFF",
         """The `orders(first: 50)` query made 51 calls to billing-api: one for the list and one per
`Order.customer` resolver. p95 of the account page 2.4 s."""),
        ("s", "solution", "Batch GraphQL resolver lookups with a per-request DataLoader",
         """```ts
const customerLoader = new DataLoader<string, Customer>(async (ids) => {
  const rows = await billing.customers({ ids: [...ids] });
  const byId = new Map(rows.map((c) => [c.id, c]));
  return ids.map((id) => byId.get(id) ?? new Error(`customer ${id} not found`));
});
```

Create loaders per request in the Apollo `context` so caches do not leak across users.
Library: [graphql/dataloader](https://github.com/graphql/dataloader)."""),
        ("f", "fix", "Added per-request DataLoaders for customers and products to the Apollo Server context",
         """`bff/context.ts` builds `loaders` per request; resolvers call `ctx.loaders.customer.load(id)`.
The account page now makes 3 upstream calls; p95 480 ms."""),
    ]),
    _story("redis-oom", "redis caching", "redis", _v("billing"), [
        ("e", "error", "redis.exceptions.ResponseError: OOM command not allowed when used memory > 'maxmemory'",
         """All cache writes and Celery publishes failed for 12 minutes:

```
redis.exceptions.ResponseError: OOM command not allowed when used memory > 'maxmemory'.
```"""),
        ("p", "problem", "Shared Redis filled with cache keys without TTL under maxmemory-policy noeviction",
         """Cache and Celery broker shared one Redis with `noeviction` (correct for a broker). A new
`report:*` cache had no TTL and grew to 1.9 GB."""),
        ("s", "solution", "Separate cache and broker Redis; allkeys-lru for the cache and a TTL on every cache key",
         """- Broker: `noeviction`, alert at 70% memory
- Cache: `allkeys-lru`, `CACHES["default"]["TIMEOUT"] = 3600`, never `timeout=None`
- Key naming `<app>:<entity>:<id>:v<schema>` so `--scan --pattern` finds offenders"""),
        ("f", "fix", "Moved Django cache to the new cache Redis (allkeys-lru) and set default TIMEOUT=3600",
         """New ElastiCache cluster `billing-cache`; `REDIS_CACHE_URL` in Helm values; purged `report:*` keys
from the broker instance."""),
        ("c", "command", "Find big keys and memory usage in Redis: redis-cli --bigkeys, INFO memory, MEMORY USAGE",
         """```bash
redis-cli -h $REDIS_HOST --bigkeys
redis-cli -h $REDIS_HOST INFO memory | grep -E "used_memory_human|maxmemory_policy"
redis-cli -h $REDIS_HOST --scan --pattern 'report:*' | head
redis-cli -h $REDIS_HOST MEMORY USAGE report:2026-05:summary
```""", "bash"),
    ]),
    _story("docker-build-slow", "docker ci performance", "docker github-actions", [
        {"proj": "billing", "mins": "9", "lock": "requirements.lock"},
        {"proj": "pipeline", "mins": "14", "lock": "uv.lock"},
    ], [
        ("p", "problem", "Docker image build for [[svc]] takes [[mins]] minutes in CI: dependencies reinstalled on every commit",
         """`COPY . .` came before `pip install`, so any source change in [[svc]] invalidated the dependency layer.
GitHub Actions runners start with an empty Docker cache, so even that layer was never reused."""),
        ("s", "solution", "Order Dockerfile layers (lockfile first) and use BuildKit cache mounts plus the GHA cache backend",
         """```dockerfile
# syntax=docker/dockerfile:1.7
COPY [[lock]] .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r [[lock]]
COPY . .
```

In the workflow: `docker/build-push-action` with `cache-from: type=gha` and `cache-to: type=gha,mode=max`."""),
        ("f", "fix", "Rewrote [[svc]] Dockerfile with cache mounts and enabled type=gha layer cache in CI",
         """Build time [[mins]] min -> 1 min 40 s on a source-only change; 4 min when the lockfile changes."""),
    ]),
    _story("flaky-tz", "testing python ci", "pytest django", _v("billing"), [
        ("e", "error", "AssertionError in test_invoice_due_date: datetime.date(2026, 3, 31) != datetime.date(2026, 4, 1)",
         """```
>       assert invoice.due_date == date(2026, 4, 1)
E       AssertionError: assert datetime.date(2026, 3, 31) == datetime.date(2026, 4, 1)
```

Fails only in nightly CI runs (scheduled 23:30 UTC), never locally."""),
        ("p", "problem", "Flaky test: due dates use date.today() (UTC) while the test expects Europe/Berlin local date",
         """`services.compute_due_date` calls `date.today()`; the server TZ is UTC, `TIME_ZONE` is Europe/Berlin.
Between 22:00 and 24:00 UTC the two dates differ."""),
        ("s", "solution", "Use timezone.localdate() in code and freeze time in tests with time-machine",
         """```python
import time_machine

@time_machine.travel("2026-03-31 23:30:00+00:00", tick=False)
def test_due_date_at_midnight_boundary(): ...
```

Ban `date.today()` / `datetime.now()` with a ruff rule (`DTZ011`, `DTZ005`)."""),
        ("f", "fix", "Replaced date.today() with timezone.localdate() and enabled ruff DTZ rules in billing-api",
         """12 call sites changed; `ruff.toml` selects `DTZ`; added boundary tests at 23:30 UTC."""),
    ]),
    _story("ts-env", "typescript nextjs", "typescript nextjs", _v("storefront"), [
        ("e", "error", "TS2322: Type 'string | undefined' is not assignable to type 'string' (process.env.NEXT_PUBLIC_API_URL)",
         """```
src/api/client.ts:7:7 - error TS2322: Type 'string | undefined' is not assignable to type 'string'.
7 const baseUrl: string = process.env.NEXT_PUBLIC_API_URL;
```

Someone silenced it with `!` and staging then called `undefined/api/orders/`."""),
        ("p", "problem", "Unvalidated process.env access leaks undefined into runtime config",
         """Env vars are read ad hoc across the codebase, with `!` assertions. A missing var only shows up
as a broken request at runtime, far from the cause."""),
        ("s", "solution", "Parse environment variables once at startup with a Zod schema",
         """```ts
import { z } from "zod";
export const env = z.object({
  NEXT_PUBLIC_API_URL: z.string().url(),
  NEXT_PUBLIC_OAUTH_CLIENT_ID: z.string().min(1),
}).parse({
  NEXT_PUBLIC_API_URL: process.env.NEXT_PUBLIC_API_URL,
  NEXT_PUBLIC_OAUTH_CLIENT_ID: process.env.NEXT_PUBLIC_OAUTH_CLIENT_ID,
});
```

(Next.js inlines `NEXT_PUBLIC_*` only when accessed literally, hence the explicit object.)"""),
        ("f", "fix", "Added src/env.ts with a Zod schema and replaced all process.env reads in storefront-web",
         """Build now fails fast with a readable Zod error when a variable is missing. ESLint rule
`no-restricted-properties` forbids `process.env` outside `src/env.ts`."""),
    ]),
    _story("ssl-proxy", "python security docker", "python docker", _v("pipeline"), [
        ("e", "error", "requests.exceptions.SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] unable to get local issuer certificate",
         """Inside the `[[svc]]` container on the office network only:

```
requests.exceptions.SSLError: HTTPSConnectionPool(host='api.stripe.com', port=443):
Max retries exceeded with url: /v1/events (Caused by SSLError(SSLCertVerificationError(1,
'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate')))
```"""),
        ("p", "problem", "TLS-inspecting corporate proxy CA is not trusted inside python:3.11-slim images",
         """The office proxy re-signs TLS traffic with an internal root CA. The host trusts it, the container
does not, and `requests` uses `certifi`'s bundle anyway, not the system store."""),
        ("s", "solution", "Add the corporate root CA to the image trust store and point REQUESTS_CA_BUNDLE at it (never verify=False)",
         """```dockerfile
COPY certs/corp-root-ca.crt /usr/local/share/ca-certificates/
RUN update-ca-certificates
ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
```

Only in the `dev` build target; production images do not need it."""),
        ("f", "fix", "Added dev-only Docker target that installs the corporate CA and sets REQUESTS_CA_BUNDLE",
         """`docker compose` uses `target: dev`; CI and prod build `target: runtime`. Removed two stray
`verify=False` calls found while debugging."""),
    ]),
    _story("stripe-signature", "stripe django security", "stripe django", _v("billing"), [
        ("e", "error", "stripe.error.SignatureVerificationError: No signatures found matching the expected signature for payload",
         """Every webhook delivery to `/webhooks/stripe/` failed with 400 after the DRF refactor:

```
stripe.error.SignatureVerificationError: No signatures found matching the expected signature for payload
```"""),
        ("p", "problem", "Stripe webhook signature check fails because the payload is re-serialized before verification",
         """The new DRF view passed `json.dumps(request.data)` to `stripe.Webhook.construct_event`. The signature is
computed over the exact raw bytes; any re-serialization (key order, whitespace) breaks it."""),
        ("s", "solution", "Verify Stripe webhooks against request.body (raw bytes) with the endpoint's own whsec_ secret",
         """```python
@csrf_exempt
def stripe_webhook(request):
    event = stripe.Webhook.construct_event(
        payload=request.body,
        sig_header=request.META["HTTP_STRIPE_SIGNATURE"],
        secret=settings.STRIPE_WEBHOOK_SECRET,
    )
```

Each endpoint (and the Stripe CLI) has a different `whsec_` secret."""),
        ("f", "fix", "Switched the Stripe webhook view back to a plain Django view that verifies request.body",
         """Plus a test that signs a fixture payload with `stripe.WebhookSignature._compute_signature`.
Replayed the 340 failed events from the Stripe dashboard."""),
    ]),
    _story("sync-only", "django python async", "django", _v("auth"), [
        ("e", "error", "django.core.exceptions.SynchronousOnlyOperation: You cannot call this from an async context",
         """New async view `/api/session/status` in [[svc]]:

```
django.core.exceptions.SynchronousOnlyOperation: You cannot call this from an async context -
use a thread or sync_to_async.
```"""),
        ("p", "problem", "Synchronous ORM call (request.user, QuerySet evaluation) inside an async Django view",
         """Accessing `request.user` lazily evaluates a query; so does iterating a QuerySet. Both are sync-only."""),
        ("s", "solution", "Use the async ORM API (aget, acount, aiterator, auser) or wrap code in sync_to_async",
         """```python
async def session_status(request):
    user = await request.auser()
    sessions = [s async for s in Session.objects.filter(user=user).aiterator()]
```

For code without async variants: `await sync_to_async(fn, thread_sensitive=True)()`.
See [Asynchronous support](https://docs.djangoproject.com/en/5.1/topics/async/)."""),
        ("f", "fix", "Rewrote session_status view with request.auser() and aiterator()",
         """Works under uvicorn workers; added `pytest.mark.asyncio` test with `AsyncClient`."""),
    ]),
    _story("sqlite-locked", "sqlite testing python", "sqlite django", _v("auth"), [
        ("e", "error", "sqlite3.OperationalError: database is locked (runserver + Celery worker on dev DB)",
         """```
django.db.utils.OperationalError: database is locked
```

Local dev only, when the Celery worker writes audit rows while runserver handles a login."""),
        ("p", "problem", "Two processes write to the local SQLite database and the default journal mode allows a single writer",
         """Rollback-journal mode locks the whole file during a write and the default Django timeout is 5 s."""),
        ("s", "solution", "Enable WAL journal mode and a longer busy timeout for multi-process SQLite",
         """Django 5.1+:

```python
DATABASES["default"]["OPTIONS"] = {
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
}
```

`IMMEDIATE` takes the write lock at `BEGIN`, so the busy timeout applies instead of failing mid-transaction."""),
        ("f", "fix", "Set SQLite WAL, timeout=20 and transaction_mode=IMMEDIATE in auth-gateway dev settings",
         """`settings/dev.py` only; CI and prod use Postgres. No more lock errors in two weeks of dev use."""),
    ]),
    _story("hydration", "nextjs react", "nextjs react", _v("storefront"), [
        ("e", "error", "Next.js hydration error: Text content does not match server-rendered HTML (order dates)",
         """```
Error: Text content does not match server-rendered HTML.
Warning: Text content did not match. Server: "03/04/2026" Client: "4.3.2026"
```"""),
        ("p", "problem", "Locale- and timezone-dependent date formatting differs between Node SSR and the browser",
         """`new Date(x).toLocaleDateString()` runs with the server's `en-US` / UTC on SSR and the user's
locale/zone in the browser."""),
        ("s", "solution", "Format dates with an explicit locale and timeZone, or render them client-only",
         """```ts
const fmt = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "Europe/Berlin" });
```

For "x minutes ago" style text, render a placeholder on the server and fill it in `useEffect`.
Background: [Next.js hydration error docs](https://nextjs.org/docs/messages/react-hydration-error)."""),
        ("f", "fix", "Added formatDate helper with explicit Intl.DateTimeFormat locale and timeZone in storefront-web",
         """All `toLocaleDateString()` calls replaced; ESLint `no-restricted-syntax` bans them."""),
    ]),
    _story("npm-eresolve", "typescript react ci", "react", _v("storefront"), [
        ("e", "error", "npm ERR! code ERESOLVE unable to resolve dependency tree (peer react@^17 from react-beautiful-dnd)",
         """```
npm ERR! code ERESOLVE
npm ERR! ERESOLVE unable to resolve dependency tree
npm ERR! Found: react@18.3.1
npm ERR! Could not resolve dependency:
npm ERR! peer react@"^16.8.5 || ^17.0.0" from react-beautiful-dnd@13.1.1
```"""),
        ("p", "problem", "React 18 upgrade blocked by unmaintained react-beautiful-dnd peer dependency",
         """react-beautiful-dnd is archived and will never declare React 18 support. `--legacy-peer-deps`
would hide every future peer conflict too."""),
        ("s", "solution", "Replace react-beautiful-dnd with its maintained fork @hello-pangea/dnd",
         """Drop-in API (`DragDropContext`, `Droppable`, `Draggable`), supports React 18 and strict mode.
Avoid `--legacy-peer-deps` / `.npmrc legacy-peer-deps=true`."""),
        ("f", "fix", "Swapped react-beautiful-dnd for @hello-pangea/dnd in the wishlist board and upgraded to React 18.3",
         """Import path change only; `npm ci` clean without flags; Playwright drag tests pass."""),
    ]),
    _story("beat-duplicate", "celery kubernetes", "celery kubernetes", _v("pipeline", "billing"), [
        ("p", "problem", "Celery beat periodic tasks run twice after scaling [[svc]] to 2 replicas",
         """`celery worker -B` was used in the worker Deployment; with `replicas: 2` there were two
schedulers and the nightly `rollup_[[app]]` ran twice."""),
        ("s", "solution", "Run Celery beat as its own single-replica Deployment with strategy Recreate",
         """- Separate `[[svc]]-beat` Deployment, `replicas: 1`, `strategy: {type: Recreate}` so rolling
  updates never overlap two schedulers
- Make periodic tasks idempotent anyway (a lock row or `SET NX`)"""),
        ("f", "fix", "Split [[svc]] beat into a dedicated Deployment and removed -B from the workers",
         """Helm chart of [[svc]]: new `beat.yaml` template; workers scale freely now (HPA 2-8)."""),
    ]),
    _story("migrate-probe", "kubernetes migrations deployment", "kubernetes django", _v("billing", "auth"), [
        ("e", "error", "Readiness probe failed: HTTP probe failed with statuscode: 503 during [[svc]] rollout",
         """```
Warning  Unhealthy  kubelet  Readiness probe failed: HTTP probe failed with statuscode: 503
```

New [[svc]] pods stayed unready for minutes while `migrate` ran in the entrypoint of *every* pod."""),
        ("p", "problem", "[[svc]] runs schema migrations in the container entrypoint, racing across pods during rolling deploys",
         """Each new [[svc]] pod ran `manage.py migrate` on start; several raced on the same migration and old
pods served traffic against a half-migrated schema."""),
        ("s", "solution", "Run migrations once as a Helm pre-upgrade hook Job, keep migrations backward compatible",
         """```yaml
metadata:
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
    "helm.sh/hook-delete-policy": before-hook-creation,hook-succeeded
```

The Job uses the new image; the Deployment only rolls if the hook succeeds.
[Helm chart hooks](https://helm.sh/docs/topics/charts_hooks/)."""),
        ("f", "fix", "Added migrate Job as Helm pre-upgrade hook to the [[svc]] chart and removed migrate from the entrypoint",
         """Rollouts of [[svc]] now take 90 s instead of 6 min; readiness probe only checks `/healthz`."""),
    ]),
    _story("module-not-found", "docker python", "docker python", _v("billing"), [
        ("e", "error", "ModuleNotFoundError: No module named 'config' when gunicorn starts in the container",
         """```
[ERROR] Exception in worker process
ModuleNotFoundError: No module named 'config'
```

Right after moving the code to a `src/` layout."""),
        ("p", "problem", "WORKDIR and import path mismatch after switching [[svc]] to a src/ layout",
         """`WORKDIR /app` but the package is now in `/app/src`; gunicorn imports `config.wsgi` relative to CWD."""),
        ("s", "solution", "Install the project as a package in the image instead of relying on CWD or PYTHONPATH",
         """`pip install --no-deps .` (or `uv pip install .`) after copying the source, so imports work from
any directory. Alternatively `gunicorn --chdir /app/src`, but installing is more robust for
management commands and Celery too."""),
        ("f", "fix", "Added pyproject.toml packaging for [[svc]] and pip install --no-deps . to the Dockerfile",
         """Gunicorn, Celery and `manage.py` all start from `/`; removed `ENV PYTHONPATH` hacks."""),
    ]),
    _story("naive-datetime", "django python", "django", _v("pipeline"), [
        ("e", "error", "RuntimeWarning: DateTimeField [[model]].occurred_at received a naive datetime while time zone support is active",
         """```
RuntimeWarning: DateTimeField [[model]].occurred_at received a naive datetime (2026-06-30 00:00:00)
while time zone support is active.
```

Thousands of these in the CSV import logs."""),
        ("p", "problem", "CSV import stores naive datetimes, shifting [[model]] timestamps by the server offset",
         """The partner CSV has local times without offset; Django assumed the default time zone and
month-end events landed in the wrong month in reports."""),
        ("s", "solution", "Always build aware datetimes at the boundary and turn the naive datetime warning into an error in tests",
         """```python
from zoneinfo import ZoneInfo
dt = datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(partner.tz))
```

`pytest.ini`: `filterwarnings = error::RuntimeWarning:django.db.models.fields`."""),
        ("f", "fix", "Parse CSV timestamps with the partner time zone (zoneinfo) and made naive datetime warnings fatal",
         """Re-imported June and July; finance report totals now match the source system."""),
    ]),
    _story("stale-fetch", "react typescript", "react", _v("storefront"), [
        ("p", "problem", "Stale search results: a slower earlier fetch overwrites newer results in ProductSearch",
         """Typing quickly fires a request per keystroke; responses arrive out of order and the last one to
*arrive* wins, not the last one *sent*."""),
        ("s", "solution", "Abort in-flight fetches in the useEffect cleanup with AbortController",
         """```tsx
useEffect(() => {
  const ctrl = new AbortController();
  fetch(`/api/search?q=${encodeURIComponent(q)}`, { signal: ctrl.signal })
    .then((r) => r.json()).then(setResults)
    .catch((e) => { if (e.name !== "AbortError") setError(e); });
  return () => ctrl.abort();
}, [q]);
```"""),
        ("f", "fix", "ProductSearch aborts the previous request and debounces input by 250 ms",
         """Also moved to TanStack Query with `queryKey: ["search", q]`, which handles this for us."""),
    ]),
    _story("deadlock", "postgres django celery", "postgres django", _v("billing"), [
        ("e", "error", "psycopg2.errors.DeadlockDetected: deadlock detected while updating [[table]]",
         """```
psycopg2.errors.DeadlockDetected: deadlock detected
DETAIL:  Process 4121 waits for ShareLock on transaction 9912345; blocked by process 4188.
Process 4188 waits for ShareLock on transaction 9912340; blocked by process 4121.
```

Every night around 02:00 UTC."""),
        ("p", "problem", "Payment webhooks and the nightly dunning job lock [[model]] rows in different orders",
         """Webhooks lock invoice then customer; dunning locks customer then all invoices. Concurrent runs
form a lock cycle."""),
        ("s", "solution", "Lock rows in a consistent order with select_for_update().order_by('pk')",
         """```python
with transaction.atomic():
    invoices = list([[model]].objects.select_for_update().filter(customer=c).order_by("pk"))
```

Always lock parent before children, and keep transactions short (no HTTP calls inside).
[Postgres explicit locking](https://www.postgresql.org/docs/16/explicit-locking.html#LOCKING-DEADLOCKS)."""),
        ("f", "fix", "Unified lock order (customer, then invoices by pk) in webhook handler and dunning job",
         """Also moved the Stripe API call out of the transaction. No deadlocks in 60 days."""),
    ]),
    _story("worker-timeout", "python performance django", "django celery", _v("billing", "pipeline"), [
        ("e", "error", "[CRITICAL] WORKER TIMEOUT (pid:27) on CSV export of [[model]] rows",
         """```
[2026-02-11 09:14:03 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:27)
[2026-02-11 09:14:03 +0000] [27] [INFO] Worker exiting (pid: 27)
```

Users of [[svc]] see a 502 from ingress-nginx after exactly 30 s."""),
        ("p", "problem", "Synchronous CSV export of 200k [[model]] rows exceeds the Gunicorn 30 s timeout",
         """The export view in `[[app]]/views.py` builds the whole CSV in memory inside the request, then
writes it to the response in one go."""),
        ("s", "solution", "Move large exports to a Celery task that uploads to S3 and emails a presigned URL",
         """- View enqueues `export_[[app]].delay(filters, user_id)` and returns 202
- Task streams rows with `iterator(chunk_size=2000)` into a temp file, uploads to S3
- Email with a presigned URL valid 24 h

For mid-size exports a `StreamingHttpResponse` is fine too."""),
        ("f", "fix", "export_[[app]] now runs as a Celery task with S3 upload and presigned link",
         """Gunicorn timeout for [[svc]] kept at 30 s. Export of 1.2M rows takes 3 min in the background."""),
    ]),
    _story("smtp-auth", "email python", "django", _v("auth"), [
        ("e", "error", "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Username and Password not accepted')",
         """Password reset emails stopped in staging:

```
smtplib.SMTPAuthenticationError: (535, b'5.7.8 Username and Password not accepted.')
```"""),
        ("p", "problem", "SMTP basic auth disabled for the shared mailbox used by staging email",
         """The provider turned off basic auth for SMTP; our staging settings still used a user/password."""),
        ("s", "solution", "Send transactional email through the Amazon SES API (django-ses) with IAM roles instead of SMTP passwords",
         """`EMAIL_BACKEND = "django_ses.SESBackend"`, credentials from the pod IAM role (IRSA), no
secrets in env. Bounce and complaint handling via SNS."""),
        ("f", "fix", "Configured django-ses with IRSA for auth-gateway staging and prod",
         """Deleted the SMTP password secret; password reset emails delivered in < 2 s."""),
    ]),
    _story("s3-signature", "aws python", "python", _v("pipeline"), [
        ("e", "error", "botocore SignatureDoesNotMatch on S3 presigned URL download",
         """```xml
<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not
match the signature you provided. Check your key and signing method.</Message></Error>
```"""),
        ("p", "problem", "S3 presigned URLs generated with the global endpoint fail for a bucket in eu-west-1",
         """boto3 client created without `region_name`, so the URL was signed for `us-east-1` with SigV4."""),
        ("s", "solution", "Create the S3 client with the bucket region and signature_version s3v4",
         """```python
s3 = boto3.client("s3", region_name="eu-west-1", config=Config(signature_version="s3v4"))
url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": k}, ExpiresIn=86400)
```"""),
        ("f", "fix", "Pinned region and s3v4 signing in the shared storage helper of data-pipeline",
         """`pipeline/storage.py`; report download links work again."""),
    ]),
]

# ---------------------------------------------------------------------------------------
# Open issues: deliberately unresolved (no SOLVES / ADDRESSES edge points at them)
# ---------------------------------------------------------------------------------------

OPEN_ISSUES = [
    _story("redis-reset", "celery redis", "celery redis", _v("pipeline"), [
        ("e", "error", "redis.exceptions.ConnectionError: Error 104 while writing to socket. Connection reset by peer (Celery ingest worker)",
         """Under peak load (month-end backfill) the `ingest` workers log:

```
redis.exceptions.ConnectionError: Error 104 while writing to socket. Connection reset by peer.
kombu.exceptions.OperationalError: Error 104 while writing to socket.
```

Tasks are retried, so no data loss so far, but throughput drops by half."""),
        ("p", "problem", "Celery workers lose their Redis broker connection under load; root cause unknown",
         """Hypotheses not yet verified:

- ElastiCache `maxclients` / connection churn (each prefork child opens its own pool)
- Idle timeout on the NLB between EKS and ElastiCache (350 s)
- `socket_keepalive` not set in `broker_transport_options`

Next step: enable `redis_backend_health_check_interval` and graph `CurrConnections`."""),
        ("t", "task", "Investigate Redis connection resets on ingest workers (keepalive, maxclients, NLB idle timeout)",
         """- [ ] Graph `CurrConnections` and `NewConnections` during the next backfill
- [ ] Try `broker_transport_options = {"socket_keepalive": True, "health_check_interval": 30}`
- [ ] Check NLB idle timeout vs. worker idle periods"""),
    ], edges=[("t", "RELATED_TO", "p")]),
    _story("kafka-rebalance", "kafka python", "kafka", _v("pipeline"), [
        ("e", "error", "Kafka CommitFailedError: group has already rebalanced and assigned the partitions to another member",
         """```
cimpl.KafkaException: KafkaError{code=REBALANCE_IN_PROGRESS,val=27,str="Commit failed:
Broker: Group rebalance in progress"}
```

Followed by duplicate events in `[[table]]` (deduplicated downstream by `event_id`)."""),
        ("p", "problem", "Kafka consumer group of data-pipeline rebalances every few minutes during backfills",
         """Processing a batch sometimes takes longer than `max.poll.interval.ms` (300 s), the member is
kicked out and the group rebalances. Consumer lag grows to 2M messages.

Not fixed yet: options are smaller batches, `max.poll.interval.ms` increase, or cooperative-sticky
assignment to make rebalances cheaper."""),
    ]),
    _story("safari-itp", "oauth auth react", "oauth", _v("storefront"), [
        ("e", "error", "Safari: silent token refresh in hidden iframe fails with login_required (ITP blocks third-party cookies)",
         """```
GET https://auth.example.com/oauth/authorize?prompt=none&... -> 302
  Location: https://shop.example.com/silent-callback#error=login_required
```

Only Safari 17+ and Firefox with strict tracking protection."""),
        ("p", "problem", "Safari users are logged out every 5 minutes because iframe-based silent refresh cannot send the session cookie",
         """The auth domain is third-party from the shop's point of view, so ITP drops its cookie in the
iframe. Candidates: refresh tokens with rotation in the SPA, a BFF holding tokens server-side,
or moving auth to a first-party subdomain. Decision pending with security."""),
        ("t", "task", "Decide silent refresh replacement for Safari ITP (refresh token rotation vs BFF vs first-party auth domain)",
         """Write a short ADR comparing the three options, including XSS exposure of refresh tokens in
the browser. Owner: frontend + security."""),
    ], edges=[("t", "RELATED_TO", "p")]),
    _story("playwright-flaky", "testing ci react", "react github-actions", _v("storefront"), [
        ("e", "error", "Playwright: Timeout 30000ms exceeded waiting for getByRole('button', { name: 'Pay now' })",
         """```
Error: locator.click: Timeout 30000ms exceeded.
Call log:
  - waiting for getByRole('button', { name: 'Pay now' })
```

Fails ~1 in 15 CI runs of `checkout.spec.ts`, never locally."""),
        ("p", "problem", "Flaky Playwright checkout test in CI; Stripe Elements iframe sometimes never renders",
         """Traces show the Stripe iframe stuck loading. Suspects: CI runner network, Stripe test-mode rate
limits, or our mock server racing. Currently retried twice via `retries: 2`, which hides it."""),
    ]),
    _story("disk-pressure", "kubernetes deployment", "kubernetes", _v("infra"), [
        ("e", "error", "Kubernetes evictions: The node was low on resource: ephemeral-storage (DiskPressure)",
         """```
Status:  Failed
Reason:  Evicted
Message: The node was low on resource: ephemeral-storage. Threshold quantity: 2Gi, available: 1.6Gi.
```

Seen on `m6i.large` nodes in the prod cluster `eks-prod-eu-west-1`."""),
        ("p", "problem", "Nodes hit DiskPressure and evict pods; unclear whether image cache or container logs fill the disk",
         """Root volume is 20 GiB. Image GC thresholds are defaults (85/80%). Fluent Bit buffers might also
grow when Loki is slow. Needs measurement before changing node groups."""),
    ]),
    _story("autovacuum-bloat", "postgres performance", "postgres", _v("pipeline"), [
        ("p", "problem", "Autovacuum cannot keep up on [[table]]: table bloat 3x and slow sequential scans",
         """`pg_stat_user_tables` shows `n_dead_tup` ~180M on `[[table]]`; last autovacuum 9 days ago.
The nightly upsert rewrites most rows. Table size 210 GB for ~70 GB of live data.

Ideas: per-table `autovacuum_vacuum_scale_factor = 0.01`, more `autovacuum_max_workers`,
partitioning by month, or `pg_repack` once. Nothing applied yet."""),
        ("e", "error", "Postgres warning: oldest xmin is far in the past; autovacuum on [[table]] canceled",
         """```
WARNING:  oldest xmin is far in the past
HINT:  Close open transactions soon to avoid wraparound problems.
LOG:  canceling autovacuum task
CONTEXT:  automatic vacuum of table "[[db]].public.[[table]]"
```"""),
    ]),
    _story("pandas-memory", "python performance data", "python", _v("pipeline"), [
        ("e", "error", "MemoryError: Unable to allocate 3.8 GiB for an array with shape (41, 12400000) and data type float64",
         """Monthly finance report job in data-pipeline:

```
numpy.core._exceptions._ArrayMemoryError: Unable to allocate 3.8 GiB for an array with
shape (41, 12400000) and data type float64
```"""),
        ("p", "problem", "Monthly pandas finance report loads the full month of events into one DataFrame",
         """12M rows x 41 columns; the pod has a 4 GiB limit. Options under discussion: chunked
`read_sql` with aggregation per chunk, pushing the aggregation into Postgres, or switching the
report to Polars/DuckDB. Workaround for now: run it manually on a bigger node."""),
    ]),
    _story("ingress-502", "kubernetes deployment nginx", "ingress-nginx kubernetes", _v("billing"), [
        ("e", "error", "ingress-nginx 502: upstream prematurely closed connection while reading response header",
         """```
[error] 2231#2231: *9912 upstream prematurely closed connection while reading response header
from upstream, client: 10.0.4.12, server: billing.example.com, request: "POST /api/v1/payments/ HTTP/1.1"
```

Only during rolling deploys of [[svc]]: a burst of 5-20 502s."""),
        ("p", "problem", "Short burst of 502s from ingress-nginx on every rolling deploy of [[svc]]",
         """Pods get SIGTERM while nginx still routes to them (endpoint removal is asynchronous). A
`preStop: sleep 10` helped in auth-gateway but did *not* fully fix it here; keep-alive
connections from nginx to gunicorn may be involved. Still open."""),
    ]),
]

# ---------------------------------------------------------------------------------------
# Reusable code patterns
# ---------------------------------------------------------------------------------------

PATTERNS = [
    _story("service-layer", "django python architecture", "django", [
        {"proj": "billing", "fn": "issue_invoice"}, {"proj": "auth", "fn": "register_user"},
    ], [
        ("x", "code_pattern", "Django service layer in [[svc]]: business logic in services.py with transaction.atomic and on_commit",
         """Views and serializers stay thin; a service function owns the transaction and side effects:

```python
@transaction.atomic
def [[fn]](*, actor: User, **data) -> [[model]]:
    obj = [[model]].objects.create(**data)
    AuditLog.objects.create(actor=actor, action="[[fn]]", target=obj)
    transaction.on_commit(lambda: notify_[[app]].delay(obj.pk))
    return obj
```

`on_commit` makes sure Celery never sees a row that was rolled back."""),
    ]),
    _story("idempotent-task", "celery redis python", "celery redis", _v(None), [
        ("x", "code_pattern", "Idempotent Celery task with a Redis SET NX lock keyed by business id",
         """```python
@shared_task(bind=True, acks_late=True, autoretry_for=(TransientError,), retry_backoff=True)
def send_receipt(self, payment_id: int) -> None:
    key = f"task:send_receipt:{payment_id}"
    if not redis.set(key, self.request.id, nx=True, ex=86400):
        return  # already done or in progress
    ...
```

Use with `acks_late=True`: the message may be delivered more than once, the effect happens once."""),
    ]),
    _story("retry-backoff", "python reliability", "python", _v(None), [
        ("x", "code_pattern", "Retry HTTP calls with exponential backoff and jitter using tenacity",
         """```python
from tenacity import retry, stop_after_attempt, wait_random_exponential, retry_if_exception_type

@retry(
    retry=retry_if_exception_type((httpx.TransportError, RateLimited)),
    wait=wait_random_exponential(multiplier=0.5, max=20),
    stop=stop_after_attempt(6),
    reraise=True,
)
def fetch_partner_events(client: httpx.Client, since: str) -> list[dict]: ...
```

Only retry idempotent requests; respect `Retry-After` when the API sends it."""),
    ]),
    _story("use-fetch-hook", "react typescript", "react typescript", _v("storefront"), [
        ("x", "code_pattern", "React custom hook useAbortableFetch with AbortController and typed result",
         """```ts
export function useAbortableFetch<T>(url: string, parse: (x: unknown) => T) {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  useEffect(() => {
    const ctrl = new AbortController();
    fetch(url, { signal: ctrl.signal })
      .then((r) => r.json()).then((j) => setState({ data: parse(j), loading: false }))
      .catch((e) => e.name !== "AbortError" && setState({ error: e, loading: false }));
    return () => ctrl.abort();
  }, [url]);
  return state;
}
```

Prefer TanStack Query for anything cached or shared; this hook is for one-off widgets."""),
    ]),
    _story("structlog", "python logging django", "python django", _v("billing", "auth"), [
        ("x", "code_pattern", "Structured JSON logging with structlog and a request ID middleware in [[svc]]",
         """```python
class RequestIdMiddleware:
    def __init__(self, get_response): self.get_response = get_response
    def __call__(self, request):
        rid = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=rid, path=request.path)
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        structlog.contextvars.clear_contextvars()
        return response
```

ingress-nginx forwards `X-Request-ID`, so one id follows a request through nginx, Django and
Celery (pass it in task headers). In [[svc]] the middleware is first in `MIDDLEWARE`."""),
    ]),
    _story("cache-aside", "redis caching python", "redis django", _v("billing"), [
        ("x", "code_pattern", "Cache-aside with versioned Redis keys and a short lock against cache stampedes",
         """```python
def get_pricing(plan_id: int) -> dict:
    key = f"pricing:plan:{plan_id}:v3"
    if (hit := cache.get(key)) is not None:
        return hit
    with cache.lock(f"lock:{key}", timeout=10, blocking_timeout=5):
        if (hit := cache.get(key)) is not None:
            return hit
        value = compute_pricing(plan_id)
        cache.set(key, value, timeout=3600)
        return value
```

Bump `v3` when the cached shape changes instead of flushing Redis."""),
    ]),
    _story("factory-fixtures", "testing pytest django", "pytest django", _v("billing", "auth"), [
        ("x", "code_pattern", "pytest fixtures built on factory_boy factories instead of JSON fixtures ([[svc]])",
         """```python
class [[model]]Factory(factory.django.DjangoModelFactory):
    class Meta:
        model = [[model]]
    created_at = factory.LazyFunction(timezone.now)

@pytest.fixture
def [[app]]_batch(db):
    return [[model]]Factory.create_batch(3)
```

Factories document the minimal valid object; JSON fixtures rot on every migration."""),
    ]),
    _story("pydantic-settings", "python configuration", "python", _v("pipeline"), [
        ("x", "code_pattern", "Typed configuration with pydantic-settings, validated at import time",
         """```python
class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIPELINE_", env_file=".env")
    database_url: PostgresDsn
    kafka_bootstrap: str
    batch_size: int = Field(2000, ge=100, le=50_000)

settings = Settings()  # fails fast with a readable error
```"""),
    ]),
    _story("outbox", "postgres kafka architecture", "postgres kafka", _v("billing"), [
        ("x", "code_pattern", "Transactional outbox: write domain events to an outbox table, publish to Kafka from a relay",
         """Writing to Postgres and Kafka in one request cannot be atomic. Instead:

1. In the same transaction as the business change, insert into `outbox(id, topic, key, payload)`
2. A relay (Celery beat every 2 s, or Debezium later) publishes unsent rows and marks them sent
3. Consumers deduplicate by event `id`

Guarantees at-least-once delivery without dual writes."""),
    ]),
    _story("zod-boundary", "typescript validation", "typescript", _v("storefront"), [
        ("x", "code_pattern", "Validate every external input at the boundary with Zod and infer TypeScript types from the schema",
         """```ts
export const Order = z.object({
  id: z.string(),
  total: z.number().nonnegative(),
  placedAt: z.coerce.date(),
  status: z.enum(["pending", "paid", "refunded"]),
});
export type Order = z.infer<typeof Order>;
export const fetchOrders = async () => z.array(Order).parse(await api.get("/api/orders/"));
```

One source of truth for the type and the runtime check."""),
    ]),
    _story("graceful-shutdown", "kubernetes deployment python", "kubernetes", _v("infra"), [
        ("x", "code_pattern", "Kubernetes graceful shutdown: preStop sleep, SIGTERM handling and terminationGracePeriodSeconds",
         """```yaml
lifecycle:
  preStop:
    exec: {command: ["sleep", "10"]}
terminationGracePeriodSeconds: 40
```

The sleep gives kube-proxy and ingress-nginx time to remove the endpoint before the app stops;
gunicorn then gets SIGTERM and finishes in-flight requests (`--graceful-timeout 25`)."""),
    ]),
    _story("keyset-pagination", "postgres performance django", "postgres django", _v("pipeline"), [
        ("x", "code_pattern", "Keyset pagination over large tables instead of OFFSET (batch jobs and exports)",
         """```python
def batched(qs, size=2000):
    last_pk = 0
    while True:
        batch = list(qs.filter(pk__gt=last_pk).order_by("pk")[:size])
        if not batch:
            return
        yield batch
        last_pk = batch[-1].pk
```

OFFSET 1,000,000 scans a million rows; `pk > last_pk` uses the index. Works behind PgBouncer."""),
    ]),
    _story("rate-limit", "redis security auth", "redis", _v("auth"), [
        ("x", "code_pattern", "Fixed-window rate limiting for login attempts with Redis INCR + EXPIRE",
         """```python
def hit(key: str, limit: int, window: int) -> bool:
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, window, nx=True)
    count, _ = pipe.execute()
    return count <= limit

if not hit(f"rl:login:{ip}", limit=10, window=60):
    raise Throttled()
```

Key by IP *and* by username to slow credential stuffing without locking out users behind NAT."""),
    ]),
    _story("jwks-cache", "jwt auth python", "jwt oauth", _v("billing", "auth"), [
        ("x", "code_pattern", "Validate JWTs in [[svc]] against a cached JWKS with PyJWKClient and refresh on unknown kid",
         """```python
jwks = jwt.PyJWKClient("https://auth.example.com/.well-known/jwks.json", cache_keys=True, lifespan=3600)

def verify(token: str) -> dict:
    key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience="[[svc]]",
                      issuer="https://auth.example.com", leeway=30)
```"""),
    ]),
]

# ---------------------------------------------------------------------------------------
# Decisions: superseded advice, replacements, contradictions (keys: old -> new)
# ---------------------------------------------------------------------------------------

DECISIONS = [
    _story("jwt-storage", "jwt auth security react", "jwt oauth", _v("storefront"), [
        ("old", "general", "Store the access JWT in localStorage and send it as a Bearer header from the SPA",
         """Initial approach in storefront-web: after the PKCE exchange the SPA keeps `access_token` and
`refresh_token` in `localStorage` and an Axios interceptor adds `Authorization: Bearer ...`.
Simple, survives reloads, works across tabs."""),
        ("new", "solution", "ADR-012: BFF session with httpOnly SameSite=Lax cookie instead of JWT in localStorage",
         """Any XSS can read `localStorage`, so tokens there are as exposed as the page. Decision:

- The BFF performs the code exchange and keeps tokens server-side (encrypted in Redis)
- The browser only holds an `httpOnly; Secure; SameSite=Lax` session cookie
- CSRF protection via SameSite plus a double-submit token for state-changing requests

Supersedes the localStorage approach; see [OWASP HTML5 storage](https://cheatsheetseries.owasp.org/cheatsheets/HTML5_Security_Cheat_Sheet.html)."""),
    ], edges=[("new", "CONTRADICTS", "old"), ("new", "PREFERRED_OVER", "old"), ("old", "DEPRECATED_BY", "new")]),
    _story("uv-lock", "python tooling ci", "python", _v("billing"), [
        ("old", "command", "Lock Python dependencies with pip-compile (pip-tools) into requirements.txt",
         """```bash
pip-compile --generate-hashes -o requirements.txt requirements.in
pip-compile --extra dev -o requirements-dev.txt pyproject.toml
pip-sync requirements.txt requirements-dev.txt
```

Slow (~90 s per resolve) and easy to forget the dev file.""", "bash"),
        ("new", "command", "Lock and install dependencies with uv: uv lock, uv sync --frozen",
         """```bash
uv lock                 # resolve pyproject.toml -> uv.lock (about 1 s)
uv sync --frozen        # CI and Docker: install exactly the lock, fail if out of date
uv lock --upgrade-package django
```

`uv.lock` is cross-platform; `uv export --format requirements-txt` if a tool still needs a requirements file.""", "bash"),
    ], edges=[("new", "REPLACES", "old"), ("old", "DEPRECATED_BY", "new"), ("new", "IMPROVES", "old")]),
    _story("moment", "javascript react performance", "react", _v("storefront"), [
        ("old", "general", "moment.js is used for all date formatting in storefront-web",
         """`moment` + `moment-timezone` are imported in 23 files; they add ~290 KB (75 KB gzipped) to the
main bundle because locales are not tree-shaken."""),
        ("new", "solution", "Replace moment.js with date-fns and Intl.DateTimeFormat (tree-shakable, immutable)",
         """moment is in maintenance mode and mutable (`m.add()` changes `m`). date-fns functions are
pure and imported one by one; formatting with time zones goes through `Intl.DateTimeFormat`.
Bundle -68 KB gzipped. Codemod: `npx moment-to-date-fns` plus manual review of `.tz()` calls."""),
    ], edges=[("new", "REPLACES", "old"), ("old", "DEPRECATED_BY", "new")]),
    _story("compose-v2", "docker tooling", "docker", _v(None), [
        ("old", "command", "docker-compose v1 (Python) commands for the local stack",
         """```bash
docker-compose up -d
docker-compose logs -f web
docker-compose run --rm web python manage.py migrate
```

Installed via pip; deprecated since mid-2023 and no longer shipped with Docker Desktop.""", "bash"),
        ("new", "command", "docker compose v2 plugin: up --wait, watch and profiles",
         """```bash
docker compose up -d --wait          # blocks until healthchecks pass
docker compose watch                 # sync code changes into containers
docker compose --profile workers up  # start optional celery services
docker compose exec web python manage.py shell
```""", "bash"),
    ], edges=[("new", "REPLACES", "old"), ("old", "DEPRECATED_BY", "new")]),
    _story("conn-max-age", "django postgres performance", "django pgbouncer", _v("billing"), [
        ("old", "general", "Django persistent connections (CONN_MAX_AGE=600) are always a win",
         """Re-using connections saves the 20-30 ms TLS + auth handshake to RDS per request, so we set
`CONN_MAX_AGE = 600` in all environments."""),
        ("new", "solution", "CONN_MAX_AGE exhausted Postgres max_connections at 8 pods x 40 threads: pool through PgBouncer instead",
         """Persistent connections are one per thread *per pod*: 8 pods x 40 gthread threads = 320 idle
connections, RDS `max_connections` is 400 and migrations or Celery then failed with
`FATAL: remaining connection slots are reserved`. With PgBouncer (transaction mode) keep
`CONN_MAX_AGE = 0` or short, plus `CONN_HEALTH_CHECKS = True`."""),
    ], edges=[("new", "CONTRADICTS", "old"), ("new", "PREFERRED_OVER", "old")]),
    _story("pytest-migration", "testing pytest django", "pytest django", _v("billing"), [
        ("old", "general", "billing-api test suite uses Django TestCase classes and unittest assertions",
         """About 1,400 tests in `TestCase` classes with `setUpTestData`, fixtures in JSON, run with
`manage.py test --parallel`. Runtime 11 minutes in CI."""),
        ("new", "workflow", "Migrating billing-api tests from unittest TestCase to pytest-django incrementally",
         """1. Add pytest-django; pytest runs `TestCase` classes unchanged, so switch the runner first
2. New tests are plain functions with factory_boy fixtures
3. Convert a module when touching it; `pytest-xdist` (`-n auto`) for parallelism
4. Delete JSON fixtures once unused

Runtime now 4 min with `-n 8`."""),
    ], edges=[("new", "REPLACES", "old")]),
    _story("freezegun", "testing python", "pytest", _v(None), [
        ("old", "general", "Use freezegun for all time mocking in tests",
         """`@freeze_time("2026-01-01")` everywhere; it patches `datetime`, `date` and `time`."""),
        ("new", "general", "time-machine instead of freezegun: faster and works with C extensions, asyncio and pydantic",
         """freezegun rewrites module attributes and misses code that captured `datetime` early (pydantic,
C extensions); it also slows collection. time-machine patches at the C level:
`@time_machine.travel("2026-01-01 09:00+00:00", tick=False)`."""),
    ], edges=[("new", "CONTRADICTS", "old"), ("new", "PREFERRED_OVER", "old"), ("old", "DEPRECATED_BY", "new")]),
    _story("dramatiq", "celery python architecture", "celery", _v("pipeline"), [
        ("old", "general", "Dramatiq as an alternative to Celery for data-pipeline: simpler API, no canvas/chords",
         """Pros: smaller codebase, sane defaults (acks late, retries with backoff), Redis or RabbitMQ.
Cons: no chords/groups (we use `chord` for month-end rollups), fewer monitoring tools,
migration cost for 40 tasks."""),
        ("new", "conversation", "Discussion with the data team: stay on Celery 5.4, revisit Dramatiq in 2027",
         """Agreed in the architecture sync: the pain points (duplicate runs, visibility timeout) are
fixed by idempotent tasks and config, not by switching libraries. Revisit if we drop chords."""),
    ], edges=[("new", "RELATED_TO", "old")]),
    _story("adr-rest-graphql", "graphql architecture drf", "graphql django", _v("storefront"), [
        ("old", "general", "ADR-007: public API stays REST (DRF + OpenAPI); GraphQL only as the internal storefront BFF",
         """Partners integrate via REST with OpenAPI docs and API keys; caching, rate limiting and
versioning are simpler there. The storefront benefits from GraphQL aggregation, so it gets an
internal BFF that is not exposed to third parties."""),
    ]),
    _story("acks-late-advice", "celery reliability", "celery", _v(None), [
        ("old", "general", "Old advice: keep Celery acks_late=False so tasks can never run twice",
         """Early acknowledgement means the message is removed before the task runs: no duplicates, but a
worker crash or OOMKill silently loses the task."""),
    ]),
]

# ---------------------------------------------------------------------------------------
# Commands, workflows, file notes, tasks, general notes and conversations
# ---------------------------------------------------------------------------------------

NOTES = [
    _story("pg-dump", "postgres bash", "postgres", _v("billing", "auth"), [
        ("c", "command", "Copy the staging [[db]] database locally with pg_dump -Fc and pg_restore --jobs",
         """```bash
pg_dump -Fc --no-owner --no-acl -h staging-[[dbhost]] -U readonly [[db]] > [[db]].dump
createdb [[db]]_local
pg_restore --jobs 4 --no-owner -d [[db]]_local [[db]].dump
```

Staging data is anonymised nightly; never dump prod to a laptop."""),
    ]),
    _story("explain", "postgres performance sql", "postgres", _v("billing"), [
        ("c", "command", "EXPLAIN (ANALYZE, BUFFERS) for slow queries and finding them in pg_stat_statements",
         """```sql
SELECT calls, round(mean_exec_time) AS ms, left(query, 80)
FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 10;

EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT)
SELECT * FROM [[table]] WHERE customer_id = 42 AND status = 'open';
```

Paste plans into [explain.dalibo.com](https://explain.dalibo.com) for review."""),
    ]),
    _story("celery-inspect", "celery bash", "celery", _v("billing", "pipeline"), [
        ("c", "command", "Inspect running Celery workers on the [[queue]] queue: inspect active, reserved, purge",
         """```bash
celery -A config inspect active -d celery@[[svc]]-0
celery -A config inspect reserved
celery -A config inspect stats | jq '.[].pool'
celery -A config purge -Q [[queue]]   # careful: drops queued tasks
```"""),
    ]),
    _story("git-bisect", "git testing bash", "pytest", _v(None), [
        ("c", "command", "Find the commit that broke a test with git bisect run pytest",
         """```bash
git bisect start HEAD v2026.05.0
git bisect run pytest tests/test_invoices.py::test_totals -x -q
git bisect reset
```

Exit code 125 from the script means "skip this commit" (e.g. it does not build)."""),
    ]),
    _story("pytest-lf", "testing pytest bash", "pytest", _v(None), [
        ("c", "command", "Fast pytest loop: --lf, -x, -k, --reuse-db and -n auto",
         """```bash
pytest --lf -x -q                 # only last failures, stop at first
pytest -k "pkce and not slow" -vv
pytest --reuse-db -n auto         # pytest-django + xdist
pytest --durations=15             # find slow tests
```"""),
    ]),
    _story("tsc-check", "typescript ci bash", "typescript", _v("storefront"), [
        ("c", "command", "Type-check and lint storefront-web: tsc --noEmit, eslint, npm ls for duplicate React",
         """```bash
npx tsc --noEmit -p tsconfig.json
npx eslint . --max-warnings 0
npm ls react react-dom        # duplicate React copies cause invalid hook call errors
```"""),
    ]),
    _story("helm-rollback", "kubernetes deployment bash", "kubernetes", _v("billing", "auth"), [
        ("c", "command", "Roll back a bad [[svc]] release with helm history and helm rollback",
         """```bash
helm -n [[ns]] history [[svc]] --max 5
helm -n [[ns]] rollback [[svc]] <REVISION> --wait --timeout 5m
kubectl -n [[ns]] rollout status deploy/[[svc]]
```

Rollback does not revert database migrations; they must be backward compatible."""),
    ]),
    _story("stripe-cli", "stripe testing bash", "stripe", _v("billing"), [
        ("c", "command", "Test Stripe webhooks locally with stripe listen --forward-to and stripe trigger",
         """```bash
stripe listen --forward-to localhost:8000/webhooks/stripe/
# prints a whsec_... secret: put it in .env as STRIPE_WEBHOOK_SECRET
stripe trigger payment_intent.payment_failed
```"""),
    ]),
    _story("tf-plan", "terraform bash", "terraform", _v("infra"), [
        ("c", "command", "Terraform plan and apply for one stack and environment",
         """```bash
cd stacks/eks && terraform init -backend-config=../../env/staging.hcl
terraform plan -var-file=../../env/staging.tfvars -out plan.bin
terraform show -no-color plan.bin | less
terraform apply plan.bin   # prod: only from CI
```"""),
    ]),
    _story("port-forward", "kubernetes postgres bash", "kubernetes", _v("billing"), [
        ("c", "command", "Reach the staging PgBouncer from a laptop with kubectl port-forward",
         """```bash
kubectl -n [[ns]] port-forward svc/pgbouncer 6432:6432
psql "postgresql://readonly@localhost:6432/[[db]]"
```"""),
    ]),
    # workflows
    _story("release", "deployment ci kubernetes", "kubernetes github-actions", _v("billing", "auth"), [
        ("w", "workflow", "Release workflow for [[svc]]: tag, build, Helm upgrade with migration hook, smoke test",
         """1. Merge to `main` (all required checks green)
2. `git tag v$(date +%Y.%m).N && git push --tags` triggers `release.yml`
3. CI builds the image, pushes to ECR, runs `helm upgrade --install [[svc]]` with the
   migrate pre-upgrade hook
4. Smoke tests hit `/healthz` and one authenticated endpoint
5. Watch Sentry and Grafana for 15 minutes; roll back with `helm rollback` if error rate > 1%"""),
    ]),
    _story("expand-contract", "migrations postgres deployment", "postgres django", _v("billing"), [
        ("w", "workflow", "Zero-downtime schema change workflow (expand / migrate / contract)",
         """- **Expand**: add new nullable columns/tables; code writes both old and new
- **Migrate**: backfill in batches (Celery task or `RunPython`), verify counts
- **Switch**: read from the new column, deploy
- **Contract**: drop old columns one release later

Each step is its own deploy; every migration sets `lock_timeout`."""),
    ]),
    _story("incident-triage", "monitoring sentry kubernetes", "sentry kubernetes", _v("infra"), [
        ("w", "workflow", "Incident triage: Sentry -> Grafana -> kubectl logs -> rollback decision",
         """1. Sentry: which release, which endpoint, first seen?
2. Grafana: error rate, p95 latency, DB connections, Redis memory
3. `kubectl logs --previous` / `describe pod` for restarts and OOMKilled
4. If the last release correlates: roll back first, investigate after
5. Write the incident note within 24 h (template in the wiki)"""),
    ]),
    _story("migration-review", "django migrations code-review", "django", _v("billing"), [
        ("w", "workflow", "PR review checklist for Django migrations",
         """- Run `sqlmigrate` and read the SQL: any `ACCESS EXCLUSIVE` on a big table?
- New NOT NULL columns have no volatile default and are added in steps
- `RunPython` has a `reverse_code` (or `noop`) and runs in batches
- Index creation on large tables uses `AddIndexConcurrently` in a non-atomic migration
- `makemigrations --check` passes on the branch merged with main"""),
    ]),
    _story("local-setup", "docker onboarding", "docker", _v("billing", "pipeline"), [
        ("w", "workflow", "Local setup for [[svc]]: make bootstrap, compose up --wait, seed data",
         """```bash
git clone git@github.com:example/[[proj]].git && cd [[proj]]
cp .env.example .env
make bootstrap        # uv sync, pre-commit install
docker compose up -d --wait
make migrate seed
```

First run takes ~4 minutes; ask in #dev-help if `--wait` times out."""),
    ]),
    _story("renovate", "ci dependencies", "github-actions", _v("infra"), [
        ("w", "workflow", "Dependency upgrades with Renovate: grouping, automerge for patches, weekly window",
         """- Renovate runs Monday 06:00 UTC; patch updates of dev dependencies automerge when CI is green
- Django, React, Celery majors get their own PR and a task in the board
- Lock file maintenance monthly"""),
    ]),
    _story("key-rotation", "jwt security auth", "jwt", _v("auth"), [
        ("w", "workflow", "JWT signing key rotation in auth-gateway (JWKS overlap period)",
         """1. Generate the new RSA key, add it to JWKS as *inactive* (published, not signing)
2. Wait > JWKS cache lifetime (1 h) so all services know the new `kid`
3. Switch signing to the new key
4. Keep the old key published for access token lifetime + margin (15 min), then remove"""),
    ]),
    # file context
    _story("fc-settings", "django configuration", "django", _v("billing", "auth"), [
        ("fc", "file_context", "[[svc]]/config/settings/: base.py, dev.py, test.py, prod.py split",
         """In [[svc]], `base.py` holds everything environment-independent; `prod.py` reads secrets via
`django-environ` from env vars injected by external-secrets. `test.py` uses
`PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]` for speed.
`DJANGO_SETTINGS_MODULE` defaults to `config.settings.dev` in `manage.py`."""),
    ]),
    _story("fc-compose", "docker", "docker", _v("billing"), [
        ("fc", "file_context", "docker-compose.yml in billing-api: services, healthchecks and profiles",
         """Services: `billing-db` (postgres:16), `redis`, `web`, `worker` and `beat` (profile `workers`),
`stripe-cli` (profile `stripe`). Every stateful service has a healthcheck; app services use
`condition: service_healthy`."""),
    ]),
    _story("fc-ci", "ci github-actions", "github-actions", _v("billing", "storefront"), [
        ("fc", "file_context", ".github/workflows/ci.yml in [[svc]]: jobs, caches and required checks",
         """[[svc]] jobs: `lint`, `test` (matrix: unit, integration), `migrations` (Django only),
`build` (docker/build-push-action with GHA cache). Concurrency group cancels superseded runs on
the same branch. Secrets come from the `ci` environment."""),
    ]),
    _story("fc-deployment", "kubernetes deployment", "kubernetes", _v("infra"), [
        ("fc", "file_context", "charts/django-service/templates/deployment.yaml: shared Helm chart for Django services",
         """Renders the web Deployment, optional worker and beat Deployments, the migrate hook Job, PDB
and HPA. Values: `image.tag`, `web.concurrency`, `resources`, `env`, `migrate.enabled`.
Probes: readiness `/healthz`, liveness `/livez` with `initialDelaySeconds: 20`."""),
    ]),
    _story("fc-client", "typescript react", "typescript", _v("storefront"), [
        ("fc", "file_context", "storefront-web src/api/client.ts: fetch wrapper, auth cookie and Zod parsing",
         """Single `request<T>(path, schema, init?)` helper: base URL from `env.ts`, `credentials: "include"`,
JSON parsing through the given Zod schema, `ApiError` with status and body on non-2xx."""),
    ]),
    _story("fc-services", "django python architecture", "django", _v("billing"), [
        ("fc", "file_context", "billing-api invoices/services.py: invoice lifecycle functions",
         """`issue_invoice`, `mark_paid`, `void_invoice`, `apply_credit_note`. All take keyword-only args,
run in `transaction.atomic`, write `AuditLog` and enqueue notifications with `on_commit`.
Views must call these instead of `Invoice.objects.update(...)`."""),
    ]),
    _story("fc-celery", "celery python", "celery", _v("pipeline"), [
        ("fc", "file_context", "data-pipeline pipeline/celery.py: app config, queues and task routes",
         """```python
app.conf.task_routes = {"pipeline.ingest.*": {"queue": "ingest"}, "pipeline.reports.*": {"queue": "reports"}}
app.conf.task_acks_late = True
app.conf.worker_prefetch_multiplier = 1
```"""),
    ]),
    _story("fc-conftest", "testing pytest", "pytest", _v("auth"), [
        ("fc", "file_context", "auth-gateway tests/conftest.py: fixtures for OAuth clients, users and signed JWTs",
         """Fixtures: `user`, `oauth_app` (public client with PKCE), `rsa_key`, `make_jwt(**claims)`,
`api_client` with a Bearer token. `settings.OAUTH2_PROVIDER` is patched to short lifetimes."""),
    ]),
    # tasks
    _story("task-django51", "django python upgrade", "django", _v("billing"), [
        ("t", "task", "Upgrade billing-api from Django 4.2 LTS to 5.1",
         """- [x] Fix deprecation warnings under 4.2 with `-W error::DeprecationWarning`
- [x] Bump django-oauth-toolkit, django-cors-headers, DRF
- [x] Replace `index_together` with `Meta.indexes`
- [ ] Use `LoginRequiredMiddleware` (new in 5.1) for the admin tools app"""),
    ]),
    _story("task-pg16", "postgres upgrade deployment", "postgres terraform", _v("infra"), [
        ("t", "task", "Upgrade RDS PostgreSQL 13 to 16 for billing and auth databases",
         """Blue/green deployment in RDS; test `pg_stat_statements` extension update, run the full
test suite against 16, check planner regressions with the top 20 queries."""),
    ]),
    _story("task-pgbouncer", "pgbouncer postgres deployment", "pgbouncer", _v("billing"), [
        ("t", "task", "Roll out PgBouncer (transaction pooling) for billing-api and Celery workers",
         """Prerequisites: audit for server-side cursors, `SET` statements and advisory locks; set
`DISABLE_SERVER_SIDE_CURSORS`; load test with 8 pods."""),
    ]),
    _story("task-sentry-tracing", "sentry monitoring", "sentry", _v("storefront"), [
        ("t", "task", "Enable Sentry performance tracing and session replay for storefront-web",
         """Trace propagation from the browser through the BFF to billing-api (`sentry-trace` and
`baggage` headers in CORS allow list). Replay only on errors, with input masking."""),
    ]),
    _story("task-app-router", "nextjs react", "nextjs", _v("storefront"), [
        ("t", "task", "Migrate storefront-web account pages from the Next.js pages router to the app router",
         """Start with `/account/orders` (read-only). Server components fetch through the BFF with the
session cookie; keep client components for forms."""),
    ]),
    _story("task-partition", "postgres performance data", "postgres", _v("pipeline"), [
        ("t", "task", "Partition [[table]] by month (declarative partitioning) to make vacuum and retention cheap",
         """Drop old months with `DETACH PARTITION` instead of `DELETE`; autovacuum per partition."""),
    ]),
    _story("task-mobile-pkce", "oauth pkce mobile", "oauth", _v("auth"), [
        ("t", "task", "Register the mobile app as a public OAuth client with PKCE and claimed https redirect URIs",
         """No client secret in the app; `code_challenge_method=S256` required; redirect via universal
links, not a custom scheme."""),
    ]),
    # general notes and conversations
    _story("g-timeouts", "performance reliability", "ingress-nginx", _v("infra"), [
        ("g", "general", "Timeout budget across the stack: ingress-nginx 60 s > Gunicorn 30 s > statement_timeout 25 s",
         """Each layer must time out *before* the one in front of it, otherwise the client sees a 502/504
while work continues behind it. HTTP clients calling partners: connect 3 s, read 10 s."""),
    ]),
    _story("g-sentry-pii", "security sentry logging", "sentry", _v(None), [
        ("g", "general", "Never log tokens or PII: scrub Authorization headers, emails and JWTs before Sentry",
         """`before_send` removes `request.headers.Authorization`, cookies and anything matching an
email or a JWT pattern. structlog processors do the same for logs."""),
    ]),
    _story("conv-pgbouncer", "pgbouncer django", "pgbouncer", _v("billing"), [
        ("cv", "conversation", "Session summary: debugging the PgBouncer cursor error with Ana",
         """Reproduced with `QuerySet.iterator()` in a shell against staging PgBouncer. Ana pointed out
that `WITH HOLD` cursors cannot work in transaction mode. Agreed to disable server-side cursors
globally and to rewrite the two big exports with keyset pagination."""),
    ]),
    _story("conv-pkce-review", "oauth pkce security", "oauth", _v("auth"), [
        ("cv", "conversation", "Pairing session: review of the OAuth PKCE login flow before the security audit",
         """Walked through authorize -> callback -> token exchange. Findings: `state` must be checked
before the code exchange, `plain` challenge method must be rejected, redirect URIs must be
matched exactly (no prefix matching). All three fixed the same day."""),
    ]),
    _story("conv-react18", "react typescript upgrade", "react", _v("storefront"), [
        ("cv", "conversation", "Agent session: upgrading storefront-web to React 18.3 and fixing StrictMode double effects",
         """StrictMode mounts, unmounts and re-mounts components in dev, so effects without cleanup ran
twice (double analytics events, double fetches). Added cleanups and moved analytics to event
handlers."""),
    ]),
    # isolated notes: nothing links to them
    _story("iso-commits", "git conventions", "", _v(None), [
        ("g", "general", "Team convention: Conventional Commits and squash merges on main",
         """`feat:`, `fix:`, `chore:`, `refactor:`, `docs:`; scope optional (`fix(billing): ...`).
Squash merge so the PR title becomes the commit message."""),
        ("c", "command", "Handy jq one-liners for Sentry and GitHub API JSON exports",
         """```bash
jq -r '.[] | [.shortId, .title, .count] | @tsv' issues.json | sort -k3 -nr | head
gh api repos/example/billing-api/pulls --paginate | jq -r '.[].title'
```"""),
    ], iso=True),
    _story("iso-stripe-cards", "stripe testing", "", _v("billing"), [
        ("g", "general", "Stripe test card numbers we use in QA (3DS, declines, insufficient funds)",
         """- `4242 4242 4242 4242` success
- `4000 0025 0000 3155` requires 3D Secure authentication
- `4000 0000 0000 9995` declined, insufficient funds
- `4000 0000 0000 0341` attaches but fails on charge"""),
    ], iso=True),
    _story("iso-oncall", "oncall", "", _v(None), [
        ("cv", "conversation", "On-call handoff week 19: two pages, both noisy disk alerts on staging",
         """Nothing customer-facing. Raised the staging disk alert threshold to 90%. Reminder for next
on-call: the Stripe webhook backlog dashboard moved to the Payments folder."""),
        ("cv2", "conversation", "Retro notes Q2: fewer incidents, but deploys still take too long",
         """Went well: migration hooks, PgBouncer rollout. To improve: flaky E2E tests block deploys;
review turnaround > 24 h. Actions: owners for flaky tests, review rotation."""),
    ], iso=True),
    _story("iso-misc", "misc", "", _v(None), [
        ("t", "task", "Renew the Apple Developer Program membership and APNs certificate before 15 January",
         """Calendar reminder set; the APNs key is in 1Password under "Mobile / APNs"."""),
        ("g", "general", "Staging VPN uses split tunnelling: only 10.20.0.0/16 goes through WireGuard",
         """If `*.staging.internal` does not resolve, check that the WireGuard DNS setting is applied."""),
        ("cv", "conversation", "Naming discussion for the new reporting service: ledger-reports vs finance-exports",
         """Went with `finance-exports` because it is what the finance team already calls it."""),
        ("cv2", "conversation", "Coffee chat: is Bun worth trying for the BFF? Not now",
         """Node 20 LTS is fine; Bun compatibility with Apollo plugins unclear. Maybe for internal scripts."""),
        ("c", "command", "psql niceties: \\x auto, \\timing on, \\pset null",
         """Put `\\x auto`, `\\timing on` and `\\pset null '(null)'` in `~/.psqlrc`."""),
    ], iso=True),
]

# ---------------------------------------------------------------------------------------
# Edges between stories.  "story.key" is the first instance, "story.key#1" the second;
# "tech:<key>" and "proj:<key>" name technology and project memories.
# ---------------------------------------------------------------------------------------

CROSS_EDGES = [
    ("celery-redelivery.s", "BUILDS_ON", "idempotent-task.x", "Idempotency guard is the second half of the fix."),
    ("celery-redelivery.s", "CONTRADICTS", "acks-late-advice.old", "Early ack avoids duplicates but loses tasks on OOMKill; acks_late + idempotency wins."),
    ("beat-duplicate.s", "BUILDS_ON", "idempotent-task.x", None),
    ("outbox.x", "WORKS_WITH", "idempotent-task.x", "Outbox gives at-least-once; consumers must be idempotent."),
    ("task-pgbouncer.t", "REQUIRES", "pgbouncer-cursor.s", None),
    ("task-pgbouncer.t", "DEPENDS_ON", "task-pg16.t", "Roll out PgBouncer after the Postgres 16 upgrade."),
    ("conn-max-age.new", "LEADS_TO", "task-pgbouncer.t", None),
    ("conn-max-age.new", "RELATED_TO", "pgbouncer-cursor.p", None),
    ("conv-pgbouncer.cv", "RELATED_TO", "pgbouncer-cursor.p", "Debugging session for this issue."),
    ("keyset-pagination.x", "USED_IN", "pgbouncer-cursor.f", None),
    ("keyset-pagination.x", "USED_IN", "worker-timeout.s", None),
    ("ts-env.s", "SPECIALIZES", "zod-boundary.x", "Environment variables are one more boundary."),
    ("undefined-map.s", "BUILDS_ON", "zod-boundary.x", None),
    ("pydantic-settings.x", "ANALOGY_TO", "ts-env.s", "Same idea in Python: parse config once, fail fast."),
    ("use-fetch-hook.x", "GENERALIZES", "stale-fetch.s", None),
    ("conv-react18.cv", "RELATED_TO", "stale-fetch.p", None),
    ("conv-react18.cv", "FOLLOWS", "npm-eresolve.f", "The upgrade session started once the peer dependency conflict was gone."),
    ("renovate.w", "RELATED_TO", "npm-eresolve.p", None),
    ("cors.p", "RELATED_TO", "jwt-storage.new", "Cookie-based sessions need credentialed CORS."),
    ("jwt-storage.new", "RELATED_TO", "safari-itp.p", "A BFF would also sidestep ITP, decision pending."),
    ("pkce-mismatch.f", "VALIDATED_BY", "conv-pkce-review.cv", None),
    ("task-mobile-pkce.t", "BUILDS_ON", "pkce-mismatch.s", None),
    ("jwks-cache.x", "BUILDS_ON", "jwt-iat.s", "Includes the 30 s leeway."),
    ("key-rotation.w", "DEPENDS_ON", "jwks-cache.x", "Services must refresh JWKS on unknown kid."),
    ("oomkilled.p", "RELATED_TO", "worker-timeout.p", None),
    ("graceful-shutdown.x", "INEFFECTIVE_FOR", "ingress-502.p", "preStop sleep alone did not stop the 502 burst in billing-api."),
    ("graceful-shutdown.x", "EFFECTIVE_FOR", "migrate-probe.p#1", "No dropped requests during auth-gateway rollouts."),
    ("g-timeouts.g", "RELATED_TO", "worker-timeout.p", None),
    ("g-timeouts.g", "RELATED_TO", "ingress-502.p", None),
    ("migrate-probe.s", "REQUIRES", "expand-contract.w", "Old pods keep running against the new schema."),
    ("alter-lock.s", "SPECIALIZES", "expand-contract.w", None),
    ("migration-review.w", "PREVENTS", "alter-lock.p", None),
    ("migration-review.w", "PREVENTS", "migration-conflict.p", None),
    ("release.w", "DEPENDS_ON", "migrate-probe.f", None),
    ("release.w", "FOLLOWS", "migration-review.w", None),
    ("release.w#1", "PARALLEL_TO", "key-rotation.w", "Key rotation is scheduled independently of releases."),
    ("helm-rollback.c", "USED_IN", "release.w", None),
    ("incident-triage.w", "DEPENDS_ON", "helm-rollback.c", None),
    ("oomkilled.c", "USED_IN", "incident-triage.w", None),
    ("incident-triage.w", "RELATED_TO", "disk-pressure.p", None),
    ("cache-aside.x", "PREVENTS", "redis-oom.p", "Every cache key gets a TTL."),
    ("redis-reset.p", "RELATED_TO", "celery-redelivery.p", None),
    ("redis-reset.t", "RELATED_TO", "retry-backoff.x", None),
    ("kafka-rebalance.p", "RELATED_TO", "outbox.x", None),
    ("task-partition.t", "RELATED_TO", "autovacuum-bloat.p", "Would make vacuum per partition; not started."),
    ("pandas-memory.p", "SIMILAR_TO", "worker-timeout.p#1", "Both load everything into memory at once."),
    ("playwright-flaky.p", "SIMILAR_TO", "flaky-tz.p", None),
    ("sqlite-locked.p", "ANALOGY_TO", "deadlock.p", "Both are lock contention between concurrent writers."),
    ("deadlock.s", "RELATED_TO", "service-layer.x", None),
    ("stripe-cli.c", "USED_IN", "stripe-signature.f", None),
    ("module-not-found.s", "RELATED_TO", "uv-lock.new", None),
    ("uv-lock.new", "USED_IN", "docker-build-slow.f#1", None),
    ("compose-v2.new", "USED_IN", "local-setup.w", None),
    ("local-setup.w", "DEPENDS_ON", "pg-refused.f", None),
    ("pg-dump.c", "USED_IN", "local-setup.w", None),
    ("fc-compose.fc", "RELATED_TO", "pg-refused.f", None),
    ("fc-ci.fc", "RELATED_TO", "migration-conflict.f", None),
    ("fc-deployment.fc", "RELATED_TO", "migrate-probe.f", None),
    ("fc-client.fc", "RELATED_TO", "ts-env.f", None),
    ("service-layer.x", "USED_IN", "fc-services.fc", None),
    ("fc-celery.fc", "RELATED_TO", "beat-duplicate.s", None),
    ("fc-conftest.fc", "RELATED_TO", "factory-fixtures.x#1", None),
    ("fc-settings.fc#1", "RELATED_TO", "cors.f", None),
    ("pytest-migration.new", "DEPENDS_ON", "factory-fixtures.x", None),
    ("flaky-tz.s", "CONFIRMS", "freezegun.new", "time-machine handled the midnight boundary where freezegun did not."),
    ("task-sentry-tracing.t", "REQUIRES", "cors.s", "sentry-trace and baggage headers must be allowed."),
    ("structlog.x", "RELATED_TO", "g-sentry-pii.g", None),
    ("task-app-router.t", "RELATED_TO", "hydration.p", None),
    ("moment.new", "RELATED_TO", "hydration.s", None),
    ("adr-rest-graphql.old", "RELATED_TO", "graphql-dataloader.p", None),
    ("tf-plan.c", "USED_IN", "task-pg16.t", None),
    ("explain.c", "RELATED_TO", "n-plus-one.p", None),
    ("celery-inspect.c", "USED_IN", "celery-redelivery.f", None),
    ("dramatiq.old", "ALTERNATIVE_TO", "tech:celery", None),
    ("task-django51.t", "RELATED_TO", "tech:django", None),
    ("s3-signature.s", "RELATED_TO", "worker-timeout.s#1", "Export links are presigned S3 URLs."),
]

EDGE_CONTEXTS = {
    "CAUSES": ["Stack trace leads straight to this.", "Reproduced locally: this error is the first symptom.",
               "Sentry groups both under the same release."],
    "TRIGGERS": ["Shows up whenever the underlying problem occurs.", "Seen in logs right before the incident."],
    "SOLVES": ["Verified in staging before rollout.", "Confirmed fixed after a week in production.",
               "Root cause removed, not just the symptom."],
    "ADDRESSES": ["Error no longer appears in Sentry after the deploy.", "Regression test added with the fix."],
    "BUILDS_ON": ["Concrete change implementing the approach.", "Follows the agreed solution."],
    "USED_IN": ["Used while diagnosing.", "Ran these while verifying the fix."],
    "APPLIES_TO": ["Team convention for this stack.", None],
    "OCCURS_IN": ["Observed in this service.", None],
    "SIMILAR_TO": ["Same root cause in another service.", "Same pattern, different project."],
    "VARIANT_OF": ["Adapted for another service."],
    "RELATED_TO": [None],
}

STORIES = CHAINS + OPEN_ISSUES + PATTERNS + DECISIONS + NOTES

BASE_IMPORTANCE = {
    "project": 0.85, "technology": 0.6, "solution": 0.75, "code_pattern": 0.7, "workflow": 0.7,
    "fix": 0.65, "problem": 0.6, "error": 0.55, "command": 0.5, "task": 0.5,
    "file_context": 0.45, "general": 0.45, "conversation": 0.35,
}
# Which memories get an edge to their project's memory (the others only carry `project`).
PROJECT_EDGE = {"problem": "OCCURS_IN", "error": "OCCURS_IN", "task": "APPLIES_TO",
                "workflow": "APPLIES_TO", "file_context": "APPLIES_TO"}
STRONG = {"SOLVES", "ADDRESSES", "CAUSES", "TRIGGERS", "REPLACES", "DEPRECATED_BY", "BUILDS_ON"}
WEAK = {"RELATED_TO", "SIMILAR_TO", "ANALOGY_TO", "VARIANT_OF"}


# ---------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------

class _Graph:
    """Accumulates memories and relationships and enforces the writer rules of the format."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.memories: list[dict] = []
        self.relationships: list[dict] = []
        self.by_id: dict[str, dict] = {}
        self.isolated: set[str] = set()
        self._edges: set[tuple[str, str, str]] = set()
        self._out: dict[str, dict[str, list[str]]] = {}  # rel type -> from id -> [to ids]

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, mtype, title, content, tags, project, created_at, iso=False) -> str:
        rng = self.rng
        tags = list(dict.fromkeys(t.lower() for t in tags))[:6]
        mem = {
            "id": self.uid(), "type": mtype, "title": title[:200], "content": content,
            "tags": tags,
            "importance": round(min(1.0, max(0.0, BASE_IMPORTANCE[mtype] + rng.uniform(-0.15, 0.2))), 2),
            "confidence": round(rng.uniform(0.5, 0.8) if mtype in ("problem", "error") else rng.uniform(0.65, 0.99), 2),
            "project": PROJECTS[project]["path"] if project else None,
            "languages": list(dict.fromkeys(LANGUAGE_TAGS[t] for t in tags if t in LANGUAGE_TAGS)),
            "frameworks": list(dict.fromkeys(FRAMEWORK_TAGS[t] for t in tags if t in FRAMEWORK_TAGS)),
            "git_branch": _branch(rng, mtype, title) if project else None,
            "created_at": created_at,
        }
        if rng.random() < 0.67:
            mem["summary"] = _summary(title, content)
        self.memories.append(mem)
        self.by_id[mem["id"]] = mem
        if iso:
            self.isolated.add(mem["id"])
        return mem["id"]

    def link(self, a: str, rel: str, b: str, context: str | None = "") -> bool:
        """Add a -[rel]-> b unless it is a self-loop, a duplicate, touches an isolated memory
        or closes a directed cycle among edges of the same type (which also keeps symmetric
        types stored once).  context "" means: pick a stock sentence, or None."""
        if a == b or (a, rel, b) in self._edges or a in self.isolated or b in self.isolated:
            return False
        if self._reaches(rel, b, a):
            return False
        rng = self.rng
        lo, hi = (0.7, 1.0) if rel in STRONG else (0.3, 0.8) if rel in WEAK else (0.5, 0.95)
        if context == "":
            context = rng.choice(EDGE_CONTEXTS.get(rel, [None])) if rng.random() < 0.6 else None
        self.relationships.append({
            "id": self.uid(), "from_id": a, "to_id": b, "type": rel,
            "strength": round(rng.uniform(lo, hi), 2), "confidence": round(rng.uniform(0.6, 0.99), 2),
            "context": context,
        })
        self._edges.add((a, rel, b))
        self._out.setdefault(rel, {}).setdefault(a, []).append(b)
        return True

    def _reaches(self, rel: str, start: str, goal: str) -> bool:
        out, seen, stack = self._out.get(rel, {}), {start}, [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            for nxt in out.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False


def _fill(text: str, values: dict) -> str:
    return re.sub(r"\[\[(\w+)\]\]", lambda m: values[m.group(1)], text)


def _summary(title: str, content: str) -> str:
    """First prose sentence of the content (code blocks and lists skipped); prefixed with the
    title unless the content opens with it."""
    paragraphs = re.sub(r"```.*?```", "", content, flags=re.S).split("\n\n")
    for para in (" ".join(p.split()) for p in paragraphs):
        sentence = re.split(r"(?<=[.!?])\s", para, maxsplit=1)[0]
        if len(sentence) >= 40 and not sentence.endswith(":") and not para.startswith(("-", "1.", "<")):
            text = sentence if content.startswith(para[:20]) else f"{title}. {sentence}"
            return text if len(text) <= 500 else text[:497] + "..."
    return title


def _branch(rng: random.Random, mtype: str, title: str) -> str | None:
    slug = "-".join(re.findall(r"[a-z0-9]+", title.lower())[:4])
    if mtype in ("fix", "solution"):
        return f"fix/{slug}"
    if mtype == "task":
        return f"feat/{slug}"
    if mtype in ("project", "technology"):
        return "main"
    if mtype in ("problem", "error"):
        return rng.choice(["main", "develop", f"fix/{slug}"])
    return rng.choice(["main", "main", "develop", None])


def demo_graph(*, seed: int = 7) -> tuple[list[dict], list[dict]]:
    """Return (memories, relationships) of a realistic demo memory graph.

    About 300 memories (all 13 memory types) for five projects of a small team, and about
    450 relationships with sensible directions (solution SOLVES problem, fix ADDRESSES error,
    error CAUSES problem, pattern APPLIES_TO technology ...).  Some problems and errors are
    left unresolved and a few memories are isolated on purpose.  Identical output for the
    same seed; nothing depends on the clock."""
    rng = random.Random(seed)
    g = _Graph(rng)
    start = ANCHOR - timedelta(days=SPAN_DAYS)
    refs: dict[str, str] = {}

    for key, (title, content, tags) in PROJECT_NOTES.items():
        when = start + timedelta(days=rng.uniform(0, 12))
        refs[f"proj:{key}"] = g.add("project", title, content, tags.split(), key, when)
    for key, title, content, tags, projects in TECHNOLOGIES:
        when = start + timedelta(days=rng.uniform(5, 150))
        refs[f"tech:{key}"] = g.add("technology", title, content, tags.split(), None, when)
        for proj in projects:
            g.link(refs[f"tech:{key}"], "USED_IN", refs[f"proj:{proj}"])
    for a, b in TECH_PAIRS:
        g.link(refs[f"tech:{a}"], "WORKS_WITH", refs[f"tech:{b}"])

    for story in STORIES:
        for n in range(len(story["variants"])):
            ids = _instantiate(g, story, n, refs)
            for key, mem_id in ids.items():
                refs[f"{story['key']}.{key}" + (f"#{n}" if n else "")] = mem_id
            if n:  # later variants resemble the first instance
                key = "p" if "p" in ids else story["nodes"][0][0]
                first = refs[f"{story['key']}.{key}"]
                rel = "SIMILAR_TO" if g.by_id[first]["type"] == "problem" else "VARIANT_OF"
                g.link(ids[key], rel, first)

    for a, rel, b, context in CROSS_EDGES:
        g.link(refs[a], rel, refs[b], context)
    return g.memories, g.relationships


def _instantiate(g: _Graph, story: dict, variant_no: int, refs: dict) -> dict[str, str]:
    """Create one instance of a story with its in-story edges; return {node key: id}."""
    variant = story["variants"][variant_no]
    rng, proj = g.rng, variant["proj"]
    values = {**PROJECTS[proj or "billing"], **variant}  # project-less texts have no placeholders
    values["proj"] = values["path"].rsplit("/", 1)[-1]
    gaps = [timedelta(days=rng.uniform(20, 120)) if node[0] == "new" else timedelta(hours=rng.uniform(0.2, 36))
            for node in story["nodes"]]
    span = sum(gaps, timedelta())
    when = ANCHOR - span - timedelta(days=rng.uniform(2, SPAN_DAYS - 20 - span.days))
    ids: dict[str, str] = {}
    for (key, mtype, title, content, *extra), gap in zip(story["nodes"], gaps):
        when += gap
        if variant_no and "[[" not in title:  # generic memory: shared with the first instance
            ids[key] = refs[f"{story['key']}.{key}"]
            continue
        tags = story["tags"] + (extra[0].split() if extra else [])
        ids[key] = g.add(mtype, _fill(title, values), _fill(content, values), tags, proj, when, story["iso"])
    if story["iso"]:
        return ids

    def link(a, rel, b, context=""):
        if a in ids and b in ids:
            g.link(ids[a], rel, ids[b], context)

    link("e", rng.choice(["CAUSES", "CAUSES", "TRIGGERS"]), "p")
    link("s", "SOLVES", "p")
    link("f", "ADDRESSES", "e" if "e" in ids else "p")
    link("f", "BUILDS_ON", "s")
    link("c", "USED_IN", "f")
    for a, rel, b, *context in story["edges"]:
        link(a, rel, b, *context)

    nodes = {key: mtype for key, mtype, *_ in story["nodes"]}
    first = "p" if "p" in ids else story["nodes"][0][0]
    if proj and nodes[first] in PROJECT_EDGE:
        g.link(ids[first], PROJECT_EDGE[nodes[first]], refs[f"proj:{proj}"])
    if story["tech"] and not variant_no:  # the solution side applies to the main technology
        anchor = next((k for k, t in nodes.items() if t not in ("problem", "error")), first)
        g.link(ids[anchor], "APPLIES_TO", refs[f"tech:{story['tech'][0]}"])
    return ids
