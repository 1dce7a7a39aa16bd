"""Demo plant, costing: the 2026 standard cost version with its rates and prices, rolled up.

Chosen so the engine block EB-500 costs exactly 80.00 a unit: material 50 (2 kg of steel at
10, a housing at 5.00, a bearing at 25), labour 20, machine 10, no overhead of its own. The
housing HSG-100 is made on INJ-01 and rolls up to 5.00 itself, overhead included (48/h at
INJ). docs/costing.md works both figures out by hand. Idempotent (keyed on codes).
"""

from datetime import date
from decimal import Decimal

from resources.models import Equipment, Item, Skill, SkillLevel, WorkCenter

from .models import CostVersion, LabourRate, MachineRate, OverheadRate, PurchasePrice
from .services.rollup import standard_cost_rollup_run
from .services.versions import cost_version_make_current

VERSION = ("STD-2026", "2026 standard", date(2026, 1, 1))
# Labour per hour: the skilled rate of the qualified level where one is set, else the work
# center's (the CMM measurement and the housings' visual check are paid at the work center's).
SKILL_RATES = {"CAST": "46", "CNC": "38", "ASM": "35", "INJ": "36"}
WORK_CENTER_RATES = {"CAST": "42", "CNC": "45", "CMM": "40", "ASM": "38", "INJ": "36"}
# Machine per hour: depreciation, energy, maintenance.
MACHINE_RATES = {
    "CAST-01": ("20", "7", "3"),
    "CNC-01": ("12", "5", "2"),
    "CNC-02": ("12", "5", "2"),
    "CMM-01": ("25", "4", "6"),
    "ASM-01": ("3", "0.5", "0.5"),
    "INJ-01": ("240", "120", "36"),
}
OVERHEADS = {"INJ": ("per_hour", "48")}
PRICES = {"STEEL-42": "10", "BRG-6205": "25", "PP-GF30": "2.45"}


def load(*, logins: list) -> str:
    code, name, effective = VERSION
    version, _ = CostVersion.objects.update_or_create(
        code=code, defaults={"name": name, "effective_from": effective}
    )
    for skill, rate in SKILL_RATES.items():
        LabourRate.objects.update_or_create(
            version=version,
            skill=Skill.objects.get(code=skill),
            skill_level=SkillLevel.QUALIFIED,
            defaults={"rate_per_hour": Decimal(rate)},
        )
    for wc, rate in WORK_CENTER_RATES.items():
        LabourRate.objects.update_or_create(
            version=version,
            work_center=WorkCenter.objects.get(code=wc),
            defaults={"rate_per_hour": Decimal(rate)},
        )
    for machine, (dep, energy, maint) in MACHINE_RATES.items():
        MachineRate.objects.update_or_create(
            version=version,
            equipment=Equipment.objects.get(code=machine),
            defaults={
                "depreciation_per_hour": Decimal(dep),
                "energy_per_hour": Decimal(energy),
                "maintenance_per_hour": Decimal(maint),
            },
        )
    for wc, (basis, rate) in OVERHEADS.items():
        OverheadRate.objects.update_or_create(
            version=version,
            work_center=WorkCenter.objects.get(code=wc),
            defaults={"basis": basis, "rate": Decimal(rate)},
        )
    for item, price in PRICES.items():
        PurchasePrice.objects.update_or_create(
            version=version, item=Item.objects.get(code=item), defaults={"price": Decimal(price)}
        )
    if not CostVersion.objects.filter(is_current=True).exists():
        cost_version_make_current(version=version)
    # Rolled up once (loading again adds no second run; `manage.py cost_rollup` re-runs it).
    run = version.rollups.first() or standard_cost_rollup_run(version=version)
    eb500 = version.item_costs.get(item__code="EB-500")
    return (
        f"cost version {version.code}: {run.items_costed} items rolled up, "
        f"{run.items_incomplete} incomplete; EB-500 = {eb500.total:.2f}"
    )
