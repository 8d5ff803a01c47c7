from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path

from graphs import views as graph_views


def home(request):
    return redirect("memory_list", "default")


urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("c/<slug:client>/", include("memories.urls")),
    path("c/<slug:client>/", include("graphs.urls")),
    path("embed/<str:token>/", graph_views.embed, name="embed"),
    path("embed/<str:token>/image.svg", graph_views.embed_svg, name="embed_svg"),
    path("oembed", graph_views.oembed, name="oembed"),
]
