"""memorygraph's JSON shapes <-> our rows and service fields.

Outgoing memories have the keys CloudRESTAdapter._api_response_to_memory reads; incoming payloads
are checked field by field, so a wrong type is a 400 naming the field before any service runs.
"""
import json

from ...errors import FieldErrors
from ...format import CONTEXT_LIST_FIELDS, CONTEXT_TEXT_FIELDS, MEMORY_TYPES, REL_TYPES
from ...properties import decode_value

CONTEXT_FIELDS = (*CONTEXT_TEXT_FIELDS, *CONTEXT_LIST_FIELDS, "additional_metadata")


class PayloadError(FieldErrors, ValueError):
    """Invalid input; ``errors`` maps the payload's field names to messages."""


def memory_json(row):
    """A read-model memory row as memorygraph's cloud API returns it."""
    props = json.loads(row["props"])
    context = {}
    for name in CONTEXT_FIELDS:
        value = decode_value(props.get(f"context_{name}"))
        if value not in (None, "", [], {}):
            context[name] = value
    data = {
        "id": row["id"], "type": row["type"], "title": row["title"], "content": row["content"],
        "summary": row["summary"] or None, "tags": json.loads(row["tags"]),
        "importance": row["importance"], "confidence": row["confidence"],
        "created_at": row["created_at"], "updated_at": row["updated_at"],
    }
    if context:
        data["context"] = context
    return data


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fractions(payload, names, errors):
    """The payload's values of ``names`` that are given, as floats; one that is not a number
    between 0 and 1 is an error in ``errors`` instead."""
    found = {}
    for name in names:
        if payload.get(name) is not None:
            if _is_number(payload[name]) and 0 <= payload[name] <= 1:
                found[name] = float(payload[name])
            else:
                errors[name] = f"{name} must be a number between 0 and 1."
    return found


