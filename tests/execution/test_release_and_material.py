"""Release: tasks, assignment by skill and shift, dispatching, material control."""

from datetime import date
from decimal import Decimal

import pytest

from execution.models import (
    DispatchDecision,
    IssueApproval,
    MaterialRequirement,
    MaterialShortage,
    Task,
)
from execution.selectors.tasks import operator_candidates
from execution.services.material import material_issue
from execution.services.tasks import dispatch_next, task_assign
from planning.models import OrderOperation, PurchaseRequisition
from resources.models import (
    Equipment,
    Operator,
    OperatorSkill,
    ShiftAssignment,
    StockBalance,
    StockLocation,
)
from resources.services.stock import stock_move_record

pytestmark = pytest.mark.django_db


def test_release_creates_tasks_and_requirements(released):
    tasks = list(Task.objects.filter(order=released).order_by("operation__sequence"))
    assert [(t.operation.sequence, t.status) for t in tasks] == [
        (10, "ready"),
        (20, "queued"),
        (30, "queued"),
        (40, "blocked"),  # 50 bearings needed, 30 in stock: assembly waits for them
    ]
    reqs = {
        r.item.code: r.quantity_required for r in MaterialRequirement.objects.filter(order=released)
    }
    assert reqs == {"STEEL-42": Decimal(100), "BRG-6205": Decimal(50), "HSG-100": Decimal(50)}


def test_bearing_shortage_in_the_demo(released):
    shortage = MaterialShortage.objects.get()
    assert shortage.requirement.item.code == "BRG-6205"
    assert shortage.requirement.quantity_required == 50 and shortage.quantity_short == 20
    requisition = shortage.requisition
    assert requisition.urgent and requisition.quantity == 20 and requisition.item.code == "BRG-6205"
    assert PurchaseRequisition.objects.count() == 1


def test_transfer_proposed_when_another_location_has_the_stock(demo_plant):
    from planning.models import ProductionOrder
    from planning.services.orders import production_order_release

    line = StockLocation.objects.get(code="LINE-ASM")
    Equipment.objects.get(code="ASM-01").work_center.__class__.objects.filter(code="ASM").update(
        issue_location=line
    )
    bearing = StockBalance.objects.get(item__code="BRG-6205").item
    stock_move_record(
        item=bearing,
        location=StockLocation.objects.get(code="WH-RAW"),
        lot=bearing.lots.first(),
        quantity=Decimal(40),
        kind="receipt",
    )
    production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00001"))
    shortage = MaterialShortage.objects.get(requirement__item=bearing)
    assert shortage.transfer_from.code == "WH-RAW" and shortage.transfer_quantity == 50
    assert shortage.requisition is None


def test_auto_assignment_respects_skill_level_and_shift(released):
    machining = Task.objects.get(order=released, operation__sequence=20)
    assert machining.operator.user.username == "zhangsan"  # the CNC expert, not lisi (trainee)
    op = machining.operation
    op.min_skill_level = 3
    ranked = [
        c["operator"].user.username
        for c in operator_candidates(operation=op, day=date(2026, 12, 1))
    ]
    assert ranked == ["zhangsan"]
    sunday = date(2026, 11, 29)  # nobody's shift runs on Sunday
    assert operator_candidates(operation=op, day=sunday) == []
    ShiftAssignment.objects.filter(operator__badge="OP-001").update(valid_to=date(2026, 11, 30))
    assert operator_candidates(operation=op, day=date(2026, 12, 1)) == []


def test_supervisor_override_checks_the_skill(released):
    machining = Task.objects.get(order=released, operation__sequence=20)
    lisi = Operator.objects.get(badge="OP-002")  # CNC trainee; machining needs qualified
    with pytest.raises(Exception, match="does not hold CNC at qualified"):
        task_assign(task=machining, operator=lisi)
    OperatorSkill.objects.filter(operator=lisi, skill__code="CNC").update(level=2)
    assert task_assign(task=machining, operator=lisi, note="zhangsan on leave").operator == lisi


