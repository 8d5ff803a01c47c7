"""A large, deterministic, synthetic memory graph for benchmarks.

``synthetic_graph(n)`` returns ``(memories, relationships)`` in the shape of
``demo_data.demo_graph()``, fast enough for 100,000 memories in a few seconds. The text is
not meant to be read: it is built so that the full-text index sees what a real one sees -
words with a Zipf-like frequency (a handful in nearly every memory, a long tail in very
few), about 1,500 tags with skewed use, and acronyms and proper nouns ("PKCE",
"PgBouncer") that are rare in titles and rarer in bodies.

Every relationship points from a later-created memory to an earlier one (list order is
creation order), so no type can hold a directed cycle; there are no self-loops and no
duplicate (from, to, type) triples. Only the standard library is used and nothing
depends on the clock or on hash order: the same arguments give the same graph.
"""
import random
from datetime import datetime, timedelta, timezone
from itertools import accumulate

from ..format import REL_TYPES, RESOLVING_TYPES

__all__ = ["ACRONYMS", "ANCHOR", "SPAN_DAYS", "synthetic_graph", "tag_vocabulary", "vocabulary"]

ANCHOR = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
SPAN_DAYS = 3 * 365

# Rank order matters: the first words are the most frequent (Zipf: weight 1 / rank).
FUNCTION_WORDS = (
    "the to and a of in is for on with that it when this from by be as not after we if are "
    "was or but at an so all can then only no into each now which before because than"
).split()
DOMAIN_WORDS = (
    "error request database service test user cache query config deploy server timeout "
    "migration worker api build queue token file response connection memory table index "
    "client session endpoint version schema retry job container pool log release branch "
    "fix update import model view field value key lock thread process backend frontend "
    "page form route handler middleware settings environment secret password login auth "
    "authentication authorization authorize permission role account email payment invoice "
    "order customer report export upload download storage bucket image cluster node pod "
    "namespace ingress proxy load balancer certificate domain network port host latency "
    "throughput performance slow fast memory leak crash exception traceback stack debug "
    "warning failure failed broken flaky regression rollback restart reload refresh sync "
    "async await callback promise event message broker topic consumer producer stream batch "
    "schedule cron task pipeline stage step script command shell terminal docker image tag "
    "commit merge rebase review pull push remote local staging production prod dev "
    "developer team project module package dependency library framework plugin extension "
    "template component state hook store reducer action effect render layout style theme "
    "browser mobile desktop window screen button input select checkbox validation validate "
    "serializer parser json yaml xml csv parse format encode decode encrypt hash signature "
    "header cookie cors redirect url path param argument option flag default limit offset "
    "cursor pagination sort filter search ranking score match result count total sum average "
    "metric alert dashboard monitor trace span sample rate quota budget cost usage capacity "
    "scale scaling replica shard partition transaction commit isolation deadlock constraint "
    "foreign unique primary column row insert delete select join aggregate group having "
    "vacuum analyze explain plan statistics backup restore snapshot archive retention "
    "cleanup purge expire ttl eviction warmup invalidation stale fresh consistent eventual "
    "idempotent duplicate conflict concurrency race condition mutex semaphore channel "
    "goroutine coroutine executor scheduler runtime interpreter compiler linter formatter "
    "typecheck annotation generic interface protocol class method function decorator "
    "fixture mock stub assert coverage benchmark profile profiler flamegraph allocation "
    "garbage collector heap buffer overflow encoding unicode locale timezone datetime "
    "timestamp interval duration deadline backoff jitter circuit breaker fallback "
    "degradation outage incident postmortem runbook oncall pager escalation ticket "
    "customer support feedback feature toggle experiment rollout canary blue green "
    "infrastructure terraform helm chart manifest secretstore vault rotation expiry renewal "
    "handshake cipher protocol websocket polling webhook signature verification replay "
    "nonce verifier challenge grant scope refresh audience issuer claim jwks keypair "
    "organization tenant multitenant isolation quota billing subscription plan trial "
    "refund chargeback dunning receipt tax currency rounding decimal precision"
).split()
# Rare in titles, rarer in bodies; searched as they are written.
ACRONYMS = (
    "Kubernetes PostgreSQL Redis Django Celery Docker React TypeScript Terraform Nginx "
    "OAuth2 JWT CSRF CORS Kafka GraphQL Helm Stripe Sentry Prometheus Grafana S3 IAM TLS "
    "OIDC SQLAlchemy FastAPI Gunicorn Webpack Vite pytest Alembic RabbitMQ Elasticsearch "
    "WebSocket gRPC Envoy Istio ArgoCD Datadog OpenTelemetry Jaeger Playwright SAML LDAP "
    "PgBouncer PKCE HTMX FTS5 mTLS Consul Vault Chromium ESLint uvicorn Alpine Debian "
    "SQLite Memcached MinIO Keycloak Auth0 Okta Pulumi Ansible"
).split()
TAG_WORDS = (
    "python django postgres redis celery docker kubernetes react typescript javascript go "
    "rust sql bash terraform helm aws gcp azure ci cd testing pytest performance security "
    "auth oauth jwt api rest graphql frontend backend database migration cache queue "
    "deployment monitoring logging alerting incident debugging refactoring documentation "
    "billing payments stripe search fts5 sqlite nginx gunicorn networking dns tls "
    "observability tracing metrics kafka rabbitmq websocket async concurrency memory "
    "timeouts retries flaky-tests ux accessibility i18n timezone data-quality etl reports "
    "pandas numpy ml config secrets permissions onboarding tooling linting typing packaging"
).split()
LANGUAGES = {"python": "python", "go": "go", "rust": "rust", "sql": "sql", "bash": "bash",
             "typescript": "typescript", "javascript": "javascript"}
