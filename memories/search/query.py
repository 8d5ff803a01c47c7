"""Turn free text typed into a search box into a safe SQLite FTS5 MATCH expression.

Contract: for *any* ``str`` (unbalanced quotes, operators, NUL, lone surrogates,
emoji, megabytes of junk) ``parse_query`` returns either ``None`` ("nothing
searchable") or a ``ParsedQuery`` whose ``match`` FTS5 accepts without error on a
table using ``tokenize='porter unicode61'``. User text only ever reaches FTS5
inside a double-quoted string, so it can never be read as FTS5 syntax (column
filters, NEAR, ``^``, ``+`` ...). Input is capped at 500 characters and 32 terms.

Syntax (Google-like):
  word            ``"word"``; several words are ANDed.
  "a phrase"      adjacent words; an unbalanced quote makes the rest a phrase.
  auth*           prefix search ``"auth"*``; a bare ``*`` is dropped. A one-letter prefix
                  (``s*``) is looked for in titles only, ``{title} : "s"*``: over every
                  column it merges the doclists of thousands of terms, 0.9-2.8 s at
                  100,000 memories, against about 0.1 s in titles.
  a OR b          OR binds more loosely than AND, as in FTS5:
                  ``a b OR c`` means ``(a AND b) OR c``.
  a AND b         explicit AND (same as ``a b``).
  -word, NOT word excludes ``word`` from the surrounding AND group, wherever it
                  stands: ``-a b`` means ``b NOT a``. A group with nothing
                  positive in it is dropped, so ``a OR -b`` means ``a`` and a
                  query made only of exclusions returns None.
  ( ... )         grouping. Unmatched ``)`` is ignored, unclosed ``(`` is closed
                  at the end, nesting deeper than 8 levels is flattened.
Only uppercase AND/OR/NOT are operators. Consecutive operators collapse to the
last one; dangling operators are dropped. Tokens with no letter or digit are
dropped, because unicode61 would index nothing for them.
"""
import re
from dataclasses import dataclass

from .stopwords import STOP_WORDS

MAX_CHARS = 500
MAX_TERMS = 32
MAX_DEPTH = 8
PREFIX_MIN_CHARS = 2  # shorter prefixes match titles only (see the module's docstring)

# Control characters end FTS5 strings early (NUL) and lone surrogates cannot be
# encoded to UTF-8 by sqlite3, so both become separators.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_TOKEN = re.compile(r'(-?)(?:"([^"]*)"?|([()])|([^\s"()]+))')
_OPERATORS = ("AND", "OR", "NOT")
# What makes a query more than plain words: quotes, prefix stars, groups, operators, exclusions.
_SYNTAX = re.compile(r'["*()]|(?:^|\s)-\S|\b(?:AND|OR|NOT)\b')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class ParsedQuery:
    match: str
    terms: tuple[str, ...]
    titles_only: tuple[str, ...] = ()  # prefixes too short to look for beyond titles ("s")

    def title_only(self) -> str:
        return f"{{title}} : ({self.match})"


def _clean(text: str) -> str:
    return _UNSAFE.sub(" ", str(text)[:MAX_CHARS])


def _plain(text: str) -> str:
    return " ".join(text.lower().split())


def _searchable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _quote(plain: str, prefix: bool) -> str:
    return '"' + plain.replace('"', '""') + '"' + ("*" if prefix else "")


