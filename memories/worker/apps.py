from django.apps import AppConfig


class WorkerConfig(AppConfig):
    """Its own app label, so the Job table's migrations do not interleave with memories'."""

    name = "memories.worker"
    label = "worker"
    default_auto_field = "django.db.models.BigAutoField"
