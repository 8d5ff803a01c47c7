"""The text of the synthetic graph (synthetic.py): a ranked vocabulary, tags and titles.

Words follow a Zipf-like frequency: a handful of function and domain words in nearly every
memory, a long tail of made-up words in very few; acronyms and proper nouns ("PKCE",
"PgBouncer") are rare in titles and rarer in bodies. Everything is drawn from the rng the
caller passes or from fixed seeds, so the same arguments give the same text.
"""
import json
import random
from itertools import accumulate
from pathlib import Path

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
# The title templates of each memory type ({W}: a capitalised word, {w}: a word): data, in a file
# of their own as the demo graph's texts are (demo_data/).
TITLE_FORMS = json.loads((Path(__file__).parent / "synthetic_data" / "title_forms.json")
                         .read_text(encoding="utf-8"))
VOCAB_SIZE = 40_000
TAG_COUNT = 1_500


def _pseudo_words(count, taken, rng):
    """Pronounceable made-up words: the long tail of identifiers, names and jargon."""
    onsets = "b c d f g h j k l m n p r s t v w z br cr dr fl gr kl pl pr sk sl sp st tr".split()
    vowels = "a e i o u ai ea io ou".split()
    codas = ["", "", "", "n", "r", "s", "x", "l", "m", "t", "nd", "rk", "st"]
    out, seen = [], set(taken)
    while len(out) < count:
        syllables = (rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(1, 3)))
        word = "".join(syllables) + rng.choice(codas)
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


def zipf_table(items, s=1.0, offset=1.0, size=1 << 20):
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


class Text:
    """Draws titles and bodies whose words follow a Zipf-like law.

    Bodies are assembled from a pool of 2n sentences, each drawn word by word from the
    whole vocabulary (drawing every word of 100k bodies would take most of a minute).
    A sentence is used by about four bodies: the repeated phrasing real notes have too.
    """

    def __init__(self, rng, n):
        self.rng = rng
        vocab = vocabulary()
        # Zipf-Mandelbrot (rank + 2.7): the usual fit for word counts in natural text.
        words = rng.choices(zipf_table(vocab, offset=2.7), k=13 * 2 * max(500, n))
        self.sentences, at = [], 0
        for length in rng.choices(range(5, 22), k=2 * max(500, n)):
            text = " ".join(words[at:at + length])
            at += length
            self.sentences.append(text[:1].upper() + text[1:] + ".")
        function = set(FUNCTION_WORDS)
        # Titles lean on the domain words.
        self.title_words = zipf_table([w for w in vocab if w not in function], s=1.1, size=1 << 18)
        self.acronyms = zipf_table(ACRONYMS, s=1.3, size=1 << 12)

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
            command = f"{rng.choice(self.title_words)} --retries {1 + int(rng.random() * 9)}"
            paras.insert(1, f"```\n$ {command}\n```")
        return "\n\n".join(paras), sentences[0]
