"""Deterministic generator of a realistic demo memory graph.

The graph looks like what AI coding agents of a small software team record through the
"memorygraph" MCP server: errors, the problems they cause, the solutions and fixes that
resolved them, reusable code patterns, commands, workflows, decisions, project and
technology notes.  See docs/memorygraph-format.md for the format and its limits.

``demo_graph(seed=7)`` returns ``(memories, relationships)`` as plain dicts.  It uses only
the standard library, reads no file but its own data and never the clock: all dates are
spread over the 18 months before ``ANCHOR``.

The hand-written texts live in ``demo_data/``, read once at import.  Texts are organised in
*stories*: a story is a small group of memories (for instance error -> problem -> solution ->
fix) that is instantiated once per *variant*; a variant picks a project and may override the
``[[placeholder]]`` values used in the texts (service, model, table, versions ...).

- ``world.json``: the five projects (every project defines the same placeholder keys, so any
  story can run in any project) with their notes, the technologies, the WORKS_WITH pairs
  between technologies, tag -> language / framework (the ``languages`` and ``frameworks``
  context fields), and stock sentences for relationship contexts.
- Stories, each ``{key, tags, tech, variants, nodes, edges, iso}``: ``nodes`` are
  ``[key, type, title, content(, extra tags)]``, ``edges`` in-story ``[from key, type, to key(,
  context)]``, linked to technologies ``tech``.  Auto edges for keys e/p/s/f/c: e CAUSES p,
  s SOLVES p, f ADDRESSES e (or p), f BUILDS_ON s, c USED_IN f; ``iso`` stories get no edges.
  ``chains.json``: resolved chains, error -> problem -> solution -> fix (+ command);
  ``open_issues.json``: deliberately unresolved (no SOLVES / ADDRESSES edge points at them);
  ``patterns.json``: reusable code patterns; ``decisions.json``: superseded advice,
  replacements, contradictions (keys: old -> new); ``notes.json``: commands, workflows, file
  notes, tasks, general notes, conversations and isolated notes.
- ``cross_edges.json``: edges between stories.  "story.key" is the first instance,
  "story.key#1" the second; "tech:<key>" and "proj:<key>" name technology and project memories.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = ["ANCHOR", "MEMORY_TYPES", "RELATIONSHIP_TYPES", "demo_graph"]

ANCHOR = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
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



def _read(name):
    return json.loads((Path(__file__).parent / "demo_data" / name).read_text(encoding="utf-8"))


_WORLD = _read("world.json")
PROJECTS = _WORLD["projects"]
PROJECT_NOTES = _WORLD["project_notes"]
TECHNOLOGIES = _WORLD["technologies"]
TECH_PAIRS = _WORLD["tech_pairs"]
LANGUAGE_TAGS = _WORLD["language_tags"]
FRAMEWORK_TAGS = _WORLD["framework_tags"]
EDGE_CONTEXTS = _WORLD["edge_contexts"]
STORIES = [story for name in ("chains", "open_issues", "patterns", "decisions", "notes")
           for story in _read(f"{name}.json")]
CROSS_EDGES = _read("cross_edges.json")

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
            "confidence": round(rng.uniform(0.5, 0.8) if mtype in ("problem", "error")
                                else rng.uniform(0.65, 0.99), 2),
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
    gaps = [timedelta(days=rng.uniform(20, 120)) if node[0] == "new"
            else timedelta(hours=rng.uniform(0.2, 36))
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