def _text_list(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _context_fields(context, errors):
    if context is None:
        return {}
    if not isinstance(context, dict):
        errors["context"] = "context must be a JSON object."
        return {}
    fields = {}
    for name in CONTEXT_TEXT_FIELDS:
        if context.get(name) is not None:
            if isinstance(context[name], str):
                fields[name] = context[name]
            else:
                errors[f"context.{name}"] = f"context.{name} must be text."
    for name in CONTEXT_LIST_FIELDS:
        if context.get(name) is not None:
            if _text_list(context[name]):
                fields[name] = context[name]
            else:
                errors[f"context.{name}"] = f"context.{name} must be a list of text."
    meta = context.get("additional_metadata")
    if meta is not None:
        if isinstance(meta, dict) and _depth(meta) <= METADATA_DEPTH:
            fields["additional_metadata"] = meta
        else:
            errors["context.additional_metadata"] = ("context.additional_metadata must be a JSON object "
                                                     f"nested at most {METADATA_DEPTH} levels.")
    return fields


METADATA_DEPTH = 16  # the file keeps it as JSON text; readers (ours, memorygraph's) parse it back


def _depth(value, level=1):
    if level > METADATA_DEPTH:
        return level
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return max((_depth(v, level + 1) for v in children if isinstance(v, (dict, list))), default=level)


def memory_fields(payload, *, partial=False):
    """Service fields from a store (or, partial, an update) payload; raises PayloadError."""
    if not isinstance(payload, dict):
        raise PayloadError({"body": "The body must be a JSON object."})
    errors, fields = {}, {}
    for name in ("type", "title", "content"):
        if name not in payload and not partial:
            errors[name] = f"{name} is required."
    for name in ("type", "title", "content", "summary"):
        if name in payload and payload[name] is not None:
            if isinstance(payload[name], str):
                fields[name] = payload[name]
            else:
                errors[name] = f"{name} must be text."
    if isinstance(fields.get("type"), str) and fields["type"] not in MEMORY_TYPES:
        errors["type"] = (f"Unknown memory type {fields['type'][:40]!r}; "
                          f"expected one of {', '.join(MEMORY_TYPES)}.")
    if payload.get("tags") is not None:
        if _text_list(payload["tags"]):
            fields["tags"] = payload["tags"]
        else:
            errors["tags"] = "tags must be a list of text."
    fields.update(_fractions(payload, ("importance", "confidence"), errors))
    fields.update(_context_fields(payload.get("context"), errors))
    if "id" in payload and not partial and not isinstance(payload["id"], (str, type(None))):
        errors["id"] = "id must be text."
    if errors:
        raise PayloadError(errors)
    return fields


def relationship_args(payload):
    """Keyword arguments for services.relationship_create from a POST /relationships payload."""
    if not isinstance(payload, dict):
        raise PayloadError({"body": "The body must be a JSON object."})
    errors, args = {}, {}
    for name, arg in (("from_memory_id", "from_id"), ("to_memory_id", "to_id")):
        if not isinstance(payload.get(name), str) or not payload[name]:
            errors[name] = f"{name} is required (text)."
        else:
            args[arg] = payload[name]
    rel_type = payload.get("relationship_type")
    if not isinstance(rel_type, str) or rel_type not in REL_TYPES:
        errors["relationship_type"] = f"Unknown relationship type {str(rel_type)[:40]!r}."
    else:
        args["rel_type"] = rel_type
    args.update(_fractions(payload, ("strength", "confidence"), errors))
    if payload.get("context") is not None:
        if isinstance(payload["context"], str) and len(payload["context"]) <= 5000:
            args["context"] = payload["context"]
        else:
            errors["context"] = "context must be text of at most 5,000 characters."
    if args.get("from_id") and args.get("from_id") == args.get("to_id"):
        errors["to_memory_id"] = "A memory cannot be related to itself."
    if errors:
        raise PayloadError(errors)
    return args


# The services' field names, as this API calls them.
SERVICE_FIELDS = {"rel_type": "relationship_type", "from_id": "from_memory_id", "to_id": "to_memory_id"}


def api_errors(errors):
    return {SERVICE_FIELDS.get(k, k): v for k, v in errors.items()}


def _int(value, name, low, high, default):
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise PayloadError({name: f"{name} must be a whole number from {low} to {high}."})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise PayloadError({name: f"{name} must be a whole number from {low} to {high}."}) from None
    if not low <= number <= high or (isinstance(value, float) and value != number):
        raise PayloadError({name: f"{name} must be a whole number from {low} to {high}."})
    return number


def search_args(payload, *, recall=False):
    """(text, types, tags, project, min_importance, limit, offset) from a search or recall payload."""
    if not isinstance(payload, dict):
        raise PayloadError({"body": "The body must be a JSON object."})
    errors = {}
    text = payload.get("query")
    if text is not None and not isinstance(text, str):
        errors["query"] = "query must be text."
    if recall and not isinstance(text, str):
        errors["query"] = "query is required (text)."
    types = payload.get("memory_types") or []
    if not _text_list(types) or any(t not in MEMORY_TYPES for t in types):
        errors["memory_types"] = f"memory_types must be a list of: {', '.join(MEMORY_TYPES)}."
    tags = payload.get("tags") or []
    if not _text_list(tags):
        errors["tags"] = "tags must be a list of text."
    project = payload.get("project_path")
    if project is not None and not isinstance(project, str):
        errors["project_path"] = "project_path must be text."
    minimum = payload.get("min_importance")
    if minimum is not None and not (_is_number(minimum) and 0 <= minimum <= 1):
        errors["min_importance"] = "min_importance must be a number between 0 and 1."
    try:
        limit = _int(payload.get("limit"), "limit", 1, 200, 20)
        offset = _int(payload.get("offset"), "offset", 0, 100_000, 0)
    except PayloadError as exc:
        errors.update(exc.errors)
    if errors:
        raise PayloadError(errors)
    return {"text": text or "", "types": tuple(types), "tags": tuple(t.lower() for t in tags),
            "project": project or None, "min_importance": minimum, "limit": limit, "offset": offset}


def int_param(value, name, low, high, default):
    return _int(value, name, low, high, default)
