from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from graphs.views import embeds as graph_embeds
from memories.access import visible_clients
from memories.store.registry import ensure_default_client


def home(request):
    """The first client database the user may see."""
    ensure_default_client()
    first = visible_clients(request.user).order_by("pk").first()
    if first is None:
        return render(request, "no_client.html", status=200)
    return redirect("memory_list", first.slug)


urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("sync/", include("memories.sync.urls")),
    path("c/<slug:client>/", include("memories.urls")),
    path("c/<slug:client>/", include("graphs.urls")),
    path("embed/<str:token>/", graph_embeds.embed, name="embed"),
    path("embed/<str:token>/image.svg", graph_embeds.embed_svg, name="embed_svg"),
    path("oembed", graph_embeds.oembed, name="oembed"),
    # Browsers and feed readers ask for /favicon.ico whatever the page links.
    path("favicon.ico", login_not_required(RedirectView.as_view(url=static("favicon.svg"), permanent=True))),
]

handler400 = "memories.site.errors.bad_request"
handler403 = "memories.site.errors.permission_denied"
handler404 = "memories.site.errors.page_not_found"
handler500 = "memories.site.errors.server_error"
