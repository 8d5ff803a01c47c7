from django import forms

from ..models import ApiKey


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100,
                           help_text="Who or what uses it, e.g. \"alice's laptop\" or \"CI\".")
    role = forms.ChoiceField(choices=ApiKey.ROLE_CHOICES, initial=ApiKey.WRITE)
    expires_days = forms.IntegerField(required=False, min_value=1, max_value=3650,
                                      label="Expires after (days)",
                                      help_text="Empty: never.")
