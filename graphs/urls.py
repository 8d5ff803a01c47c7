from django.urls import path

from .picker import views as picker_views
from .views import embeds, graph

urlpatterns = [
    path("graph/", graph.graph, name="graph"),
    path("graph/embeds/", embeds.embeds, name="graph_embeds"),
    path("graph/embeds/<int:embed_id>/revoke/", embeds.embed_revoke, name="embed_revoke"),
    path("pick/", picker_views.pick, name="pick"),
]
