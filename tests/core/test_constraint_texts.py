"""A save the database's rules refuse says why in the reader's language: every model
constraint's message has a Chinese translation, and full_clean() reports it in Chinese."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import BaseConstraint
from django.utils import translation


def _ours(model) -> bool:
    path = Path(model._meta.app_config.path)
    return path.is_relative_to(settings.BASE_DIR) and ".venv" not in path.parts


def _constraints():
    for model in apps.get_models():
        if not _ours(model):
            continue
        for constraint in model._meta.constraints:
            message = constraint.violation_error_message
            if message and message != BaseConstraint.default_violation_error_message:
                yield model, constraint


def test_every_constraint_message_reads_in_chinese():
    found = list(_constraints())
    assert len(found) > 50
    untranslated = []
    for model, constraint in found:
        with translation.override("en"):
            english = constraint.get_violation_error_message()
        with translation.override("zh-hans"):
            chinese = constraint.get_violation_error_message()
        if chinese == english:
            untranslated.append(f"{model._meta.label}.{constraint.name}: {english}")
    assert not untranslated


@pytest.mark.django_db
def test_a_refused_save_says_why_in_chinese():
    from resources.models import Item

    item = Item(code="RAW-1", name="Bar", source="buy", uom="kg", standard_cost=Decimal("-1"))
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        item.validate_constraints()
    assert "standard_cost 不得为负。" in refused.value.messages


def test_a_list_of_fields_is_joined_in_the_readers_language():
    from costing.models import MachineRate

    constraint = next(c for c in MachineRate._meta.constraints if c.name.endswith("nonnegative"))
    with translation.override("zh-hans"):
        assert constraint.get_violation_error_message() == (
            "depreciation_per_hour、energy_per_hour、maintenance_per_hour 不得为负。"
        )
