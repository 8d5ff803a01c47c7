"""Rules for the demo memory graph (memories/devdata/demo.py).

Plain pytest, no Django: ``.venv/bin/python -m pytest tests/test_demo_data.py -q -p no:django``
"""

import re
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from memories.devdata.demo import ANCHOR, MEMORY_TYPES, RELATIONSHIP_TYPES, demo_graph

MEMORY_KEYS = {"id", "type", "title", "content", "tags", "importance", "confidence", "project",
               "languages", "frameworks", "git_branch", "created_at"}
EDGE_KEYS = {"id", "from_id", "to_id", "type", "strength", "confidence", "context"}


@pytest.fixture(scope="module")
def graph():
    return demo_graph()


@pytest.fixture(scope="module")
def memories(graph):
    return graph[0]


@pytest.fixture(scope="module")
def relationships(graph):
    return graph[1]


def _is_uuid4(value):
    return str(uuid.UUID(value)) == value and uuid.UUID(value).version == 4


def test_counts(memories, relationships):
    assert 250 <= len(memories) <= 400
    assert 350 <= len(relationships) <= 600


def test_deterministic():
    assert demo_graph(seed=7) == demo_graph(seed=7)
    assert demo_graph() == demo_graph(seed=7)
    other = demo_graph(seed=8)
    assert other != demo_graph(seed=7)
    assert {m["title"] for m in other[0]} == {m["title"] for m in demo_graph()[0]}


def test_every_memory_type_appears_at_least_twice(memories):
    counts = Counter(m["type"] for m in memories)
    assert set(counts) == set(MEMORY_TYPES)
    assert all(counts[t] >= 2 for t in MEMORY_TYPES), counts


def test_memory_fields_and_format_limits(memories):
    projects = set()
    for m in memories:
        assert MEMORY_KEYS <= set(m) <= MEMORY_KEYS | {"summary"}, m["title"]
        assert _is_uuid4(m["id"])
        assert m["type"] in MEMORY_TYPES
        assert 1 <= len(m["title"]) <= 200
        assert 1 <= len(m["content"]) <= 50_000
        if "summary" in m:
            assert 1 <= len(m["summary"]) <= 500
        assert 1 <= len(m["tags"]) <= 6
        assert len(set(m["tags"])) == len(m["tags"])
        for tag in m["tags"]:
            assert tag == tag.lower() and 1 <= len(tag) <= 100
        assert 0 <= m["importance"] <= 1 and round(m["importance"], 2) == m["importance"]
        assert 0 <= m["confidence"] <= 1
        assert isinstance(m["languages"], list) and isinstance(m["frameworks"], list)
        assert m["git_branch"] is None or isinstance(m["git_branch"], str)
        assert m["project"] is None or m["project"].startswith("/home/dev/projects/")
        assert "[[" not in m["title"] + m["content"], "unfilled placeholder"
        projects.add(m["project"])
    assert 4 <= len(projects - {None}) <= 6


def test_ids_unique(memories, relationships):
    ids = [m["id"] for m in memories] + [r["id"] for r in relationships]
    assert len(ids) == len(set(ids))


def test_texts_are_varied(memories):
    assert len({m["title"] for m in memories}) == len(memories)
    assert len({m["content"] for m in memories}) == len(memories)


def test_proportions(memories):
    n = len(memories)
    with_summary = sum("summary" in m for m in memories) / n
    without_project = sum(m["project"] is None for m in memories) / n
    assert 0.55 <= with_summary <= 0.8
    assert 0.08 <= without_project <= 0.25


