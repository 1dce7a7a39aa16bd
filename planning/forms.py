from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from resources.models import Item


class PlanCheckForm(forms.Form):
    item = forms.ModelChoiceField(
        label=_("Item"),
        queryset=Item.objects.filter(source=Item.Source.MAKE),
        to_field_name="code",
    )
    quantity = forms.DecimalField(label=_("Quantity"), min_value=Decimal("0.0001"), initial=500)
    requested_per_day = forms.DecimalField(
        label=_("Requested per day"), min_value=Decimal("0.0001"), initial=100
    )
    # A text field read with the reader's language's date input formats (config/formats:
    # 2026-12-07, 2026/12/07, 2026年12月7日 in Chinese), shown as 2026-12-07.
    start_day = forms.DateField(
        label=_("Start day"),
        required=False,
        widget=forms.DateInput(
            format="%Y-%m-%d", attrs={"placeholder": "2026-12-07", "autocomplete": "off"}
        ),
    )
