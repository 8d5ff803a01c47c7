"""A memory's history: its audit entries, each change's field before and after, as its page shows them.

A read of the site's own database (AuditEntry rows the caller picked), not of the read model the
selectors in ``selectors.py`` read; ``editor/labels.py`` names each field for the page.
"""
import json

AUDIT_VALUE_MAX = 300


def _audit_value(value):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= AUDIT_VALUE_MAX else text[:AUDIT_VALUE_MAX - 1] + "…"


def memory_history(*, entries):
    """Audit entries with the fields each changed, before and after (timestamps left out)."""
    history = []
    for entry in entries:
        before, after = entry.before or {}, entry.after or {}
        keys = sorted((before.keys() | after.keys()) - {"updated_at"})
        changes = [{"field": k, "before": _audit_value(before.get(k)) if k in before else "",
                    "after": _audit_value(after.get(k)) if k in after else ""}
                   for k in keys if before.get(k) != after.get(k)]
        history.append({"at": entry.at, "action": entry.action, "actor": entry.actor,
                        "via_key": entry.via_key, "changes": changes})
    return history
