"""Whole-graph analytics as data in the read model.

The worker process (``manage.py kb_worker``; ``manage.py kb_analytics`` once) computes PageRank,
communities, degrees and the members of the causal views (``services``) and stores them in
read-model tables, tagged with the read-model generation (``meta.changed_at``) they were
computed at: a step after each change, from the rows a change log names and the graph the
worker keeps (``state``, ``ranks``, ``views``, ``pagerank``), and a debounced full run in a child
process (``background``). Web workers only read those tables with SQL (``selectors``): no web
process builds the whole graph or starts a thread.
"""
