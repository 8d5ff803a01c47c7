"""`make bench`'s load run works end to end (manage.py kb_bench_load): real gunicorn, the worker,
the memorygraph package writing the file, on a tiny synthetic graph and a short window."""
import json

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def test_a_short_load_run_reports_every_view_and_the_writes(settings, capsys):
    call_command("kb_bench_load", n=200, duration=6, warmup=2, clients=1, lag_wait=30, file_every=1,
                 site_every=1)
    out = capsys.readouterr().out
    assert "| graph 2-hop |" in out and "| overview |" in out and "| search |" in out
    report = json.loads((settings.DATA_DIR / "bench" / "load-n200.json").read_text())
    assert all(view["n"] > 0 and view["not_200"] == 0 for view in report["views"].values())
    assert report["writes"]["site create"] > 0 and report["writes"]["file"] > 0
    assert report["writes"]["site failed"] == 0
    assert report["diffs"] >= 1, "memorygraph's commits were applied"
    assert report["full_runs_cpu_s"] >= 0, "the analytics full runs' CPU is reported apart"
    assert len([k for k in report["peak_rss_mb"] if k.startswith("web")]) >= 2
    assert not list((settings.DATA_DIR / "bench").glob("load-*/")), "the run's copy is removed"
