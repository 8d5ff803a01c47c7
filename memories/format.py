"""The memorygraph format: enums, limits, and the rules a memory, its tags and its rows must obey.

See ../shared/docs/memorygraph-format.md. The memorygraph server silently hides a memory
that fails its own validation, so everything we write is checked here first. The properties
JSON those rules judge is built and read in ``memories/properties.py``.
"""
import json
import re
import uuid
from datetime import datetime

from .errors import FieldErrors

MEMORY_TYPES = (
    "task", "code_pattern", "problem", "solution", "project", "technology", "error",
    "fix", "command", "file_context", "workflow", "general", "conversation",
)
REL_CATEGORIES = {
    "causal": ("CAUSES", "TRIGGERS", "LEADS_TO", "PREVENTS", "BREAKS"),
    "solution": ("SOLVES", "ADDRESSES", "ALTERNATIVE_TO", "IMPROVES", "REPLACES"),
    "context": ("OCCURS_IN", "APPLIES_TO", "WORKS_WITH", "REQUIRES", "USED_IN"),
    "learning": ("BUILDS_ON", "CONTRADICTS", "CONFIRMS", "GENERALIZES", "SPECIALIZES"),
    "similarity": ("SIMILAR_TO", "VARIANT_OF", "RELATED_TO", "ANALOGY_TO", "OPPOSITE_OF"),
    "workflow": ("FOLLOWS", "DEPENDS_ON", "ENABLES", "BLOCKS", "PARALLEL_TO"),
    "quality": ("EFFECTIVE_FOR", "INEFFECTIVE_FOR", "PREFERRED_OVER", "DEPRECATED_BY", "VALIDATED_BY"),
}
REL_TYPES = tuple(t for types in REL_CATEGORIES.values() for t in types)
REL_CATEGORY = {t: cat for cat, types in REL_CATEGORIES.items() for t in types}
SYMMETRIC_TYPES = frozenset(
    {"ALTERNATIVE_TO", "WORKS_WITH", "CONTRADICTS", "SIMILAR_TO", "RELATED_TO", "OPPOSITE_OF", "PARALLEL_TO"}
)
RESOLVING_TYPES = ("SOLVES", "ADDRESSES")
UNRESOLVABLE_TYPES = ("problem", "error")

TITLE_MAX, SUMMARY_MAX, CONTENT_MAX = 200, 500, 50_000
TAGS_MAX, TAG_MAX = 50, 100
CONTEXT_LIST_FIELDS = ("files_involved", "languages", "frameworks", "technologies")
CONTEXT_TEXT_FIELDS = (
    "project_path", "git_commit", "git_branch", "working_directory", "session_id", "user_id")
VISIBILITIES = ("private", "project", "team", "public")
# memorygraph makes uuid4 ids but stores any string it is given; ids also name pages in URLs and
# files in exports, so what we take in is held to uuid-like characters.
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
ID_RULE = "letters, digits, '-' and '_', at most 128 (memorygraph makes uuids)"


class FormatError(FieldErrors, ValueError):
    """A value the memorygraph format does not allow; ``errors`` maps field -> message."""


def new_id():
    return str(uuid.uuid4())


def normalise_tags(tags):
    """Lowercase, strip and de-duplicate tags, keeping their order."""
    seen = []
    for tag in tags:
        tag = " ".join(str(tag).split()).lower()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def tag_errors(tags):
    if len(tags) > TAGS_MAX:
        return f"At most {TAGS_MAX} tags per memory (got {len(tags)})."
    long = [t for t in tags if len(t) > TAG_MAX]
    if long:
        return f"A tag may have at most {TAG_MAX} characters: {long[0][:40]}…"
    return None


def validate_memory(fields):
    """Check memory fields against the server's limits; raise FormatError listing every problem."""
    errors = {}
    for key in ("title", "summary", "content"):
        if fields.get(key) is not None and not isinstance(fields[key], str):
            errors[key] = f"{key.capitalize()} must be text."
    tags = fields.get("tags")
    if "tags" in fields and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        errors["tags"] = "Tags must be a list of text."
    if errors:
        raise FormatError(errors)
    if not isinstance(fields.get("type"), str) or fields.get("type") not in MEMORY_TYPES:
        errors["type"] = (f"Unknown memory type {fields.get('type')!r}; "
                          f"expected one of {', '.join(MEMORY_TYPES)}.")
    title = fields.get("title") or ""
    if not title.strip():
        errors["title"] = "A title is required."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"A title may have at most {TITLE_MAX} characters (got {len(title)})."
    if not (fields.get("content") or "").strip():
        # memorygraph's Memory model requires content: without it the server hides the memory.
        errors["content"] = "Content is required."
    if len(fields.get("summary") or "") > SUMMARY_MAX:
        errors["summary"] = (f"A summary may have at most {SUMMARY_MAX} characters "
                             f"(got {len(fields['summary'])}).")
    if len(fields.get("content") or "") > CONTENT_MAX:
        errors["content"] = (f"Content may have at most {CONTENT_MAX:,} characters "
                             f"(got {len(fields['content']):,}).")
    for key in ("importance", "confidence"):
        if fields.get(key) is not None and not is_fraction(fields[key]):
            errors[key] = f"{key.capitalize()} must be a number between 0 and 1."
    if "tags" in fields and (problem := tag_errors(fields["tags"])):
        errors["tags"] = problem
    if errors:
        raise FormatError(errors)


