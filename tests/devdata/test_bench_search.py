"""manage.py kb_bench_search: first searches by kind on the cached synthetic graph, its read model reused."""
import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_kb_bench_search_times_each_kind_and_reuses_the_read_model(settings, capsys):
    with pytest.raises(CommandError, match="--keep"):
        call_command("kb_bench_search", n=200, verbosity=0)
    call_command("kb_bench", n=200, queries=2, keep=True, verbosity=0)
    call_command("kb_bench_search", n=200, queries=16)
    first = json.loads((settings.DATA_DIR / "bench" / "search-results.json").read_text())
    assert first["rebuilt"] is True and first["kinds"]["all"]["view"]["count"] == 16
    assert {"typo", "prefix", "common word"} <= set(first["kinds"])
    assert "typo" in capsys.readouterr().out
    call_command("kb_bench_search", n=200, queries=16, kinds="prefix,typo", verbosity=0)
    again = json.loads((settings.DATA_DIR / "bench" / "search-results.json").read_text())
    assert again["rebuilt"] is False and set(again["kinds"]) == {"prefix", "typo", "all"}
    with pytest.raises(CommandError, match="No search"):
        call_command("kb_bench_search", n=200, queries=4, kinds="nonsense", verbosity=0)