def test_dispatch_prefers_work_whose_other_machine_is_full(released):
    cnc1, cnc2 = Equipment.objects.get(code="CNC-01"), Equipment.objects.get(code="CNC-02")
    # Both machines have cylinder-head batches queued; CNC-01 gets much more of them.
    heads = list(Task.objects.filter(order__number__startswith="MO-BG-").order_by("pk"))
    for t in heads[:-2]:
        Task.objects.filter(pk=t.pk).update(equipment=cnc1, status="queued")
    Task.objects.filter(pk=heads[-2].pk).update(equipment=cnc2, status="queued")
    # Two ready candidates: the machining of engine blocks (CNC-01 or CNC-02) and a head batch
    # that may only run on CNC-02.
    blocks = Task.objects.get(order=released, operation__sequence=20)
    Task.objects.filter(pk=blocks.pk).update(status="ready", equipment=None)
    OrderOperation.objects.filter(pk=blocks.operation_id).update(equipment=None)
    last = heads[-1]
    Task.objects.filter(pk=last.pk).update(status="ready", equipment=None)
    last.operation.eligible_equipment.set([cnc2])
    chosen = dispatch_next(equipment=cnc2)
    assert chosen.pk == last.pk  # only CNC-02 can run it
    decision = DispatchDecision.objects.get(task=chosen)
    assert "can only run here" in decision.reason and len(decision.candidates) == 2
    assert dispatch_next(equipment=cnc2).pk == last.pk  # still next until it starts
    Task.objects.filter(pk=last.pk).update(status="running")
    chosen = dispatch_next(equipment=cnc2)
    assert chosen.pk == blocks.pk and chosen.equipment.code == "CNC-02"
    assert "loaded" in DispatchDecision.objects.filter(task=chosen).first().reason


def test_over_issue_needs_approval(released, django_user_model):
    steel = MaterialRequirement.objects.get(order=released, item__code="STEEL-42")
    raw = StockLocation.objects.get(code="WH-RAW")
    lot = steel.item.lots.get()
    issue = material_issue(
        requirement=steel, quantity=Decimal(100), location=raw, lot=lot, external_id="i1"
    )
    assert issue.quantity == 100
    assert (
        material_issue(
            requirement=steel, quantity=Decimal(100), location=raw, lot=lot, external_id="i1"
        )
        == issue
    )
    within = material_issue(
        requirement=steel, quantity=Decimal(2), location=raw, lot=lot, external_id="i2"
    )
    assert within.quantity == 2  # 2 % tolerance
    before = StockBalance.objects.get(item=steel.item).on_hand
    approval = material_issue(
        requirement=steel, quantity=Decimal(5), location=raw, lot=lot, external_id="i3"
    )
    assert isinstance(approval, IssueApproval) and approval.status == "pending"
    assert StockBalance.objects.get(item=steel.item).on_hand == before  # nothing moved yet
    from django.contrib.auth import get_user_model

    from execution.services.material import issue_approval_decide

    planner = get_user_model().objects.get(username="zhouba")
    approved = issue_approval_decide(
        approval=approval, approve=True, by=planner, note="casting scrap", password="closedloop"
    )
    assert approved.status == "approved" and approved.issue.quantity == 5
    assert StockBalance.objects.get(item=steel.item).on_hand == before - 5
    steel.refresh_from_db()
    assert steel.quantity_issued == 107


def test_bad_issue_quantities_and_labels_are_refused(released):
    from django.core.exceptions import ValidationError

    from core.parsing import barcode_parse

    steel = MaterialRequirement.objects.get(order=released, item__code="STEEL-42")
    raw = StockLocation.objects.get(code="WH-RAW")
    for bad in (Decimal("NaN"), Decimal("Infinity"), Decimal(0), Decimal(10) ** 15):
        with pytest.raises(ValidationError):
            material_issue(requirement=steel, quantity=bad, location=raw, external_id=f"bad-{bad}")
    for label in ("STEEL-42*L1*NaN", "STEEL-42*L1*-5", "STEEL-42", "STEEL-42*L1*x"):
        with pytest.raises(ValidationError, match="Unreadable label"):
            barcode_parse(label)
    assert barcode_parse("STEEL-42*L1*25") == ("STEEL-42", "L1", Decimal(25))
