"""Ranked search: acronyms in titles first, snippets escaped, typo fallback, facets combined."""
import html
import json
import re

import pytest

from memories import services
from memories.search.engine import memory_search
from memories.search.spelling import suggest_terms
from memories.selectors import Filters

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(handle, user):
    def make(title, content, **extra):
        fields = {
            "type": "solution", "title": title, "content": content, "tags": extra.pop("tags", []), **extra,
        }
        return services.memory_create(handle=handle, actor=user, fields=fields)

    ids = {
        "title": make("Use PKCE for the Zorblax mobile login", "Short note."),
        # Many mentions in the body must not outrank the title.
        "body": make("Login notes", " ".join(["zorblax"] * 40) + " <script>alert(1)</script>"),
        "tagged": make("Rotate keys", "Nothing here.", tags=["zorblax"], type="command"),
    }
    return ids


def search(handle, text, **filters):
    return memory_search(rm=handle.readmodel, text=text, filters=Filters(**filters))


def test_title_hit_ranks_first(handle, seeded):
    items = search(handle, "zorblax")["page_data"].items
    assert items[0]["id"] == seeded["title"]
    assert {i["id"] for i in items} == set(seeded.values())


def test_snippets_highlight_and_escape(handle, seeded):
    items = search(handle, "zorblax")["page_data"].items
    body = next(i for i in items if i["id"] == seeded["body"])
    assert "<mark>zorblax</mark>" in body["snippet_html"]
    assert "<script>" not in body["snippet_html"]
    assert "<mark>Zorblax</mark>" in items[0]["title_html"]


def test_search_combines_with_facets(handle, seeded):
    result = search(handle, "zorblax", types=("command",))["page_data"]
    assert [i["id"] for i in result.items] == [seeded["tagged"]]
    # The type facet is counted without its own filter: the other types stay offered (OR).
    assert result.facets["type"] == {"command": 1, "solution": 2}


def test_operators_prefix_and_phrase(handle, seeded):
    assert search(handle, "zorbl*")["page_data"].total == 3
    assert search(handle, '"mobile login"')["page_data"].items[0]["id"] == seeded["title"]
    assert search(handle, '"login mobile"')["page_data"].total == 0
    assert {i["id"] for i in search(handle, "zorblax -rotate NOT pkce")["page_data"].items} == {
        seeded["body"]
    }
    assert search(handle, "pkce OR rotate")["page_data"].total >= 2


def test_typo_falls_back_to_the_closest_term(handle, seeded):
    result = search(handle, "zorbalx")
    assert result["corrected"].lower() == "zorblax"
    assert result["page_data"].items[0]["id"] == seeded["title"]
    assert suggest_terms(handle.readmodel, ("qqqqqqqq",)) is None


@pytest.mark.parametrize(
    "text",
    [
        '"', '"unbalanced', "AND OR NOT", "()", "*", "title:x", "NEAR(a b)", "'; DROP TABLE memory; --",
        "\x00", "🙂" * 50, "a" * 5000, "-only",
    ],
)
def test_any_string_is_safe(handle, seeded, text):
    result = search(handle, text)
    assert result["page_data"].total >= 0


def test_typo_in_a_word_the_index_holds_as_a_stem(handle, user):
    services.memory_create(
        handle=handle,
        actor=user,
        fields={
            "type": "general", "title": "Staging environments drift",
            "content": "Keep every environment in Terraform.", "tags": [],
        },
    )
    result = search(handle, "enviromnents")
    assert result["page_data"].total >= 1 and result["corrected"]


# The last code point, the one before the surrogates, the first after them, a noncharacter.
EDGE_CODE_POINTS = ["\U0010ffff", "\ud7ff", "\ue000", "\uffff"]


@pytest.mark.parametrize("first", EDGE_CODE_POINTS)
def test_typo_fallback_for_a_word_starting_with_any_code_point(handle, seeded, first):
    # The fallback scans the terms starting with the word's first letter; the one after
    # U+10FFFF does not exist and the one after U+D7FF is a surrogate.
    result = search(handle, first + "zorbalx")
    assert result["page_data"].total >= 0


@pytest.mark.parametrize("first", ["\U0010ffff", "\ud7ff"])
def test_typo_fallback_finds_terms_starting_with_the_edge_code_points(handle, user, first):
    services.memory_create(
        handle=handle,
        actor=user,
        fields={
            "type": "general", "title": f"The {first}quasar cluster", "content": "Odd letters.", "tags": [],
        },
    )
    result = search(handle, first + "qasar")
    assert result["corrected"] and result["page_data"].total == 1


def test_snippets_are_text_never_the_tags_json(handle):
    # Demo memories are tagged "kubernetes" far more often than they say it in their text.
    for text in ("kubernetes", "kuberntes", "celery", "postgres"):
        items = search(handle, text)["page_data"].items
        assert items
        for item in items:
            snippet = item["snippet_html"].replace("<mark>", "").replace("</mark>", "")
            assert not snippet.startswith("[&quot;")
            assert html.escape(json.dumps(item["tags"])) not in snippet


