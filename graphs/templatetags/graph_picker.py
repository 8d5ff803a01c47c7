"""{% memory_picker field %}: a form's memory field as the memory picker (graphs/picker/)."""
from django import template

from graphs.picker.selectors import picker_field

register = template.Library()


@register.inclusion_tag("graphs/_picker.html", takes_context=True)
def memory_picker(context, field):
    """The picker for a bound Django form field, on a page of a client database (request.kb)."""
    request = context["request"]
    value = field.value() or ""
    return {"client": context["client"],
            "f": picker_field(rm=request.kb.readmodel, name=field.html_name, label=field.label,
                              value=str(value))}
