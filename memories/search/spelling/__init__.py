"""The typo room: which indexed term a misspelt search word meant.

``suggest`` holds the rules (stems, edit distance, which term wins); ``vocabulary`` reads one
letter's terms from the read model's vocabulary table (term_vocab), which the worker keeps
(``upkeep``) and a full rebuild fills, so a suggestion costs a few ms instead of a scan of one
letter's terms in the FTS index (80-150 ms at 100,000 memories).
"""
from .suggest import closest, known, stem, suggest_terms

__all__ = ["closest", "known", "stem", "suggest_terms"]