def test_content_looks_like_agent_notes(memories):
    contents = [m["content"] for m in memories]
    assert sum("```" in c for c in contents) >= 60
    assert sum(bool(re.search(r"^(- |\d\. )", c, re.M)) for c in contents) >= 20
    assert sum("](http" in c for c in contents) >= 12
    assert sum(bool(re.search(r"`[^`\n]+`", c)) for c in contents) >= 150
    everything = " ".join(m["title"] + " " + m["content"] for m in memories)
    for needle in ("psycopg2.OperationalError: could not connect to server",
                   "TypeError: Cannot read properties of undefined",
                   "django.db.utils.IntegrityError: UNIQUE constraint failed"):
        assert needle in everything
    titles = " ".join(m["title"] for m in memories)
    for acronym in ("OAuth", "PKCE", "JWT", "CORS", "N+1", "Kubernetes", "Celery", "Redis",
                    "PgBouncer", "GraphQL"):
        assert acronym in titles, acronym


def test_created_at_in_the_18_months_before_anchor(memories):
    assert ANCHOR == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    for m in memories:
        assert m["created_at"].utcoffset() == timedelta(0)
        assert ANCHOR - timedelta(days=550) <= m["created_at"] <= ANCHOR
    spread = max(m["created_at"] for m in memories) - min(m["created_at"] for m in memories)
    assert spread > timedelta(days=450)


def test_relationship_fields(memories, relationships):
    ids = {m["id"] for m in memories}
    for r in relationships:
        assert set(r) == EDGE_KEYS
        assert _is_uuid4(r["id"])
        assert r["type"] in RELATIONSHIP_TYPES
        assert r["from_id"] in ids and r["to_id"] in ids
        assert 0 <= r["strength"] <= 1 and 0 <= r["confidence"] <= 1
        assert r["context"] is None or (isinstance(r["context"], str) and r["context"])


def test_no_self_loops_or_duplicates(relationships):
    assert all(r["from_id"] != r["to_id"] for r in relationships)
    triples = [(r["from_id"], r["to_id"], r["type"]) for r in relationships]
    assert len(triples) == len(set(triples))


def test_no_cycle_within_a_relationship_type(relationships):
    by_type = defaultdict(lambda: defaultdict(list))
    for r in relationships:
        by_type[r["type"]][r["from_id"]].append(r["to_id"])
    for rel_type, out in by_type.items():
        state = {}  # 1 = on the DFS stack, 2 = done

        def visit(node):
            state[node] = 1
            for nxt in out.get(node, ()):
                assert state.get(nxt) != 1, f"cycle in {rel_type}"
                if nxt not in state:
                    visit(nxt)
            state[node] = 2

        for node in list(out):
            if node not in state:
                visit(node)


def test_edge_semantics(memories, relationships):
    types = {m["id"]: m["type"] for m in memories}
    for r in relationships:
        src, dst = types[r["from_id"]], types[r["to_id"]]
        if r["type"] == "SOLVES":
            assert (src, dst) == ("solution", "problem")
        elif r["type"] == "ADDRESSES":
            assert src == "fix" and dst in ("error", "problem")
        elif r["type"] in ("CAUSES", "TRIGGERS") and src == "error":
            assert dst == "problem"
    used = Counter(r["type"] for r in relationships)
    for rel_type in ("SOLVES", "ADDRESSES", "CAUSES", "APPLIES_TO", "DEPENDS_ON", "BUILDS_ON",
                     "RELATED_TO", "SIMILAR_TO", "REPLACES", "DEPRECATED_BY", "PREFERRED_OVER"):
        assert used[rel_type] >= 1, rel_type
    assert 2 <= used["CONTRADICTS"] <= 8
    assert len({rel_type for rel_type in used}) >= 25


def test_unresolved_problems_and_isolated_memories(memories, relationships):
    resolved = {r["to_id"] for r in relationships if r["type"] in ("SOLVES", "ADDRESSES")}
    unresolved = [m for m in memories if m["type"] in ("problem", "error") and m["id"] not in resolved]
    assert 10 <= len(unresolved) <= 20
    assert any(m["type"] == "problem" for m in unresolved)
    touched = {r["from_id"] for r in relationships} | {r["to_id"] for r in relationships}
    isolated = [m for m in memories if m["id"] not in touched]
    assert 5 <= len(isolated) <= 15
    assert all(m["type"] not in ("problem", "error") for m in isolated)
