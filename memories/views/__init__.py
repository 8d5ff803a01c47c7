"""The memory graph's pages, one module per thing they show: ``listing`` (browse and search),
``memory`` (one memory, its edits and relationships), ``tags`` (the tag index, rename and bulk
tagging). Each view validates with a form, calls one selector or service and renders the page,
its fragment or its JSON twin. Nothing is re-exported: ``memories/urls.py`` names each module."""
