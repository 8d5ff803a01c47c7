from django.urls import path

from . import views

urlpatterns = [
    path("graph/", views.graph, name="graph"),
    path("graph/embeds/", views.embeds, name="graph_embeds"),
    path("graph/embeds/<int:embed_id>/revoke/", views.embed_revoke, name="embed_revoke"),
]
