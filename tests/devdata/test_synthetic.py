import json
from collections import Counter

import networkx as nx
import pytest
from django.core.management import call_command

from memories.devdata.loader import memory_fields
from memories.devdata.synthetic import ANCHOR, SPAN_DAYS, synthetic_graph
from memories.devdata.synthetic_text import ACRONYMS
from memories.format import MEMORY_TYPES, REL_TYPES, TAG_MAX, normalise_tags, validate_memory
from memories.models import ClientDatabase

N = 2000


@pytest.fixture(scope="module")
def graph():
    return synthetic_graph(N)


def test_same_seed_same_graph_other_seed_other_graph(graph):
    assert synthetic_graph(N) == graph
    assert synthetic_graph(N, seed=2)[0][0]["id"] != graph[0][0]["id"]


def test_memories_pass_the_format_rules(graph):
    memories, _ = graph
    assert len(memories) == N
    assert len({m["id"] for m in memories}) == N
    for memory in memories:
        validate_memory(memory_fields(memory))
        assert normalise_tags(memory["tags"]) == memory["tags"]
        assert all(len(t) <= TAG_MAX for t in memory["tags"])
        assert len(memory.get("summary", "")) <= 500
    assert {m["type"] for m in memories} == set(MEMORY_TYPES)


def test_memories_are_in_creation_order_over_three_years(graph):
    memories, _ = graph
    times = [m["created_at"] for m in memories]
    assert times == sorted(times)
    assert all(t.tzinfo is not None for t in times)
    assert (times[-1] - times[0]).days > SPAN_DAYS * 0.9
    assert times[-1] <= ANCHOR


def test_words_and_tags_are_skewed(graph):
    memories, _ = graph
    words = Counter(w for m in memories for w in set(m["content"].lower().split()))
    docs_with = sorted(words.values(), reverse=True)
    assert docs_with[0] > N * 0.8  # a word in nearly every memory
    assert sum(1 for n in docs_with if n <= 3) > 1000  # and a long tail of rare ones
    tags = Counter(t for m in memories for t in m["tags"])
    assert 4 <= sum(tags.values()) / N <= 6
    assert len(tags) >= 500
    assert tags.most_common(1)[0][1] > 50 * sorted(tags.values())[len(tags) // 2]
    titles = " ".join(m["title"] for m in memories)
    assert 0 < sum(titles.count(a) for a in ACRONYMS) < N * 0.2


def test_relationships_have_no_self_loops_duplicates_or_cycles(graph):
    memories, relationships = graph
    ids = {m["id"] for m in memories}
    assert 2.5 * N <= len(relationships) <= 3.5 * N
    assert len({r["id"] for r in relationships}) == len(relationships)
    assert {r["type"] for r in relationships} == set(REL_TYPES)
    triples = [(r["from_id"], r["to_id"], r["type"]) for r in relationships]
    assert len(set(triples)) == len(triples)
    for rel in relationships:
        assert rel["from_id"] != rel["to_id"]
        assert {rel["from_id"], rel["to_id"]} <= ids
        assert 0 <= rel["strength"] <= 1 and 0 <= rel["confidence"] <= 1
    for rel_type in REL_TYPES:
        g = nx.DiGraph((f, t) for f, t, kind in triples if kind == rel_type)
        assert nx.is_directed_acyclic_graph(g), rel_type


def test_kb_bench_smoke(db, settings, capsys):
    call_command("kb_bench", n=300, queries=5, verbosity=0)
    results = json.loads((settings.DATA_DIR / "bench" / "results.json").read_text())
    assert results["memories"] == 300
    assert set(results["timings"]) == {
        "search", "list", "memory", "tags", "graph neighbourhood", "graph overview",
    }
    assert results["timings"]["search"]["view"]["count"] == 5
    assert [t["name"] for t in results["targets"]] == [
        "search (vs 2x the bare FTS5 query)", "search", "list", "memory", "graph neighbourhood",
        "graph overview",
    ]
    # Graph pages: 5 memories' neighbourhoods and 5 overviews, each as the page and as JSON.
    neighbourhood, overview = results["timings"]["graph neighbourhood"], results["timings"]["graph overview"]
    assert neighbourhood["view"]["count"] == overview["view"]["count"] == 10
    assert set(neighbourhood["by_kind"]) == set(overview["by_kind"]) == {"html", "json"}
    assert set(neighbourhood["parts"]) == {"selector", "build_graph", "vis_payload", "to_node_link"}
    assert neighbourhood["parts"]["selector"]["raw"]["count"] == 5
    assert results["graph_build_seconds"] >= 0 and results["neighbourhood_nodes"]["shown"]["max"] >= 1
    assert len(results["loadavg"]["start"]) == len(results["loadavg"]["end"]) == 3
    out = capsys.readouterr().out
    assert "search p95" in out and "graph overview p95" in out
    # Without --keep nothing is left behind: no client database, no read model, no cached file.
    assert not ClientDatabase.objects.filter(slug="bench").exists()
    assert not (settings.DATA_DIR / "index" / "bench.sqlite3").exists()
    assert [p.name for p in (settings.DATA_DIR / "bench").iterdir()] == ["results.json"]


def test_kb_bench_keep_caches_the_file_for_the_next_run(db, settings):
    call_command("kb_bench", n=200, queries=2, keep=True, verbosity=0)
    assert (settings.DATA_DIR / "bench" / "memory-n200-seed1.db").exists()
    assert ClientDatabase.objects.filter(slug="bench").exists()
    call_command("kb_bench", n=200, queries=2, verbosity=0)
    assert json.loads((settings.DATA_DIR / "bench" / "results.json").read_text())["reused"] is True
