"""Reads about synced client databases: the freshness badge, the sync status page's rows and
their lag chart, and which memories still wait in the outbox."""
from ..selectors import age_text
from ..store import sql
from ..store.outbox import pending, pending_ids


def worker_alive(state, interval, now):
    """The owning worker's heartbeat moved within a few intervals."""
    return bool(state and state.heartbeat_at and
                (now - state.heartbeat_at).total_seconds() <= max(3 * interval, 15))


def sync_badge(*, client, state, rm, now):
    """The badge of a synced client: {'text', 'short' (its first part, for a phone's header),
    'level' (ok/warn/bad), 'pending', 'stamp'}."""
    count, _ = pending(rm.conn)
    tail = f"{count} pending"
    if state is not None and state.error_since:
        local = state.error_since.astimezone()
        text = f"offline since {local:%H:%M} · {tail}"
        level = "bad"
    elif state is None or state.last_ok_at is None:
        text, level = f"not synced yet · {tail}", "warn"
    else:
        synced = f"synced {age_text((now - state.last_ok_at).total_seconds())} ago · {tail}"
        if worker_alive(state, client.sync_interval, now):
            text, level = synced, "ok"
        else:
            text, level = f"sync worker stopped · {synced}", "warn"
    return {"text": text, "short": text.split(" · ")[0], "level": level, "pending": count,
            "stamp": rm.changed_at() or ""}


def outbox_pending_ids(*, rm, ids):
    return pending_ids(rm.conn, ids)


def sync_row(*, client, state, rm, now):
    """Everything the sync status page shows about one client database."""
    count, oldest = pending(rm.conn)
    failed = rm.conn.execute(sql.OUTBOX_FAILED).fetchone()[0]
    refreshed = rm.meta("refreshed_at")
    row = {
        "slug": client.slug, "name": client.name, "mode": client.mode, "synced": client.synced,
        "remote_url": client.remote_url, "interval": client.sync_interval,
        "outbox_pending": count, "outbox_failed": failed,
        "oldest_pending_age": age_text(now.timestamp() - oldest) if oldest else None,
        "readmodel_refreshed_at": float(refreshed) if refreshed else None,
        "readmodel_age": age_text(now.timestamp() - float(refreshed)) if refreshed else None,
        "worker_alive": worker_alive(state, client.sync_interval, now),
    }
    fields = ("revision", "last_pull_at", "last_push_at", "last_ok_at", "cdc_operations", "bytes_sent",
              "bytes_received", "last_error", "error_since", "memories", "relationships", "heartbeat_at",
              "worker", "sync_requested_at", "rebuild_requested_at", "rebuild_progress")
    for key in fields:
        row[key] = getattr(state, key) if state else None
    for key in ("last_pull_at", "last_push_at", "error_since", "heartbeat_at"):
        row[f"{key}_age"] = age_text((now - row[key]).total_seconds()) if row[key] else None
    if not client.synced:
        count_row = rm.conn.execute(sql.RM_NODE_COUNT).fetchone() if rm.meta("version") else None
        row["memories"] = count_row[0] if count_row else None
        row["relationships"] = rm.conn.execute(sql.RM_EDGE_COUNT).fetchone()[0] if count_row else None
    if client.synced:
        row["badge"] = sync_badge(client=client, state=state, rm=rm, now=now)
    return row


def sync_history(*, runs, width=320, height=60):
    """The last runs (newest first) as a small lag-over-time chart: SVG points and error marks."""
    runs = list(reversed(runs))
    if not runs:
        return {"points": "", "errors": [], "max_lag": 0, "runs": [], "width": width, "height": height}
    top = max(max(r.lag_s for r in runs), 1.0)
    start, end = runs[0].started_at.timestamp(), runs[-1].started_at.timestamp()
    span = max(end - start, 1.0)

    def xy(run):
        x = (run.started_at.timestamp() - start) / span * (width - 4) + 2
        y = height - 2 - run.lag_s / top * (height - 4)
        return round(x, 1), round(y, 1)

    return {
        "points": " ".join(f"{x},{y}" for x, y in map(xy, runs)),
        "errors": [xy(r) for r in runs if r.error],
        "max_lag": round(top, 1), "width": width, "height": height,
        "runs": [{"started_at": r.started_at.isoformat(), "duration_ms": r.duration_ms, "pulled": r.pulled,
                  "pushed": r.pushed, "pending": r.pending, "lag_s": r.lag_s, "error": r.error}
                 for r in reversed(runs)],
    }
