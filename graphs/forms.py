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

    def only_choices_missing(self):
        """True when the sole problem is a memory still to be picked (no value is wrong)."""
        errors = self.errors.as_data()
        return (bool(errors) and set(errors) == {"__all__"}
                and all(e.code == "pick" for e in errors["__all__"]))

    def messages(self):
        """Plain sentences for the page: a field's label and its message, never `__all__`."""
        out = []
        for name, errors in self.errors.as_data().items():
            label = ((self.fields[name].label or name.replace("_", " ").capitalize())
                     if name != "__all__" else "")
            out.extend(f"{label}: {m}" if label else m for e in errors for m in e.messages)
        return out

    def clean(self):
        data = super().clean()
        view = data.get("view") or ("neighbourhood" if data.get("memory") else "overview")
        data["view"] = view
        if view == "path" and not data.get("source"):
            data["source"] = data.get("memory") or ""
        # code "pick": not a mistake but a choice still to make; the page offers the picker.
        if view == "neighbourhood" and not data.get("memory"):
            raise forms.ValidationError("Pick the memory to start from.", code="pick")
        if view == "path" and not (data.get("source") and data.get("target")):
            raise forms.ValidationError("Pick the two memories the path should join.", code="pick")
        data["depth"] = data.get("depth") or 1
        data["limit"] = data.get("limit") or settings.KB_GRAPH_LIMIT
        data["size"] = data.get("size") or "degree"
        data["format"] = data.get("format") or "html"
        data["expand"] = tuple(dict.fromkeys(v for v in self.data.getlist("expand") if v))[:50]
        return data
