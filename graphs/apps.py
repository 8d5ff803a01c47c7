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
