"""Sync URLs. ``urlpatterns``: the sync status page and its actions, included at the site's
``sync/``; ``client_urlpatterns``: the freshness badge of one synced client database, included
in each client database's URLs (``c/<client>/``, memories/urls.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.sync_status, name="sync_status"),
    path("<slug:slug>/", views.sync_row, name="sync_row"),
    path("<slug:slug>/now/", views.sync_now, name="sync_now"),
    path("<slug:slug>/rebuild/", views.sync_rebuild, name="sync_rebuild"),
]

client_urlpatterns = [
    path("freshness/", views.freshness_badge, name="freshness_badge"),
]
