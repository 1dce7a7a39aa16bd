"""Inspection plans (ISA-95 test specifications): the first version of a routing step's plan
and its new versions.

- A plan belongs to one routing step and is versioned by code: a new version is a new row
  (same code, version + 1) that becomes the step's active plan; records keep the version they
  were judged against.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext, pgettext

from core.audit import audit_record
from core.events import emit
from core.history import history_bulk_create
from core.policy import may
from planning.models import RoutingStep
from planning.services.routings import routing_step_inspection_plan_set

from ..models import Characteristic, InspectionPlan


def _characteristics_build(plan: InspectionPlan, specs: list[dict]) -> list[Characteristic]:
    if not specs:
        raise ValidationError(
            {"characteristics": gettext("A plan checks at least one characteristic.")}
        )
    built, seen = [], set()
    for index, spec in enumerate(specs, start=1):
        if not isinstance(spec, dict):
            raise ValidationError(
                {"characteristics": gettext("Row %(row)s: expected an object.") % {"row": index}}
            )
        name = str(spec.get("name") or "").strip()
        if name.lower() in seen:
            raise ValidationError(
                {
                    "characteristics": gettext("Row %(row)s: %(name)s appears twice.")
                    % {"row": index, "name": repr(name)}
                }
            )
        seen.add(name.lower())
        char = Characteristic(
            plan=plan,
            name=name,
            kind=spec.get("kind") or Characteristic.Kind.VARIABLE,
            nominal=spec.get("nominal"),
            lower_tolerance=spec.get("lower_tolerance"),
            upper_tolerance=spec.get("upper_tolerance"),
            unit=spec.get("unit") or "",
            description=spec.get("description") or "",
        )
        if char.kind == Characteristic.Kind.ATTRIBUTE:
            char.nominal = char.lower_tolerance = char.upper_tolerance = None
        try:
            char.full_clean(exclude=["plan"], validate_unique=False)
        except ValidationError as exc:
            joined = pgettext("an error's field or row, then its message", "%(label)s: %(message)s")
            messages = pgettext("between the clauses of a sentence", "; ").join(
                joined % {"label": k, "message": " ".join(v)} for k, v in exc.message_dict.items()
            )
            row = gettext("Row %(row)s (%(name)s)") % {
                "row": index,
                "name": name or gettext("no name"),
            }
            raise ValidationError(
                {"characteristics": joined % {"label": row, "message": messages}}
            ) from None
        built.append(char)
    return built


def _check_plan_editor(by) -> None:
    if by is not None and not may(by, "quality.inspectionplan", "new_version"):
        raise PermissionDenied(gettext("Only a quality supervisor may change inspection plans."))


def inspection_plan_create(
    *,
    code: str,
    routing_step: RoutingStep,
    characteristics: list[dict],
    sampling: str = InspectionPlan.Sampling.EVERY_UNIT,
    sample_every: int = 1,
    gate: bool = True,
    by=None,
) -> InspectionPlan:
    """The first version of a plan for a routing step; the step then refers to its code."""
    _check_plan_editor(by)
    with transaction.atomic():
        if InspectionPlan.objects.filter(code=code).exists():
            raise ValidationError(
                {
                    "code": gettext("%(code)s exists; make a new version of it instead.")
                    % {"code": code}
                }
            )
        if InspectionPlan.objects.filter(routing_step=routing_step, active=True).exists():
            raise ValidationError(
                {
                    "routing_step": gettext("%(step)s already has an active inspection plan.")
                    % {"step": routing_step}
                }
            )
        plan = InspectionPlan(
            code=code,
            version=1,
            routing_step=routing_step,
            sampling=sampling,
            sample_every=sample_every,
            gate=gate,
        )
        plan.full_clean()
        plan.save()
        history_bulk_create(Characteristic, _characteristics_build(plan, characteristics))
        routing_step_inspection_plan_set(routing_step=routing_step, code=code)
        audit_record(actor=by, action="inspection_plan.create", obj=plan)
        emit("quality.plan.created", {"plan_id": plan.pk, "code": code, "version": 1})
    return plan


def inspection_plan_new_version(
    *,
    plan: InspectionPlan,
    characteristics: list[dict] | None = None,
    sampling: str | None = None,
    sample_every: int | None = None,
    gate: bool | None = None,
    by=None,
) -> InspectionPlan:
    """A new version of the plan (same code, version + 1) that becomes the routing step's
    active plan; what is not given is copied from the version it replaces."""
    _check_plan_editor(by)
    with transaction.atomic():
        # Lock every version of the code: two editors cannot both make version n + 1.
        versions = list(
            InspectionPlan.objects.select_for_update().filter(code=plan.code).order_by("pk")
        )
        base = next(p for p in versions if p.pk == plan.pk)
        latest = max(p.version for p in versions)
        new = InspectionPlan(
            code=base.code,
            version=latest + 1,
            routing_step_id=base.routing_step_id,
            sampling=sampling or base.sampling,
            sample_every=base.sample_every if sample_every is None else sample_every,
            gate=base.gate if gate is None else gate,
            active=True,
        )
        new.full_clean(exclude=["active"], validate_constraints=False)
        if characteristics is None:
            characteristics = [
                {
                    "name": c.name,
                    "kind": c.kind,
                    "nominal": c.nominal,
                    "lower_tolerance": c.lower_tolerance,
                    "upper_tolerance": c.upper_tolerance,
                    "unit": c.unit,
                    "description": c.description,
                }
                for c in base.characteristics.all()
            ]
        chars = _characteristics_build(new, characteristics)
        # One save each (not a bulk update), so each retired version's history shows it.
        for retired in InspectionPlan.objects.filter(
            routing_step_id=base.routing_step_id, active=True
        ):
            retired.active = False
            retired.save(update_fields=["active"])
        new.save()
        for char in chars:
            char.plan = new
        history_bulk_create(Characteristic, chars)
        audit_record(
            actor=by,
            action="inspection_plan.new_version",
            obj=new,
            data={"replaces": base.pk, "version": new.version},
        )
        emit(
            "quality.plan.version",
            {"plan_id": new.pk, "code": new.code, "version": new.version, "replaces": base.pk},
        )
    return new
