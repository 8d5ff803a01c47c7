"""English stop words: dropped from a plain question before its words are matched one by one.

"how to fix CORS" has no memory holding all four words; "fix" and "cors" are what it asks.
The list is short on purpose: a word like "not", "new" or "up" can carry meaning in a title.
"""

STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor of off on once only or other our ours ourselves out over own
same she should so some such than that the their theirs them themselves then there these they
this those through to too under until very was we were what when where which while who whom
why will with would you your yours yourself yourselves get got getting keep make makes
anyone someone something thing things way ways use using used please help
""".split())

# Words of plain questions that memories rarely use, and the words they use instead
# ("why is billing slow" asks about latency). Each expands to itself plus these.
RELATED_WORDS = {
    "slow": ("latency", "performance", "timeout"),
    "slower": ("latency", "performance"),
    "fast": ("performance", "latency"),
    "speed": ("performance", "latency"),
    "crash": ("error", "exception", "crashloopbackoff"),
    "crashes": ("error", "exception", "crashloopbackoff"),
    "logout": ("logged",),
    "broken": ("fails", "error"),
    "killed": ("oomkilled", "evict"),
    "twice": ("duplicate",),
    "duplicate": ("twice",),
}
