"""Standard cost roll-up benchmark: 10,000 items over 5 BOM levels (seeded random).

    .venv/bin/python bench/rollup_bench.py [--items 10000] [--seed 1] [--repeat 3] [--service]

The product structure is MRP's benchmark plant (bench/mrp_bench.py `generate`: 5 levels,
about 15,000 BOM lines with base quantities and scrap); each make item gets a routing of
1–3 operations on 20 work centers of 2 machines each, half of them with a required skill;
every rate and price exists (labour per skill level for half the skills, per work center for
all; overhead per hour at half the work centers, a percentage at the other half).

(a) Always: wall time of the pure engine `costing.engines.rollup.standard_cost_rollup`
    (input generation excluded), each run.
(b) With --service: the same plant written to a database, then
    `costing.services.rollup.standard_cost_rollup_run` timed end to end (load the input
    with the selectors, run the engine, store every ItemCost and breakdown line), a first run
    (inserts) and a re-run (updates the same rows, replaces the lines). On SQLite it builds a
    fresh database in a temporary directory; with DATABASE_URL set it uses that database after
    emptying it, so it refuses any database whose name does not contain "bench".

Prints the Python-loop reference (bench/reference.py) next to the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from mrp_bench import generate  # noqa: E402
from reference import python_loop_seconds  # noqa: E402

from costing.engines.rollup import (  # noqa: E402
    ComponentIn,
    ItemIn,
    OperationIn,
    Overhead,
    Rates,
    standard_cost_rollup,
)
from planning.engines.bomgraph import bom_low_level_codes  # noqa: E402

N_WORK_CENTERS = 20
N_SKILLS = 10


def plant(n_items: int, seed: int):
    """(items as (code, make, level, lot size), BOM edges, operations, rates)."""
    rng = random.Random(seed)
    mrp = generate(n_items, 0, seed)
    levels = bom_low_level_codes(
        ((e.parent, e.component) for e in mrp.bom), [i.code for i in mrp.items]
    )
    items = [
        ItemIn(
            code=i.code,
            make=i.source == "make",
            level=levels[i.code],
            lot_size=i.lot_size if i.lot_size > 0 else Decimal(rng.choice([10, 50, 100])),
        )
        for i in mrp.items
    ]
    line_no: dict[str, int] = {}
    components = []
    for e in mrp.bom:
        line_no[e.parent] = line_no.get(e.parent, 0) + 10
        components.append(
            ComponentIn(
                parent=e.parent,
                component=e.component,
                line_no=line_no[e.parent],
                quantity=e.quantity,
                base_quantity=e.base_quantity,
                scrap_pct=e.scrap_pct,
            )
        )
    operations = []
    for item in items:
        if not item.make:
            continue
        for n in range(rng.randint(1, 3)):
            wc = rng.randrange(N_WORK_CENTERS)
            skill = rng.randrange(N_SKILLS) if rng.random() < 0.5 else None
            operations.append(
                OperationIn(
                    item=item.code,
                    step_no=(n + 1) * 10,
                    name=f"Op {(n + 1) * 10}",
                    work_center=f"WC{wc:02d}",
                    setup_minutes=Decimal(rng.choice([0, 15, 30, 60])),
                    run_minutes=Decimal(rng.randint(5, 300)) / 10,
                    skill=f"SK{skill:02d}" if skill is not None else None,
                    skill_level=2 if skill is not None else None,
                    equipment=f"M{wc:02d}-{rng.randint(1, 2)}" if rng.random() < 0.8 else None,
                )
            )
    rates = Rates(
        version="BENCH",
        labour_by_skill={(f"SK{s:02d}", 2): Decimal(30 + s) for s in range(0, N_SKILLS, 2)},
        labour_by_work_center={f"WC{w:02d}": Decimal(25 + w) for w in range(N_WORK_CENTERS)},
        machine_by_equipment={
            f"M{w:02d}-{m}": Decimal(10 + w + m) for w in range(N_WORK_CENTERS) for m in (1, 2)
        },
        overhead_by_work_center={
            f"WC{w:02d}": Overhead("per_hour", Decimal(12))
            if w % 2
            else Overhead("percent", Decimal(15))
            for w in range(N_WORK_CENTERS)
        },
        purchase_price={i.code: Decimal(rng.randint(50, 5000)) / 100 for i in items if not i.make},
    )
    return items, components, operations, rates


def engine_bench(args) -> None:
    items, components, operations, rates = plant(args.items, args.seed)
    print(
        f"plant: {len(items):,} items ({sum(i.make for i in items):,} make), "
        f"{max(i.level for i in items) + 1} levels, {len(components):,} BOM lines, "
        f"{len(operations):,} operations"
    )
    for run in range(1, args.repeat + 1):
        t = time.perf_counter()
        result = standard_cost_rollup(
            items=items, components=components, operations=operations, rates=rates
        )
        wall = time.perf_counter() - t
        lines = sum(len(r.lines) for r in result.values())
        incomplete = sum(not r.complete for r in result.values())
        print(
            f"(a) engine run {run}: {wall:.2f} s — {len(result):,} items, {lines:,} lines, "
            f"{incomplete} incomplete"
        )


def service_bench(args) -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["CLOSEDLOOP_VAR_DIR"] = tempfile.mkdtemp(prefix="closedloop-rollup-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from costing.models import (
        CostVersion,
        LabourRate,
        MachineRate,
        OverheadRate,
        PurchasePrice,
    )
    from costing.services.rollup import standard_cost_rollup_run
    from planning.models import Bom, BomLine, Routing, RoutingStep
    from resources.models import Area, Equipment, Item, Site, Skill, WorkCenter

    name = str(settings.DATABASES["default"]["NAME"])
    if connection.vendor != "sqlite" and "bench" not in name:
        sys.exit("Refusing to empty a database whose name does not contain 'bench'.")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)

    items, components, operations, rates = plant(args.items, args.seed)
    t = time.perf_counter()
    site = Site.objects.create(code="B", name="Bench")
    area = Area.objects.create(site=site, code="B", name="Bench")
    wcs = {
        code: WorkCenter.objects.create(area=area, code=code, name=code)
        for code in rates.labour_by_work_center
    }
    machines = {
        code: Equipment.objects.create(work_center=wcs[f"WC{code[1:3]}"], code=code, name=code)
        for code in rates.machine_by_equipment
    }
    skills = {
        f"SK{s:02d}": Skill.objects.create(code=f"SK{s:02d}", name="s") for s in range(N_SKILLS)
    }
    Item.objects.bulk_create(
        [
            Item(
                code=i.code,
                name=i.code,
                source="make" if i.make else "buy",
                low_level_code=i.level,
                lot_policy="fixed",
                lot_size=i.lot_size,
            )
            for i in items
        ],
        batch_size=2000,
    )
    item_ids = dict(Item.objects.values_list("code", "pk"))
    base = {c.parent: c.base_quantity for c in components}
    Bom.objects.bulk_create(
        [Bom(item_id=item_ids[p], base_quantity=b) for p, b in base.items()], batch_size=2000
    )
    bom_ids = dict(Bom.objects.values_list("item__code", "pk"))
    BomLine.objects.bulk_create(
        [
            BomLine(
                bom_id=bom_ids[c.parent],
                line_no=c.line_no,
                component_id=item_ids[c.component],
                quantity=c.quantity,
                scrap_pct=c.scrap_pct,
            )
            for c in components
        ],
        batch_size=2000,
    )
    Routing.objects.bulk_create(
        [Routing(item_id=item_ids[i.code]) for i in items if i.make], batch_size=2000
    )
    routing_ids = dict(Routing.objects.values_list("item__code", "pk"))
    RoutingStep.objects.bulk_create(
        [
            RoutingStep(
                routing_id=routing_ids[o.item],
                step_no=o.step_no,
                name=o.name,
                work_center=wcs[o.work_center],
                setup_minutes=o.setup_minutes,
                run_minutes_per_unit=o.run_minutes,
                required_skill=skills[o.skill] if o.skill else None,
                min_skill_level=o.skill_level or 2,
            )
            for o in operations
        ],
        batch_size=2000,
    )
    step_ids = dict(
        ((code, no), pk)
        for pk, code, no in RoutingStep.objects.values_list("pk", "routing__item__code", "step_no")
    )
    through = RoutingStep.eligible_equipment.through
    through.objects.bulk_create(
        [
            through(
                routingstep_id=step_ids[o.item, o.step_no], equipment_id=machines[o.equipment].pk
            )
            for o in operations
            if o.equipment
        ],
        batch_size=2000,
    )
    version = CostVersion.objects.create(code="BENCH", name="Bench", effective_from="2026-01-01")
    LabourRate.objects.bulk_create(
        [
            LabourRate(version=version, skill=skills[s], skill_level=lvl, rate_per_hour=r)
            for (s, lvl), r in rates.labour_by_skill.items()
        ]
        + [
            LabourRate(version=version, work_center=wcs[w], rate_per_hour=r)
            for w, r in rates.labour_by_work_center.items()
        ]
    )
    MachineRate.objects.bulk_create(
        [
            MachineRate(version=version, equipment=machines[m], depreciation_per_hour=r)
            for m, r in rates.machine_by_equipment.items()
        ]
    )
    OverheadRate.objects.bulk_create(
        [
            OverheadRate(version=version, work_center=wcs[w], basis=o.basis, rate=o.rate)
            for w, o in rates.overhead_by_work_center.items()
        ]
    )
    PurchasePrice.objects.bulk_create(
        [
            PurchasePrice(version=version, item_id=item_ids[c], price=p)
            for c, p in rates.purchase_price.items()
        ],
        batch_size=2000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"(b) plant written to {connection.vendor} ({name}) in {time.perf_counter() - t:.1f} s")
    from costing.selectors.rollup import rollup_input_load

    t = time.perf_counter()
    data = rollup_input_load(version)
    load = time.perf_counter() - t
    t = time.perf_counter()
    standard_cost_rollup(**data)
    print(
        f"(b) of which: input load (selectors) {load:.2f} s, engine "
        f"{time.perf_counter() - t:.2f} s (the rest of a run is storing)"
    )
    for label in ("first run (inserts)", "re-run (updates)"):
        t = time.perf_counter()
        run = standard_cost_rollup_run(version=version)
        wall = time.perf_counter() - t
        print(
            f"(b) service {label}: {wall:.2f} s — {run.items_costed:,} items, "
            f"{run.items_incomplete} incomplete"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--service", action="store_true")
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, load {os.getloadavg()}")
    print(f"reference: Python loop of 10M additions {python_loop_seconds():.2f} s")
    engine_bench(args)
    if args.service:
        service_bench(args)
    print(f"reference: Python loop of 10M additions {python_loop_seconds():.2f} s")


if __name__ == "__main__":
    main()
