"""The plant manager's cost figure (core/homes.py KPI tile, registered in apps.py): the total
cost variance of the month, with its sign."""

from datetime import date
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from core.homes import KpiValue

from .variance import VarianceFilter, variances_list

# The tile warns when the month's variance is unfavourable, and turns bad past this share of
# the standard cost of the same records.
COST_VARIANCE_BAD_PCT = Decimal("5")


def signed_amount(value: Decimal, places: int = 2) -> str:
    """A figure with its sign, `places` decimals, thousands grouped: "+1,234.50", "−80.00",
    "0.00"."""
    text = formats.number_format(abs(value), places, use_l10n=True, force_grouping=True)
    if value > 0:
        return f"+{text}"
    if value < 0:
        return f"\u2212{text}"
    return text


def cost_variance_of_month(today: date) -> KpiValue:
    """The sum of every variance of the month `today` lies in (the orders' variance period,
    costing/engines/variance.py); positive is unfavourable (cost above standard). Its share
    of the standard amount of the same variances says how much."""
    period = today.replace(day=1)
    found = variances_list(VarianceFilter(period=period))
    if not found:
        return KpiValue(None, "", empty=_("No actual cost posted this month."))
    total = sum((v.amount for v in found), Decimal("0"))
    standard = sum((v.standard_amount for v in found), Decimal("0"))
    pct = (total * 100 / standard).quantize(Decimal("0.1")) if standard else None
    if total <= 0:
        status = "good"
    elif pct is not None and pct > COST_VARIANCE_BAD_PCT:
        status = "bad"
    else:
        status = "warn"
    month = formats.date_format(period, "YEAR_MONTH_FORMAT")
    if pct is None:
        detail = _("%(month)s; above standard when positive") % {"month": month}
    else:
        detail = _("%(month)s: %(pct)s %% of standard cost; above standard when positive") % {
            "month": month,
            "pct": signed_amount(pct, 1),
        }
    return KpiValue(total, signed_amount(total), status=status, detail=detail)
