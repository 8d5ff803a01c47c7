"""The state of a graph view, all in its URL."""
from django import forms
from django.conf import settings

from memories.format import MEMORY_TYPES, REL_CATEGORIES

# Ids written by others can be longer than ours (memorygraph takes any string): room for them.
ID_MAX = 1000
VIEWS = ("neighbourhood", "results", "overview", "path", "chains", "unsolved", "contradictions", "superseded")
FORMATS = ("html", "json", "graphml", "gexf", "nodelink", "svg")


class GraphForm(forms.Form):
    view = forms.ChoiceField(required=False, choices=[(v, v) for v in VIEWS])
    memory = forms.CharField(required=False, max_length=ID_MAX)
    depth = forms.IntegerField(required=False, min_value=1, max_value=3)
    node_type = forms.MultipleChoiceField(required=False, choices=[(t, t) for t in MEMORY_TYPES])
    category = forms.MultipleChoiceField(required=False, choices=[(c, c) for c in REL_CATEGORIES])
    expand = forms.CharField(required=False, max_length=ID_MAX)  # repeated; read with getlist
    source = forms.CharField(required=False, max_length=ID_MAX)
    target = forms.CharField(required=False, max_length=ID_MAX)
    limit = forms.IntegerField(required=False, min_value=1, max_value=2000)
    size = forms.ChoiceField(required=False, choices=[("degree", "degree"), ("pagerank", "pagerank")])
    format = forms.ChoiceField(required=False, choices=[(f, f) for f in FORMATS])

    def clean(self):
        data = super().clean()
        view = data.get("view") or ("neighbourhood" if data.get("memory") else "overview")
        data["view"] = view
        if view == "neighbourhood" and not data.get("memory"):
            raise forms.ValidationError("A neighbourhood needs memory=<id>.")
        if view == "path" and not (data.get("source") and data.get("target")):
            raise forms.ValidationError("A path needs source=<id> and target=<id>.")
        data["depth"] = data.get("depth") or 1
        data["limit"] = data.get("limit") or settings.KB_GRAPH_LIMIT
        data["size"] = data.get("size") or "degree"
        data["format"] = data.get("format") or "html"
        data["expand"] = tuple(dict.fromkeys(v for v in self.data.getlist("expand") if v))[:50]
        return data