FRAMEWORKS = {"django": "django", "react": "react", "celery": "celery", "pytest": "pytest",
              "pandas": "pandas", "terraform": "terraform", "helm": "helm"}
PROJECTS = tuple(f"/home/dev/projects/{name}" for name in (
    "billing-api", "storefront-web", "auth-gateway", "data-pipeline", "platform-infra",
    "mobile-app", "search-service", "notifications", "admin-console", "analytics",
    "partner-api", "docs-site",
))
TYPE_WEIGHTS = {
    "error": 12, "problem": 12, "solution": 12, "fix": 10, "code_pattern": 10, "task": 10,
    "command": 7, "workflow": 5, "general": 8, "conversation": 5, "technology": 3,
    "project": 1, "file_context": 5,
}
BASE_IMPORTANCE = {
    "error": 0.55, "problem": 0.6, "solution": 0.65, "fix": 0.6, "code_pattern": 0.6,
    "task": 0.45, "command": 0.4, "workflow": 0.55, "general": 0.4, "conversation": 0.3,
    "technology": 0.6, "project": 0.8, "file_context": 0.4,
}
TITLE_FORMS = {
    "error": ("{W} error: {w} {w} {w}", "{W} fails with {w} {w}", "Unhandled {w} in {w} {w}"),
    "problem": ("{W} {w} is slow under {w}", "{W} {w} {w} after {w} {w}", "Intermittent {w} {w} in {w}"),
    "solution": ("Use {w} {w} for {w} {w}", "{W} {w} instead of {w}", "Solved: {w} {w} {w}"),
    "fix": ("Fix {w} {w} in {w}", "Fixed {w} {w} {w} {w}", "Patch {w} {w} for {w}"),
    "code_pattern": ("Pattern: {w} {w} with {w}", "{W} {w} {w} helper", "Reusable {w} {w}"),
    "task": ("Add {w} {w} to {w}", "Migrate {w} {w} to {w} {w}", "Implement {w} {w}"),
    "command": ("Run {w} {w} {w}", "Command to {w} {w}", "{W} {w} one-liner"),
    "workflow": ("How we {w} {w} {w}", "Workflow: {w} {w} {w}", "{W} {w} checklist"),
    "general": ("Notes on {w} {w} {w}", "{W} {w} {w} {w}", "About {w} {w}"),
    "conversation": ("Discussion: {w} {w} {w}", "Agreed {w} {w} with {w}", "{W} {w} sync"),
    "technology": ("{W} {w} overview", "{W} {w} {w} notes", "Using {w} {w}"),
    "project": ("{W} {w} project", "Project {w} {w} {w}", "{W} {w} service"),
    "file_context": ("{W} {w} module layout", "Where {w} {w} lives", "File map: {w} {w}"),
}
EDGE_CONTEXTS = (
    "seen together in the same incident", "found while reviewing the deploy",
    "confirmed by a second run", "same root cause", "suggested during code review",
    "from the postmortem", "observed in staging first",
)
VOCAB_SIZE = 40_000
TAG_COUNT = 1_500


def _pseudo_words(count, taken, rng):
    """Pronounceable made-up words: the long tail of identifiers, names and jargon."""
    onsets = "b c d f g h j k l m n p r s t v w z br cr dr fl gr kl pl pr sk sl sp st tr".split()
    vowels = "a e i o u ai ea io ou".split()
    codas = ["", "", "", "n", "r", "s", "x", "l", "m", "t", "nd", "rk", "st"]
    out, seen = [], set(taken)
    while len(out) < count:
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(1, 3))) + rng.choice(codas)
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


