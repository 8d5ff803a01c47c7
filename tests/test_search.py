"""Ranked search: acronyms in titles first, snippets escaped, typo fallback, facets combined."""
import pytest

from memories import services
from memories.search import memory_search, suggest_terms
from memories.selectors import Filters

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(handle, user):
    def make(title, content, **extra):
        fields = {"type": "solution", "title": title, "content": content, "tags": extra.pop("tags", []), **extra}
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
    assert result.facets["type"] == {"command": 1}


def test_operators_prefix_and_phrase(handle, seeded):
    assert search(handle, "zorbl*")["page_data"].total == 3
    assert search(handle, '"mobile login"')["page_data"].items[0]["id"] == seeded["title"]
    assert search(handle, '"login mobile"')["page_data"].total == 0
    assert {i["id"] for i in search(handle, "zorblax -rotate NOT pkce")["page_data"].items} == {seeded["body"]}
    assert search(handle, "pkce OR rotate")["page_data"].total >= 2


def test_typo_falls_back_to_the_closest_term(handle, seeded):
    result = search(handle, "zorbalx")
    assert result["corrected"].lower() == "zorblax"
    assert result["page_data"].items[0]["id"] == seeded["title"]
    assert suggest_terms(handle.readmodel.conn, ("qqqqqqqq",)) is None


@pytest.mark.parametrize("text", ['"', '"unbalanced', "AND OR NOT", "()", "*", "title:x", "NEAR(a b)",
                                  "'; DROP TABLE memory; --", "\x00", "🙂" * 50, "a" * 5000, "-only"])
def test_any_string_is_safe(handle, seeded, text):
    result = search(handle, text)
    assert result["page_data"].total >= 0


def test_typo_in_a_word_the_index_holds_as_a_stem(handle, user):
    services.memory_create(handle=handle, actor=user, fields={
        "type": "general", "title": "Staging environments drift", "content": "Keep every environment in Terraform.",
        "tags": []})
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
    services.memory_create(handle=handle, actor=user, fields={
        "type": "general", "title": f"The {first}quasar cluster", "content": "Odd letters.", "tags": []})
    result = search(handle, first + "qasar")
    assert result["corrected"] and result["page_data"].total == 1