def _tokenize(text: str) -> list:
    """Operators and parentheses as strings, terms as (fts, plain) tuples."""
    tokens, depth, skipped, nterms = [], 0, 0, 0
    for m in _TOKEN.finditer(_clean(text)):
        neg, phrase, paren, word = m.groups()
        if paren == "(":
            if depth < MAX_DEPTH:
                depth += 1
                tokens += ["NOT", "("] if neg else ["("]
            else:
                skipped += 1
        elif paren == ")":
            if skipped:
                skipped -= 1
            elif depth:
                depth -= 1
                tokens.append(")")
        elif word in _OPERATORS and not neg:
            tokens.append(word)
        else:
            raw = phrase if phrase is not None else word.rstrip("*")
            if not _searchable(raw):
                continue  # also drops its "-" so it cannot negate the next term
            if nterms == MAX_TERMS:
                break
            nterms += 1
            plain = _plain(raw)
            tokens += ["NOT"] if neg else []
            prefix = phrase is None and word != raw
            fts = _quote(plain, prefix=prefix)
            tokens.append((f"{{title}} : {fts}" if prefix and len(plain) < PREFIX_MIN_CHARS else fts, plain))
    return tokens


def _parse_or(tokens: list, terms: list) -> str | None:
    """Consume tokens (a reversed stack) up to a matching ``)`` or the end."""
    branches = []
    while True:
        branch = _parse_and(tokens, terms)
        if branch:
            branches.append(branch)
        if not tokens or tokens.pop() == ")":
            return " OR ".join(branches) or None


def _parse_and(tokens: list, terms: list) -> str | None:
    positive, negative, negate = [], [], False
    while tokens and tokens[-1] not in ("OR", ")"):
        tok = tokens.pop()
        if tok in ("AND", "NOT"):
            negate = tok == "NOT"
            continue
        if tok == "(":
            # Words inside an excluded group are not what the user searched for.
            inner = _parse_or(tokens, [] if negate else terms)
            node = f"({inner})" if inner else None
        else:
            node, plain = tok
            if not negate:
                terms.append(plain)
        if node:
            (negative if negate else positive).append(node)
        negate = False
    if not positive:
        return None  # FTS5's NOT is binary: exclusions need something to subtract from
    expr = " AND ".join(positive)
    if negative and len(positive) > 1:
        expr = f"({expr})"
    return expr + "".join(f" NOT {n}" for n in negative)


def parse_query(text: str) -> ParsedQuery | None:
    terms: list[str] = []
    tokens = _tokenize(text)
    short = tuple(dict.fromkeys(t[1] for t in tokens if isinstance(t, tuple) and t[0].startswith("{title}")))
    match = _parse_or(tokens[::-1], terms)
    return ParsedQuery(match, tuple(dict.fromkeys(terms)), short) if match else None


def prefix_query(terms) -> ParsedQuery | None:
    """AND of ``"term"*`` for each replacement term, e.g. from typo correction."""
    kept = [p for p in (_plain(_clean(t)) for t in terms) if _searchable(p)]
    kept = list(dict.fromkeys(kept))[:MAX_TERMS]
    if not kept:
        return None
    return ParsedQuery(" AND ".join(_quote(t, prefix=True) for t in kept), tuple(kept))


def meaningful_words(text: str) -> list[str] | None:
    """The words of a plain question minus stop words, in order, or None when the user used
    syntax (phrases, prefixes, operators keep their exact meaning: no partial matching).

    "how to fix CORS" gives ["fix", "cors"]; a question made only of stop words keeps them
    all, so that "how to" still finds something."""
    text = _clean(text)
    if _SYNTAX.search(text):
        return None
    words = list(dict.fromkeys(w for w in _WORD.findall(text.lower()) if _searchable(w)))[:MAX_TERMS]
    kept = [w for w in words if w not in STOP_WORDS]
    return kept or words


def any_words_query(words) -> ParsedQuery | None:
    """OR of ``"word"`` for each word, or of ``"word"*`` for a (word, True) pair; BM25 ranks
    memories holding more and rarer ones first."""
    kept = {}
    for word, prefix in ((w, False) if isinstance(w, str) else w for w in words):
        plain = _plain(_clean(word))
        if _searchable(plain) and plain not in kept and len(kept) < MAX_TERMS:
            kept[plain] = prefix
    if not kept:
        return None
    return ParsedQuery(" OR ".join(_quote(t, prefix=p) for t, p in kept.items()), tuple(kept))
