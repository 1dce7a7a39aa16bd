"""The plant manager's quality figure (core/homes.py kpi_register, from quality's
AppConfig.ready): first-pass yield over the last 30 days."""

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.formatting import quantity_format
from core.homes import KpiValue

from .reports import FPY_DAYS, plant_fpy

# The tile's colour: at or above GOOD green, at or above WARN amber, below it red.
FPY_GOOD = Decimal("95")
FPY_WARN = Decimal("90")


def fpy_kpi(today: date) -> KpiValue:
    """First-pass yield (FPY) over the last 30 plant days ending today: units that passed
    every inspection at the first attempt ÷ units inspected, a lot counting as one unit
    where the item is not tracked by serial (quality/engines/report_figures.py
    plant_first_pass has the rule). Worked example: tests/quality/test_fpy_kpi.py."""
    figure = plant_fpy(today=today)
    pct = figure.pct
    if pct is None:
        return KpiValue(
            value=None,
            text="—",
            empty=_("No inspections in the last %(days)s days.") % {"days": FPY_DAYS},
        )
    status = "good" if pct >= FPY_GOOD else "warn" if pct >= FPY_WARN else "bad"
    detail = ngettext(
        "%(passed)s of %(units)s unit passed every inspection first time (%(days)s days)",
        "%(passed)s of %(units)s units passed every inspection first time (%(days)s days)",
        figure.units,
    ) % {"passed": figure.first_pass, "units": figure.units, "days": FPY_DAYS}
    return KpiValue(value=pct, text=f"{quantity_format(pct)} %", status=status, detail=detail)
