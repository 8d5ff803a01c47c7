import random
import sqlite3

import pytest

from memories.search.query import MAX_TERMS, ParsedQuery, parse_query, prefix_query

ROWS = {
    1: (
        "OAuth2 login with PKCE", "how authentication works", "the browser sends a code verifier", "security",
    ),
    2: (
        "Deploy notes", "rolling restart of web workers", "restart the web service after login changes",
        "ops",
    ),
    3: ("Database migration", "login table renamed", "web login moved; the service stays up", "db"),
    4: ("Cache warmup", "redis keys", "warm the cache before traffic", "ops cache"),
}


@pytest.fixture(scope="module")
def db():
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE f USING fts5(title, summary, content, tags, tokenize='porter unicode61')"
    )
    conn.executemany(
        "INSERT INTO f(rowid, title, summary, content, tags) VALUES (?, ?, ?, ?, ?)",
        [(rowid, *cols) for rowid, cols in ROWS.items()],
    )
    yield conn
    conn.close()


def run(db, expr):
    return {r for (r,) in db.execute("SELECT rowid FROM f WHERE f MATCH ?", (expr,))}


def search(db, text):
    parsed = parse_query(text)
    assert parsed is not None, text
    return run(db, parsed.match)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("web login", {2, 3}),  # implicit AND, any column
        ("web AND login", {2, 3}),
        ('"web login"', {3}),  # phrase: adjacent words only
        ('"login web"', set()),
        ('"web service', {2}),  # unbalanced quote: rest is a phrase
        ("auth*", {1}),  # prefix reaches "authentication"
        ("auth", set()),  # ...which a bare word does not
        ("redis OR pkce", {1, 4}),
        ("login -restart", {1, 3}),
        ("login NOT restart", {1, 3}),
        ("-restart login", {1, 3}),  # exclusion may come first
        ("web login OR cache", {2, 3, 4}),  # OR binds loosest
        ("web (login OR cache)", {2, 3}),
        ("(pkce OR redis) -oauth2", {4}),
        ("PKCE", {1}),
        ("OAuth2", {1}),
        ("oauth2 pkce", {1}),
        ("restarted", {2}),  # porter stemming still applies
        ("foo.bar OR web.login", {3}),  # punctuation inside quotes is a phrase
        ("login not", set()),  # lowercase operators are words
    ],
)
def test_behaviour(db, text, expected):
    assert search(db, text) == expected


def test_match_expressions():
    assert parse_query("foo bar").match == '"foo" AND "bar"'
    assert parse_query('"a phrase" auth*').match == '"a phrase" AND "auth"*'
    assert parse_query("a b OR c -d").match == '"a" AND "b" OR "c" NOT "d"'
    assert parse_query("a -b c").match == '("a" AND "c") NOT "b"'
    assert parse_query("a OR OR AND b OR").match == '"a" OR "b"'
    assert parse_query("a OR -b").match == '"a"'


def test_terms_are_plain_and_positive():
    parsed = parse_query('Auth* "Code  Verifier" -secret NOT (hidden x) web OR Web')
    assert parsed.terms == ("auth", "code verifier", "web")


def test_title_only(db):
    parsed = parse_query("login")
    assert search(db, "login") == {1, 2, 3}
    assert parsed.title_only() == '{title} : ("login")'
    assert run(db, parsed.title_only()) == {1}
    assert run(db, parse_query("web OR pkce -cache").title_only()) == {1}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "*",
        "**",
        "---",
        '"""',
        "::",
        "NOT",
        "AND OR NOT",
        "-login",
        "NOT login",
        "-a -b",
        "()",
        "( )",
        '""',
        "\U0001f600",
    ],
)
def test_nothing_searchable(text):
    assert parse_query(text) is None


def test_prefix_query(db):
    parsed = prefix_query(["Auth", "secur", "auth", "---", ""])
    assert parsed == ParsedQuery('"auth"* AND "secur"*', ("auth", "secur"))
    assert run(db, parsed.match) == {1}
    assert prefix_query(['x"y']).match == '"x""y"*'
    assert prefix_query([]) is None
    assert prefix_query(["*", "\x00"]) is None


def test_caps():
    parsed = parse_query(" ".join(f"w{i}" for i in range(100)))
    assert len(parsed.terms) == MAX_TERMS
    assert parse_query("x" * 600).terms == ("x" * 500,)


NASTY = [
    '"',
    "''",
    '"""',
    '"unbalanced',
    'foo"',
    '"a" "b',
    "NOT",
    "OR",
    "OR OR",
    "AND",
    "a AND",
    "AND a",
    "a OR",
    "NOT NOT a",
    "a NOT",
    "a - b",
    "-",
    "--a",
    "-(a",
    "-)",
    "(",
    ")",
    ")(",
    "(((a",
    "a)))",
    "(a OR) b",
    "()()",
    "*",
    "a*b",
    "*a",
    "a**",
    "^foo",
    "+foo",
    "title:foo",
    "{title}: foo",
    "{title summary}:(a)",
    "NEAR(a b)",
    "NEAR(a b, 2)",
    "a NEAR b",
    "a:b:c",
    "\x00",
    "a\x00b",
    '"\x00"',
    "\ud800",
    "a\udfffb",
    "\U0001f600 \U0001f4a9",
    "ğüşİ ĳ",
    "日本語 検索",
    "\u0301",
    "'; DROP TABLE f; --",
    "1=1 OR '1'='1'",
    "f MATCH 'a'",
    "\\",
    '\\"',
    "a\tb\nc\r",
    "\u2028\u00a0\ufeff",
    "%_",
    "$",
    "[a]",
    "{",
    "}",
    "a OR (b AND (c NOT (d",
    "- - -",
    'a" OR (' * 1429,
    "(" * 500,
    ")" * 500,
    "a " * 5000,
    '"a' * 5000,
    "-a " * 3000,
]


@pytest.mark.parametrize("text", NASTY)
def test_nasty_inputs_are_safe(db, text):
    parsed = parse_query(text)
    if parsed is not None:
        run(db, parsed.match)
        run(db, parsed.title_only())


def test_random_inputs_are_safe(db):
    rng = random.Random(20240607)
    alphabet = ["a", "b", '"', "*", "(", ")", "-", ":", "^", "OR", "AND", "NOT", "NEAR", " "]
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) + rng.choice(["", " "]) for _ in range(rng.randint(0, 40)))
        parsed = parse_query(text)
        if parsed is not None:
            run(db, parsed.match)
            run(db, parsed.title_only())
        parsed = prefix_query(text.split())
        if parsed is not None:
            run(db, parsed.match)


def test_meaningful_words_and_the_any_word_query():
    from memories.search.query import any_words_query, meaningful_words

    assert meaningful_words("How to fix CORS?") == ["fix", "cors"]
    assert meaningful_words("how to") == ["how", "to"]
    for syntax in ('"a phrase"', "auth*", "a OR b", "a -b", "(a b)", "a NOT b", "a AND b"):
        assert meaningful_words(syntax) is None
    assert any_words_query(["fix", "cors"]).match == '"fix" OR "cors"'
    assert any_words_query([("kubernet", True), ("pod", False)]).match == '"kubernet"* OR "pod"'
    assert any_words_query(['"', "", "--"]) is None
