"""The graph pages: ``graph`` (a view of a client database's graph, with its table, JSON,
GraphML, GEXF and SVG twins) and ``embeds`` (embed links, the pages they open without login,
the oEmbed provider). Nothing is re-exported: graphs/urls.py and kbsite/urls.py name each module."""