_CACHE = {}


def vocabulary():
    """The ranked vocabulary (most frequent first): function words, domain words, then a
    long tail of made-up words. Fixed, whatever the seed."""
    if "vocab" not in _CACHE:
        head, fn, dom = [], list(FUNCTION_WORDS), list(dict.fromkeys(DOMAIN_WORDS))
        # Two function words, then one domain word, so "error" is as common as "when".
        while fn or dom:
            head += fn[:2] + dom[:1]
            fn, dom = fn[2:], dom[1:]
        head = list(dict.fromkeys(head))
        _CACHE["vocab"] = tuple(head + _pseudo_words(VOCAB_SIZE - len(head), head, random.Random(0)))
    return _CACHE["vocab"]


def tag_vocabulary():
    """About 1,500 tags, most used first: real topic tags, then compounds of domain words."""
    if "tags" not in _CACHE:
        rng = random.Random(1)
        tags = list(dict.fromkeys(TAG_WORDS + [a.lower() for a in ACRONYMS]))
        domain = list(dict.fromkeys(DOMAIN_WORDS))
        seen = set(tags)
        while len(tags) < TAG_COUNT:
            tag = f"{rng.choice(domain)}-{rng.choice(domain)}"
            if tag not in seen:
                seen.add(tag)
                tags.append(tag)
        _CACHE["tags"] = tuple(tags)
    return _CACHE["tags"]


def _zipf_table(items, s=1.0, offset=1.0, size=1 << 20):
    """A list in which each item fills slots in proportion to 1 / (rank + offset) ** s.

    Drawing uniformly from it (``rng.choices(table, k=...)``) is a Zipf draw at a few
    times the speed of ``choices`` with weights, which bisects for every word.
    """
    cum = list(accumulate(1.0 / (rank + offset) ** s for rank in range(len(items))))
    table, filled = [], 0
    for item, upto in zip(items, cum):
        end = round(upto / cum[-1] * size)
        table += [item] * (end - filled)
        filled = end
    return table


def _uids(rng, count):
    """count version-4 UUID strings from rng (str(uuid.UUID(...)) costs 3x as much)."""
    raw = rng.randbytes(16 * count).hex()
    out = []
    for at in range(0, 32 * count, 32):
        h = raw[at:at + 32]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}")
    return out


class _Text:
    """Draws titles and bodies whose words follow a Zipf-like law.

    Bodies are assembled from a pool of 2n sentences, each drawn word by word from the
    whole vocabulary (drawing every word of 100k bodies would take most of a minute).
    A sentence is used by about four bodies: the repeated phrasing real notes have too.
    """

    def __init__(self, rng, n):
        self.rng = rng
        vocab = vocabulary()
        # Zipf-Mandelbrot (rank + 2.7): the usual fit for word counts in natural text.
        words = rng.choices(_zipf_table(vocab, offset=2.7), k=13 * 2 * max(500, n))
        self.sentences, at = [], 0
        for length in rng.choices(range(5, 22), k=2 * max(500, n)):
            text = " ".join(words[at:at + length])
            at += length
            self.sentences.append(text[:1].upper() + text[1:] + ".")
        function = set(FUNCTION_WORDS)
        # Titles lean on the domain words.
        self.title_words = _zipf_table([w for w in vocab if w not in function], s=1.1, size=1 << 18)
        self.acronyms = _zipf_table(ACRONYMS, s=1.3, size=1 << 12)

    def title(self, mtype):
        rng = self.rng
        form = rng.choice(TITLE_FORMS[mtype])
        slots = form.count("{w}") + form.count("{W}")
        words = rng.choices(self.title_words, k=slots)
        if rng.random() < 0.04:
            words[int(rng.random() * slots)] = rng.choice(self.acronyms)
        if form.startswith("{W}"):
            words[0] = words[0][:1].upper() + words[0][1:]
        return form.replace("{W}", "{}").replace("{w}", "{}").format(*words)

    def body(self):
        """(content, first sentence): 3-14 sentences (~110 words) in three paragraphs."""
        rng = self.rng
        count = 3 + int(rng.random() * 12)
        sentences = rng.choices(self.sentences, k=count)
        if rng.random() < 0.02:
            sentences[-1] = f"See {rng.choice(self.acronyms)} for details."
        a = 1 + int(rng.random() * (count - 2))
        b = a + 1 + int(rng.random() * (count - 1 - a))
        paras = [" ".join(sentences[:a]), " ".join(sentences[a:b]), " ".join(sentences[b:])]
        if rng.random() < 0.15:
            paras.insert(1, f"```\n$ {rng.choice(self.title_words)} --retries {1 + int(rng.random() * 9)}\n```")
        return "\n\n".join(paras), sentences[0]


