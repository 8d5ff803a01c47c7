"""Under /c/<client>/api/memorygraph/: the paths CloudRESTAdapter requests, without trailing slashes
(it posts to ``/memories``; a redirect to ``/memories/`` would lose the body)."""
from django.urls import path

from . import views

urlpatterns = [
    path("health", views.health, name="cloud_health"),
    path("memories", views.memory_store, name="cloud_memory_store"),
    path("memories/recent", views.recent, name="cloud_recent"),
    path("memories/<memory_id:memory_id>", views.memory, name="cloud_memory"),
    path("relationships", views.relationship_store, name="cloud_relationship_store"),
    path("search/memories/<memory_id:memory_id>/related", views.related, name="cloud_related"),
    path("search/advanced", views.search_advanced, name="cloud_search"),
    path("search/recall", views.search_recall, name="cloud_recall"),
    path("graphs/statistics", views.statistics, name="cloud_statistics"),
]
