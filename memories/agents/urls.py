"""Under /c/<client>/: the API keys page and the memorygraph cloud API (the MCP endpoint is mcp/urls.py)."""
from django.urls import include, path

from . import views

urlpatterns = [
    path("keys/", views.key_list, name="api_keys"),
    path("keys/<int:key_id>/revoke/", views.key_revoke, name="api_key_revoke"),
    path("api/memorygraph/", include("memories.agents.cloud_api.urls")),
]