def synthetic_graph(n=100_000, *, seed=1, edges_per_memory=3, tags_per_memory=5):
    """Return (memories, relationships) of a synthetic graph of n memories.

    Memories are in creation order (created_at ascending, spread over SPAN_DAYS before
    ANCHOR, denser towards the present). On average each has ``tags_per_memory`` tags and
    ``edges_per_memory`` outgoing relationships, each to an earlier memory.
    """
    rng = random.Random(seed)
    rand = rng.random
    text = _Text(rng, n)
    tag_table = _zipf_table(tag_vocabulary(), s=1.1, offset=2.0, size=1 << 18)
    type_table = [t for t, weight in TYPE_WEIGHTS.items() for _ in range(weight)]
    project_table = _zipf_table(PROJECTS, s=0.8, size=1 << 10)
    span = SPAN_DAYS * 86400
    start = ANCHOR - timedelta(seconds=span)
    # Density grows towards the present (u ** 0.7), as a team's use of the tool grows.
    offsets = sorted(int(span * rand() ** 0.7) for _ in range(n))
    low_tags = max(1, tags_per_memory - 2)
    tag_spread = min(50, tags_per_memory + 2) - low_tags + 1

    memories = []
    base_percent = {t: round(v * 100) for t, v in BASE_IMPORTANCE.items()}
    for offset, mtype, memory_id in zip(offsets, rng.choices(type_table, k=n), _uids(rng, n)):
        content, first = text.body()
        k = low_tags + int(rand() * tag_spread)
        tags = list(dict.fromkeys(rng.choices(tag_table, k=k + 2)))[:k]
        project = rng.choice(project_table) if rand() < 0.9 else None
        memory = {
            "id": memory_id, "type": mtype, "title": text.title(mtype)[:200], "content": content,
            "tags": tags,
            "importance": min(100, max(0, base_percent[mtype] - 25 + int(rand() * 56))) / 100,
            "confidence": (50 + int(rand() * 50)) / 100,
            "project": project,
            "languages": [LANGUAGES[t] for t in tags if t in LANGUAGES],
            "frameworks": [FRAMEWORKS[t] for t in tags if t in FRAMEWORKS],
            "git_branch": _branch(rand, mtype) if project else None,
            "created_at": start + timedelta(seconds=offset),
        }
        if rand() < 0.67:
            memory["summary"] = first[:500]
        memories.append(memory)
    return memories, _relationships(rng, memories, edges_per_memory)


def _branch(rand, mtype):
    if mtype in ("fix", "solution"):
        return f"fix/{100 + int(rand() * 9900)}"
    if mtype == "task":
        return f"feat/{100 + int(rand() * 9900)}"
    return ("main", "main", "develop", None)[int(rand() * 4)]


def _relationships(rng, memories, per_memory):
    """About per_memory edges out of each memory, always to an earlier one."""
    rand = rng.random
    ids = [m["id"] for m in memories]
    resolvers = [m["type"] in ("solution", "fix") for m in memories]
    resolvable = [m["type"] in ("problem", "error") for m in memories]
    seen = set()
    planned = []
    for i in range(1, len(memories)):
        for _ in range(int(rand() * (2 * per_memory + 1))):
            if rand() < 0.6:  # near in time: the same piece of work
                j = max(0, i - 1 - int(rng.expovariate(1 / 40)))
            else:  # old memories collect links: hubs
                j = int(i * rand() ** 2)
            if resolvers[i] and resolvable[j] and rand() < 0.5:
                rel = RESOLVING_TYPES[int(rand() * 2)]
            else:
                rel = REL_TYPES[int(rand() * len(REL_TYPES))]
            if (i, j, rel) not in seen:
                seen.add((i, j, rel))
                planned.append((i, j, rel))
    # round(x, 2) formats through a string: picking from rounded values is 5x cheaper.
    strengths = [k / 100 for k in range(30, 101)]
    confidences = [k / 100 for k in range(60, 100)]
    return [
        {
            "id": edge_id, "from_id": ids[i], "to_id": ids[j], "type": rel,
            "strength": strengths[int(rand() * 71)], "confidence": confidences[int(rand() * 40)],
            "context": EDGE_CONTEXTS[int(rand() * len(EDGE_CONTEXTS))] if rand() < 0.4 else None,
        }
        for (i, j, rel), edge_id in zip(planned, _uids(rng, len(planned)))
    ]
