"""Operators and their skills, as the API (an HR system, a supervisor) writes them."""

from django.db import transaction

from ..models import Operator, OperatorSkill


@transaction.atomic
def operator_save(*, values: dict, skills: list[dict] | None, operator: Operator | None = None):
    """Create or change an operator; `skills` ([{skill, level}], when given) becomes the
    whole list: skills left out are removed, levels changed, new ones added."""
    if operator is None:
        operator = Operator(**values)
    else:
        for key, value in values.items():
            setattr(operator, key, value)
    operator.full_clean(validate_unique=False)
    operator.save()
    if skills is not None:
        wanted = {entry["skill"].pk: entry["level"] for entry in skills}
        current = {row.skill_id: row for row in OperatorSkill.objects.filter(operator=operator)}
        OperatorSkill.objects.filter(operator=operator).exclude(skill_id__in=wanted).delete()
        for skill_id, level in wanted.items():
            row = current.get(skill_id)
            if row is None:
                OperatorSkill.objects.create(operator=operator, skill_id=skill_id, level=level)
            elif row.level != level:
                OperatorSkill.objects.filter(pk=row.pk).update(level=level)
    return operator