def is_fraction(value):
    """A number within 0..1 (NaN and infinities are not; neither are true and false)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def id_error(value):
    """Why ``value`` is not an id of the format's form, or None."""
    if isinstance(value, str) and ID_PATTERN.fullmatch(value):
        return None
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:59] + "…"
    return f"the id {shown} is not of memorygraph's form ({ID_RULE})"


def _time_error(value, *, offset=True):
    """memorygraph parses its times with datetime.fromisoformat; the format's JSON times carry an offset."""
    if not isinstance(value, str):
        return "must be an ISO 8601 time"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return f"{value[:40]!r} is not an ISO 8601 time"
    if offset and parsed.tzinfo is None:
        return f"{value[:40]!r} has no UTC offset"
    return None


# Stored rows, checked as memorygraph 0.12.4 reads them: it hides a memory its pydantic models
# refuse, and one relationship they refuse makes get_related_memories fail for all its neighbours.

def _text_list(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# MemoryContext's fields: (check, what it must be). Other context_* keys memorygraph ignores.
CONTEXT_RULES = {
    **{name: (_text_list, "a list of text") for name in CONTEXT_LIST_FIELDS},
    **{name: (lambda v: isinstance(v, str), "text")
       for name in (*CONTEXT_TEXT_FIELDS, "tenant_id", "team_id", "created_by")},
    "additional_metadata": (lambda v: isinstance(v, dict), "a JSON object"),
    "timestamp": (lambda v: _time_error(v, offset=False) is None, "an ISO 8601 time"),
    "visibility": (lambda v: v in VISIBILITIES, f"one of {', '.join(VISIBILITIES)}"),
}
REL_COUNTS = ("evidence_count", "validation_count", "counter_evidence_count")


def memory_row_errors(row_id, props):
    """{field: message} for a memory row (its id and decoded ``properties``) that memorygraph
    would not parse or that breaks the format's rules; empty when it is fine."""
    if not isinstance(props, dict):
        return {"properties": "the properties are not a JSON object"}
    errors = {}
    if problem := id_error(row_id):
        errors["id"] = problem
    elif props.get("id", row_id) != row_id:
        errors["id"] = "the properties name another id"
    try:
        validate_memory(props)
    except FormatError as exc:
        errors.update(exc.errors)
    for key in ("importance", "confidence", "effectiveness"):  # memorygraph reads a null as no number
        optional = key == "effectiveness" and props.get(key) is None
        if key in props and not optional and not is_fraction(props[key]):
            errors.setdefault(key, f"{key.capitalize()} must be a number between 0 and 1.")
    if "usage_count" in props and not _is_count(props["usage_count"]):
        errors["usage_count"] = "usage_count must be a whole number of at least 0."
    for key in ("created_at", "updated_at", "last_accessed"):
        if (key != "last_accessed" or props.get(key)) and (problem := _time_error(props.get(key))):
            errors[key] = f"{key} {problem}."
    errors.update(_context_errors(props))
    return errors


def _context_errors(props):
    """The context_* keys, decoded as memorygraph decodes them into its MemoryContext."""
    errors = {}
    for key, value in props.items():
        rule = CONTEXT_RULES.get(key[len("context_"):]) if key.startswith("context_") else None
        if rule is None or value is None:
            continue
        if isinstance(value, str) and (key == "context_additional_metadata" or value[:1] in "[{"):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                pass
        check, what = rule
        if not check(value):
            errors[key] = f"{key} must be {what}."
    return errors


def relationship_row_errors(row, props):
    """{field: message} for a relationship row (an EdgeRow and its decoded ``properties``)
    that memorygraph's Relationship models would refuse or that breaks the format's rules."""
    errors = {}
    for key in ("id", "from_id", "to_id"):
        if problem := id_error(getattr(row, key)):
            errors[key] = problem
    if row.rel_type not in REL_TYPES:
        errors["rel_type"] = f"unknown relationship type {row.rel_type!r}"
    if row.from_id == row.to_id:
        errors["to_id"] = "a memory cannot be related to itself"
    if not isinstance(props, dict):
        return {**errors, "properties": "the properties are not a JSON object"}
    if props.get("id", row.id) != row.id:
        errors["id"] = "the properties name another id"
    for key in ("strength", "confidence", "success_rate"):
        if key in props and not is_fraction(props[key]) and (key != "success_rate" or props[key] is not None):
            errors[key] = f"{key} must be a number between 0 and 1"
    for key in REL_COUNTS:
        if key in props and not _is_count(props[key]):
            errors[key] = f"{key} must be a whole number of at least 0"
    if props.get("context") is not None and not isinstance(props["context"], str):
        errors["context"] = "context must be text (a JSON object is stored as a JSON string)"
    for key in ("created_at", "last_validated", "valid_from", "valid_until", "recorded_at"):
        optional = key == "valid_until" and props.get(key) is None
        if key in props and not optional and (problem := _time_error(props[key])):
            errors[key] = f"{key} {problem}"
    for key in ("created_at", "valid_from", "valid_until", "recorded_at"):  # the columns: SQLite's own text
        value = getattr(row, key)  # created_at also stands in for a missing valid_from and recorded_at
        if (value is not None or key == "created_at") and (problem := _time_error(value, offset=False)):
            errors.setdefault(key, f"{key} {problem}")
    if not all(isinstance(v, (str, type(None))) for v in (row.invalidated_by, props.get("invalidated_by"))):
        errors["invalidated_by"] = "invalidated_by must be a relationship id"
    return errors




def importance_band(value):
    if value is None:
        return "medium"
    return "high" if value >= 0.7 else "low" if value < 0.4 else "medium"


IMPORTANCE_BANDS = ("high", "medium", "low")
