"""MRP engine benchmark: 10,000 items over 5 BOM levels, 2,000 demands (seeded random).

    .venv/bin/python bench/mrp_bench.py [--items 10000] [--demands 2000] [--seed 1] [--repeat 3]

Prints the wall time of each `mrp_run` call (input generation excluded), the peak memory of
the process (ru_maxrss) and, from one extra run under tracemalloc, the peak Python memory
the engine itself allocates; then the counts of planned orders, pegs and messages. Not part
of the test suite: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planning.engines.mrp import (  # noqa: E402
    BomEdge,
    Demand,
    MrpInput,
    MrpItem,
    ScheduledReceipt,
    WorkCalendar,
    mrp_run,
)

LEVEL_SHARE = (0.10, 0.15, 0.20, 0.25, 0.30)  # items per level 0..4
START = date(2025, 3, 3)  # a Monday


def generate(n_items: int, n_demands: int, seed: int) -> MrpInput:
    rng = random.Random(seed)
    levels: list[list[str]] = []
    n = 0
    for depth, share in enumerate(LEVEL_SHARE):
        count = round(n_items * share) if depth < 4 else n_items - n
        levels.append([f"L{depth}-{i:05d}" for i in range(count)])
        n += count

    items = []
    for depth, codes in enumerate(levels):
        for code in codes:
            make = depth < 4 and (depth == 0 or rng.random() < 0.85)
            policy = rng.choices(["lot_for_lot", "fixed", "min_multiple"], [6, 2, 2])[0]
            lot_size = rng.choice([100, 200, 500, 1000]) if policy != "lot_for_lot" else 0
            multiple = rng.choice([0, 10, 25]) if policy == "min_multiple" else 0
            items.append(
                MrpItem(
                    code=code,
                    source="make" if make else "buy",
                    lead_time_days=rng.randint(1, 5) if make else rng.randint(2, 10),
                    lot_policy=policy,
                    lot_size=Decimal(lot_size),
                    lot_multiple=Decimal(multiple),
                    safety_stock=Decimal(rng.choice([0, 0, 0, 10, 50])),
                )
            )
    make = {i.code for i in items if i.source == "make"}

    # Every item below level 0 gets one parent on the level just above (so there really are
    # five levels); make items get 0-2 more components, some of them skipping a level.
    bom: list[BomEdge] = []
    edges: set[tuple[str, str]] = set()

    def add(parent: str, component: str) -> None:
        if (parent, component) in edges:
            return
        edges.add((parent, component))
        base = rng.choice([1, 1, 1, 10])
        bom.append(
            BomEdge(
                parent,
                component,
                quantity=Decimal(rng.choice([1, 1, 1, 1, 1, 1, 2, 2, 2, 4]) * base),
                base_quantity=Decimal(base),
                scrap_pct=Decimal(rng.choice(["0", "0", "2", "5"])),
            )
        )

    for depth in range(1, 5):
        parents = [c for c in levels[depth - 1] if c in make]
        for code in levels[depth]:
            add(rng.choice(parents), code)
    for depth in range(4):
        for code in levels[depth]:
            if code not in make:
                continue
            for _ in range(rng.randint(0, 2)):
                deeper = depth + 1 if rng.random() < 0.8 else rng.randint(depth + 1, 4)
                add(code, rng.choice(levels[deeper]))

    on_hand = {i.code: Decimal(rng.randint(0, 300)) for i in items if rng.random() < 0.7}
    allocations = {c: Decimal(rng.randint(0, 100)) for c in on_hand if rng.random() < 0.2}
    receipts = [
        ScheduledReceipt(
            id=f"OPEN-{n:05d}",
            item=code,
            quantity=Decimal(rng.randint(10, 400)),
            due=START + timedelta(days=rng.randint(-5, 60)),
            kind="production_order" if code in make else "purchase_order",
        )
        for n, code in enumerate(rng.sample([i.code for i in items], n_items // 4))
    ]
    end_items = levels[0]
    spares = levels[3] + levels[4]
    demands = []
    for n in range(n_demands):
        item = rng.choice(end_items) if rng.random() < 0.9 else rng.choice(spares)
        demands.append(
            Demand(
                id=f"D{n:05d}",
                item=item,
                quantity=Decimal(rng.randint(1, 200)),
                due=START + timedelta(days=rng.randint(5, 120)),
                priority=rng.randint(1, 9),
                kind=rng.choice(["sales_order", "forecast"]),
            )
        )
    holidays = [START + timedelta(days=d) for d in (25, 26, 60, 61, 62, 100)]
    return MrpInput(
        items=items,
        bom=bom,
        demands=demands,
        calendar=WorkCalendar(holidays=holidays),
        start=START,
        receipts=receipts,
        on_hand=on_hand,
        allocations=allocations,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--demands", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    data = generate(args.items, args.demands, args.seed)
    gen = time.perf_counter() - t0
    print(
        f"input: {len(data.items)} items, {len(data.bom)} BOM edges, {len(data.demands)} "
        f"demands, {len(data.receipts)} scheduled receipts (generated in {gen:.2f} s)"
    )

    times = []
    result = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = mrp_run(data)
        times.append(time.perf_counter() - t0)
    print("mrp_run wall time: " + ", ".join(f"{t:.2f} s" for t in times), end="")
    print(f"  (median {statistics.median(times):.2f} s)")
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS of the process: {rss_kib / 1024:.0f} MiB")

    tracemalloc.start()
    mrp_run(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory allocated by one run (tracemalloc): {peak / 2**20:.0f} MiB")

    assert result is not None
    kinds = Counter(o.kind.value for o in result.planned_orders)
    messages = Counter(m.kind.value for m in result.messages)
    pegs = sum(len(o.pegs) for o in result.planned_orders)
    levels = Counter(result.low_level_codes.values())
    print(f"low-level codes: {dict(sorted(levels.items()))}")
    print(
        f"planned orders: {len(result.planned_orders)} "
        f"({kinds['production']} production, {kinds['purchase']} purchase); pegs: {pegs}"
    )
    print(f"messages: {len(result.messages)} {dict(sorted(messages.items()))}")
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")


if __name__ == "__main__":
    main()
