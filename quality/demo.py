"""Demo plant, quality: defect codes, the inspection plans of the two lines and the
defect-rate rule of the moulding line. Idempotent (keyed on codes; an existing plan is left
as it is — a later version made in the demo is not overwritten)."""

from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from planning.models import RoutingStep
from resources.models import WorkCenter

from .models import DefectCode, DefectRateRule, InspectionPlan
from .services.plans import inspection_plan_create

DEFECT_CODES = [
    ("SHORT-SHOT", pgettext_lazy("demo plant", "Short shot (incomplete filling)")),
    ("SCRATCH", pgettext_lazy("demo plant", "Scratch on a visible surface")),
    ("BORE-OOT", pgettext_lazy("demo plant", "Bore diameter out of tolerance")),
    ("POROSITY", pgettext_lazy("demo plant", "Porosity in the casting")),
]
# code, item, step, sampling, characteristics
PLANS = [
    (
        "IP-EB500-30",
        "EB-500",
        30,
        InspectionPlan.Sampling.EVERY_UNIT,
        [
            {
                "name": pgettext_lazy("demo plant", "Bore diameter"),
                "kind": "variable",
                "nominal": Decimal("50.00"),
                "lower_tolerance": Decimal("0.10"),
                "upper_tolerance": Decimal("0.10"),
                "unit": "mm",
                "description": pgettext_lazy(
                    "demo plant", "Main bearing bore, measured on the CMM"
                ),
            },
            {
                "name": pgettext_lazy("demo plant", "No scratches"),
                "kind": "attribute",
                "description": pgettext_lazy("demo plant", "Visual check"),
            },
        ],
    ),
    (
        "IP-HSG100-20",
        "HSG-100",
        20,
        InspectionPlan.Sampling.EVERY_UNIT,
        [
            {
                "name": pgettext_lazy("demo plant", "No short shots"),
                "kind": "attribute",
                "description": pgettext_lazy("demo plant", "Housing fully filled"),
            }
        ],
    ),
]


def load(*, logins: list) -> str:
    for code, name in DEFECT_CODES:
        DefectCode.objects.update_or_create(code=code, defaults={"name": name})
    made = 0
    for code, item, step_no, sampling, characteristics in PLANS:
        if InspectionPlan.objects.filter(code=code).exists():
            continue
        step = RoutingStep.objects.get(
            routing__item__code=item, routing__version="1", step_no=step_no
        )
        inspection_plan_create(
            code=code,
            routing_step=step,
            # the names and descriptions in the load's language
            characteristics=[
                {k: str(v) if isinstance(v, Promise) else v for k, v in c.items()}
                for c in characteristics
            ],
            sampling=sampling,
            gate=True,
        )
        made += 1
    # The moulding line: 5 % over at least 20 of the last 50 housings puts it on hold.
    DefectRateRule.objects.get_or_create(
        work_center=WorkCenter.objects.get(code="INJ"),
        routing_step=None,
        defaults={"threshold_pct": Decimal("5"), "min_sample": 20, "window": 50},
    )
    return (
        f"{len(DEFECT_CODES)} defect codes, {InspectionPlan.objects.count()} inspection plans "
        f"({made} new), {DefectRateRule.objects.count()} defect-rate rule(s)"
    )
