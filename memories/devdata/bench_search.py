"""kb_bench_search: first searches alone, by kind, on the cached synthetic graph, reusing its read model.

`kb_bench` rebuilds the read model and times every page (at 100,000 memories: minutes). This
times only kb_bench's search mix, through the JSON view with the result cache emptied before
each call (a first search) and as the bare FTS5 query, against the file a `kb_bench --keep`
run left in <data dir>/bench/. It registers that file as the client database `bench-search`
and keeps its read model, so a later run (or the same run of other code, to compare before
and after in the same conditions) starts at once unless the read model is out of date.
"""
import json
import random
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from memories import models, selectors
from memories.models import ClientDatabase
from memories.search.spelling.upkeep import vocabulary_refresh
from memories.selectors import Filters
from memories.store.registry import handle_for

from .bench_common import USERNAME, get, loadavg, stats, timed
from .bench_mix import bare_search, search_mix

SLUG = "bench-search"


def run(*, n, seed, queries, kinds):
    """The report kb_bench_search writes to <data dir>/bench/search-results.json (returned
    with that path). `kinds`: the kinds of search_mix to keep, comma-separated (all if empty)."""
    path = settings.DATA_DIR / "bench" / f"memory-n{n}-seed{seed}.db"
    if not path.exists():
        raise CommandError(f"No cached graph at {path}: run "
                           f"`manage.py kb_bench --n {n} --seed {seed} --keep` once to make it.")
    if queries < 1:
        raise CommandError("--queries must be at least 1.")
    client_db, _ = ClientDatabase.objects.update_or_create(slug=SLUG, defaults={
        "name": f"Search benchmark ({n:,} memories)", "path": str(path), "archived": False})
    handle = handle_for(client_db)
    started = time.perf_counter()
    rebuilt = not handle.readmodel.is_built(str(path))
    rm = handle.ensure_fresh()
    report = {"n": n, "seed": seed, "queries": queries, "loadavg_start": loadavg(), "rebuilt": rebuilt,
              "ready_seconds": round(time.perf_counter() - started, 2)}
    started = time.perf_counter()
    refreshed = vocabulary_refresh(rm, force=True)  # the worker's upkeep, if the table is behind
    report["vocabulary_written"] = refreshed["written"] if refreshed else 0
    report["vocabulary_seconds"] = round(time.perf_counter() - started, 2)
    ids = selectors.selection_ids(rm=rm, filters=Filters())
    wanted = {k.strip() for k in kinds.split(",") if k.strip()}
    mix = [(kind, q) for kind, q in search_mix(random.Random(seed), queries, rm=rm, ids=ids)
           if not wanted or kind in wanted]
    if not mix:
        raise CommandError(f"No search of the kinds {sorted(wanted)}.")
    report["kinds"], report["django_queries_per_request"] = _time(handle, mix)
    report["loadavg_end"] = loadavg()
    out = settings.DATA_DIR / "bench" / "search-results.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    return report, out


def _time(handle, mix):
    rm = handle.readmodel
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    models.Membership.objects.get_or_create(user=user, client=handle.client,
                                            defaults={"role": models.Membership.VIEWER})
    web = Client()
    web.force_login(user)
    hosts = list(dict.fromkeys([*settings.ALLOWED_HOSTS, "testserver"]))
    base = reverse("search", args=[SLUG])
    calls = [(kind, f"{base}?{urlencode({'q': q, 'format': 'json'})}", q) for kind, q in mix]
    with override_settings(ALLOWED_HOSTS=hosts):
        for _, url, _ in calls:  # SQLite's page cache warm, as kb_bench has it
            get(web, url)
        view = [timed(lambda: get(web, url), rm) for _, url, _ in calls]
        with CaptureQueriesContext(connection) as queries:  # of Django's tables, not the read model's
            get(web, calls[0][1])
    bare = [timed(lambda: bare_search(rm, q)) for _, _, q in calls]
    web.logout()
    result = {}
    for kind in [*dict.fromkeys(k for k, _, _ in calls), "all"]:
        chosen = [i for i, (k, _, _) in enumerate(calls) if kind in (k, "all")]
        result[kind] = {"view": stats([view[i] for i in chosen]),
                        "bare": stats([bare[i] for i in chosen])}
    return result, len(queries.captured_queries)


def table(report, out):
    """The report as kb_bench_search prints it."""
    lines = [f"{report['n']:,} memories: read model " + ("built" if report["rebuilt"] else "reused")
             + f" in {report['ready_seconds']} s, vocabulary table brought up to date in "
             f"{report['vocabulary_seconds']} s ({report['vocabulary_written']} terms written); "
             f"load average {report['loadavg_start']} at the start, {report['loadavg_end']} at the end.",
             "", "ms, first search (result cache emptied before each call)",
             f"{'':14} {'view p50':>9} {'view p95':>9} {'bare p50':>9} {'bare p95':>9} {'count':>6}"]
    for kind, t in report["kinds"].items():
        lines.append(f"{kind[:14]:14} {t['view']['p50']:9.1f} {t['view']['p95']:9.1f} "
                     f"{t['bare']['p50']:9.1f} {t['bare']['p95']:9.1f} {t['view']['count']:6}")
    lines.append("\nQueries of Django's tables a search request makes: "
                 f"{report['django_queries_per_request']}")
    lines.append(f"Figures written to {out}")
    return "\n".join(lines)
