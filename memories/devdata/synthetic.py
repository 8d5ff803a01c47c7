"""A large, deterministic, synthetic memory graph for benchmarks.

``synthetic_graph(n)`` returns ``(memories, relationships)`` in the shape of
``demo_data.demo_graph()``, fast enough for 100,000 memories in a few seconds. The text is
not meant to be read: it is built (synthetic_text.py) so that the full-text index sees what a
real one sees - words with a Zipf-like frequency (a handful in nearly every memory, a long tail
in very few), about 1,500 tags with skewed use, and acronyms and proper nouns ("PKCE",
"PgBouncer") that are rare in titles and rarer in bodies.

Every relationship points from a later-created memory to an earlier one (list order is
creation order), so no type can hold a directed cycle; there are no self-loops and no
duplicate (from, to, type) triples. Only the standard library is used and nothing
depends on the clock or on hash order: the same arguments give the same graph.
"""
import random
from datetime import UTC, datetime, timedelta

from ..format import REL_TYPES, RESOLVING_TYPES
from .synthetic_text import Text, tag_vocabulary, zipf_table

__all__ = ["ANCHOR", "PROJECTS", "SPAN_DAYS", "synthetic_graph"]

ANCHOR = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SPAN_DAYS = 3 * 365

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
EDGE_CONTEXTS = (
    "seen together in the same incident", "found while reviewing the deploy",
    "confirmed by a second run", "same root cause", "suggested during code review",
    "from the postmortem", "observed in staging first",
)


def _uids(rng, count):
    """count version-4 UUID strings from rng (str(uuid.UUID(...)) costs 3x as much)."""
    raw = rng.randbytes(16 * count).hex()
    out = []
    for at in range(0, 32 * count, 32):
        h = raw[at:at + 32]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}")
    return out


def synthetic_graph(n=100_000, *, seed=1, edges_per_memory=3, tags_per_memory=5):
    """Return (memories, relationships) of a synthetic graph of n memories.

    Memories are in creation order (created_at ascending, spread over SPAN_DAYS before
    ANCHOR, denser towards the present). On average each has ``tags_per_memory`` tags and
    ``edges_per_memory`` outgoing relationships, each to an earlier memory.
    """
    rng = random.Random(seed)
    rand = rng.random
    text = Text(rng, n)
    tag_table = zipf_table(tag_vocabulary(), s=1.1, offset=2.0, size=1 << 18)
    type_table = [t for t, weight in TYPE_WEIGHTS.items() for _ in range(weight)]
    project_table = zipf_table(PROJECTS, s=0.8, size=1 << 10)
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
