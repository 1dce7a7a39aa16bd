from decimal import Decimal

from django import forms

from resources.models import Item


class PlanCheckForm(forms.Form):
    item = forms.ModelChoiceField(
        queryset=Item.objects.filter(source=Item.Source.MAKE), to_field_name="code"
    )
    quantity = forms.DecimalField(min_value=Decimal("0.0001"), initial=500)
    requested_per_day = forms.DecimalField(min_value=Decimal("0.0001"), initial=100)
    start_day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
