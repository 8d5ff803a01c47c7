"""memorygraph's cloud REST API (what memorygraph 0.12.4's CloudRESTAdapter calls), over one client database.

Paths, payloads and statuses follow memorygraph/backends/cloud_backend.py; reads come from the read
model, writes go through memories.services like the site's forms.
"""
