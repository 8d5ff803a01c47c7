from django.apps import AppConfig


class GraphsConfig(AppConfig):
    name = "graphs"

    def ready(self):
        # memories' export offers a graph view's memories without importing graphs, so graphs registers
        # that scope; imported here, once every app's models are loaded.
        from memories.interchange.exports.scopes import scope_register

        from .exports import graph_export_ids
        from .forms import GraphForm

        scope_register("graph", form=GraphForm, select=graph_export_ids)

        # The worker computes graph analytics after changes as a step of its read-model upkeep.
        from memories.worker.upkeep import upkeep_register

        from .analytics.upkeep import AnalyticsUpkeep

        upkeep_register(AnalyticsUpkeep)
