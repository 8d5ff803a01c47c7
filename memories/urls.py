from django.urls import include, path, register_converter

from .editor import views as editor_views
from .interchange.exports import views as export_views
from .interchange.imports import views as import_views
from .links import MemoryIdConverter
from .site import views as site_views
from .sync.urls import client_urlpatterns as sync_urlpatterns
from .views import listing, memory, tags
from .worker import views as job_views

# Ids written by others may hold '/' or be '..': see links.memory_segment.
register_converter(MemoryIdConverter, "memory_id")

urlpatterns = [
    path("", site_views.client_home, name="client_home"),
    path("memories/", listing.memory_list, name="memory_list"),
    path("memories/new/", memory.memory_create, name="memory_create"),
    path("memories/<memory_id:memory_id>/", memory.memory_detail, name="memory_detail"),
    path("memories/<memory_id:memory_id>/edit/", memory.memory_edit, name="memory_edit"),
    path("memories/<memory_id:memory_id>/delete/", memory.memory_delete, name="memory_delete"),
    path("memories/<memory_id:memory_id>/tags/", memory.memory_tags, name="memory_tags"),
    path("memories/<memory_id:memory_id>/relationships/new/", memory.relationship_create,
         name="relationship_create"),
    path("relationships/<memory_id:rel_id>/delete/", memory.relationship_delete, name="relationship_delete"),
    path("search/", listing.search, name="search"),
    path("tags/", tags.tag_index, name="tag_index"),
    path("tags/suggest/", editor_views.tag_suggest, name="tag_suggest"),
    path("preview/", editor_views.markdown_preview, name="markdown_preview"),
    path("tags/rename/", tags.tag_rename, name="tag_rename"),
    path("tags/bulk/", tags.bulk_tag, name="bulk_tag"),
    path("tags/bulk/<int:batch_id>/undo/", tags.bulk_tag_undo, name="bulk_tag_undo"),
    path("unresolved/", listing.unresolved, name="unresolved"),
    path("", include(sync_urlpatterns)),  # freshness/
    path("export/", export_views.export, name="export"),
    path("import/", import_views.import_start, name="import_start"),
    path("import/<int:job_id>/", import_views.import_job, name="import_job"),
    path("import/<int:job_id>/run/", import_views.import_run, name="import_run"),
    path("import/<int:job_id>/discard/", import_views.import_discard, name="import_discard"),
    path("jobs/", job_views.job_list, name="job_list"),
    path("jobs/<int:job_id>/", job_views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/retry/", job_views.job_retry_view, name="job_retry"),
    path("jobs/<int:job_id>/cancel/", job_views.job_cancel_view, name="job_cancel"),
    path("jobs/<int:job_id>/download/", job_views.job_download, name="job_download"),
    path("mcp/", include("memories.agents.mcp.urls")),
    path("", include("memories.agents.urls")),  # API keys page, memorygraph cloud API
]
