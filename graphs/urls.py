from django.urls import path

from . import views
from .picker import views as picker_views

urlpatterns = [
    path("graph/", views.graph, name="graph"),
    path("graph/embeds/", views.embeds, name="graph_embeds"),
    path("graph/embeds/<int:embed_id>/revoke/", views.embed_revoke, name="embed_revoke"),
    path("pick/", picker_views.pick, name="pick"),
]
