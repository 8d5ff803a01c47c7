from django.apps import AppConfig


class MemoriesConfig(AppConfig):
    name = "memories"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .search.engine import backend

        backend()  # a wrong KB_SEARCH_BACKEND fails at startup, not at the first search

        from .search.spelling.upkeep import VocabularyUpkeep
        from .worker.upkeep import upkeep_register

        upkeep_register(VocabularyUpkeep)  # the worker's read-model upkeep (worker/upkeep.py)
