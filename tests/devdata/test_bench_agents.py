"""`make bench`'s agents run works end to end (manage.py kb_bench_agents): real gunicorn, 2 workers,
agents storing and recalling through the cloud API, on a tiny synthetic graph."""
import io
import json

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def test_a_short_agents_run_counts_every_row_and_the_commits():
    out = io.StringIO()
    call_command("kb_bench_agents", n=200, agents=4, ops=5, raw=5, paced_ops=3, paced_every=0.2, json=True,
                 stdout=out)
    report = json.loads(out.getvalue())
    assert report["store_errors"] == 0 and report["recall_errors"] == 0
    paced = report["paced"]
    assert paced["store_errors"] == 0 and paced["recall_errors"] == 0
    assert paced["store_ms"]["count"] == paced["recall_ms"]["count"] == 12 and paced["requests_per_s"] == 20
    assert report["memories_at_end"] == 200 + 5 + 20 + 12 and report["nothing_lost_or_doubled"]
    assert 1 <= report["store_commits"] <= 20 and report["stores_per_commit"] >= 1
    assert report["readmodel_diffs"] == 0, "the site's own commits are claimed, never diffed"
    assert report["web_cpu_s"]["store"] > 0