def test_tags_are_indexed_as_words(handle, user):
    services.memory_create(
        handle=handle,
        actor=user,
        fields={
            "type": "general", "title": "Plain title", "content": "Plain body.",
            "tags": ["quuxfeature", "ops"],
        },
    )
    items = search(handle, "quuxfeature")["page_data"].items
    assert [i["title"] for i in items] == ["Plain title"] and "Plain body" in items[0]["snippet_html"]


def test_typo_banner_is_the_corrected_query_once(handle, user):
    services.memory_create(
        handle=handle,
        actor=user,
        fields={
            "type": "error", "title": "Connection refused by the zorgpool", "tags": [],
            "content": "Connections to the zorgpool were refused; connect again later.",
        },
    )
    result = search(handle, "zorgpol refused")
    assert result["corrected"] == "zorgpool refused"
    assert search(handle, "kuberntes")["corrected"] == "kubernetes"


def test_plain_questions_fall_back_to_any_word_and_say_so(handle):
    result = search(handle, "how to fix CORS")
    assert result["page_data"].total == 0 and result["partial"] == ["fix", "cors"]
    items = result["page_data"].items
    assert items and all(i["partial"] for i in items)
    assert "cors" in items[0]["title"].lower()
    exact = memory_search(rm=handle.readmodel, text="how to fix CORS", filters=Filters(), exact=True)
    assert exact["partial"] is None and exact["page_data"].items == []


@pytest.mark.parametrize(
    "text",
    ['"fix cors"', "fix AND zzzqqq", "cors -cors", "zzzq* cors", "(fix zzzqqq)", "fix NOT cors OR zzzqqq"],
)
def test_syntax_keeps_its_exact_meaning(handle, text):
    result = search(handle, text)
    assert result["partial"] is None
    assert not any(i.get("partial") for i in result["page_data"].items)


def test_exact_hits_come_first_then_partial_ones(handle):
    result = search(handle, "safari cookie")
    items = result["page_data"].items
    exact = [i for i in items if not i.get("partial")]
    assert len(exact) == result["page_data"].total >= 1
    assert items[: len(exact)] == exact and len(items) > len(exact)


def test_first_search_counts_cheaply_and_takes_no_facets(handle):
    result = memory_search(rm=handle.readmodel, text="error", filters=Filters(), facets=False)
    assert result["page_data"].facets is None and result["page_data"].total > 0
    full = memory_search(rm=handle.readmodel, text="error", filters=Filters())
    assert full["page_data"].total == result["page_data"].total and full["page_data"].facets["type"]


def test_facet_or_within_a_facet_and_across_facets(handle):
    both = search(handle, "redis", types=("problem", "error"))["page_data"]
    one = search(handle, "redis", types=("problem",))["page_data"]
    other = search(handle, "redis", types=("error",))["page_data"]
    assert both.total == one.total + other.total > other.total > 0
    assert set(both.facets["type"]) > {"problem", "error"}  # other types stay offered
    band = next(iter(both.facets["band"]))
    narrowed = search(handle, "redis", types=("problem", "error"), band=band)["page_data"]
    assert narrowed.total == both.facets["band"][band]


def test_a_prefix_query_snippets_its_rows_in_one_pass(handle, seeded):
    # The rowid-range form (SNIPPETS_PREFIX) answers as the one-lookup-per-rowid form does.
    from memories.search import sql
    from memories.search.backends.fts import SNIPPETS_PREFIX

    conn, match = handle.readmodel.conn, '"zorbl"*'
    rids = [r[0] for r in conn.execute("SELECT rowid FROM memory_fts WHERE memory_fts MATCH ?", (match,))]
    marks = ",".join("?" * len(rids))
    by_lookup = conn.execute(sql.SNIPPETS.format(marks=marks), [match, *rids]).fetchall()
    by_range = conn.execute(
        SNIPPETS_PREFIX.format(marks=marks), [match, min(rids), max(rids), *rids]
    ).fetchall()
    assert sorted(map(tuple, by_range)) == sorted(map(tuple, by_lookup)) and len(rids) == 3
    body = next(i for i in search(handle, "zorbl*")["page_data"].items if i["id"] == seeded["body"])
    assert "<mark>zorblax</mark>" in body["snippet_html"]


def test_a_one_letter_prefix_is_looked_for_in_titles_only_and_says_so(handle, seeded, web):
    """s* over every column merges thousands of doclists (0.9-2.8 s at 100,000 memories)."""
    from memories.search.query import parse_query

    parsed = parse_query("z* login")
    assert parsed.match == '{title} : "z"* AND "login"' and parsed.titles_only == ("z",)
    assert parse_query("zo* login").titles_only == ()
    found = search(handle, "z*")
    assert found["titles_only"] == ["z"]
    titles = [i["title"] for i in found["page_data"].items]
    assert "Use PKCE for the Zorblax mobile login" in titles and "Login notes" not in titles
    assert all(re.search(r"\bz", t.lower()) for t in titles), titles
    page = web.get("/c/acme/search/", {"q": "z*"}).content.decode()
    assert "a one-letter prefix is looked for in titles only" in page
    assert web.get("/c/acme/search/", {"q": "z*", "format": "json"}).json()["titles_only"] == ["z"]
    assert "titles only" not in web.get("/c/acme/search/", {"q": "zo*"}).content.decode()
