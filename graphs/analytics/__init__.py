"""Whole-graph analytics as data in the read model.

The worker process (``manage.py kb_sync``, ``manage.py kb_analytics``) computes PageRank,
communities, degrees and the members of the causal views (``services``) and stores them in
read-model tables, tagged with the read-model generation (``meta.changed_at``) they were
computed at. Web workers only read those tables with SQL (``selectors``): no web process
builds the whole graph or starts a thread.
"""
