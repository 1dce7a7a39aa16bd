"""`LabelsAlter` (core/migration_operations.py): label-only migrations change the migration
state, render the models once, and refuse a change that would reach a column."""

import pytest
from django.db import models
from django.db.migrations import AlterField, RunSQL
from django.db.migrations.loader import MigrationLoader

from core.migration_operations import LabelsAlter

LABELS = ("devices", "0006_field_labels")


@pytest.fixture(scope="module")
def before_and_operation():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    (operation,) = loader.get_migration(*LABELS).operations
    before = loader.project_state([p.key for p in loader.graph.node_map[LABELS].parents])
    return before, operation


def test_labels_reach_the_rendered_models(before_and_operation):
    before, operation = before_and_operation
    assert isinstance(operation, LabelsAlter)
    old = before.apps.get_model("devices", "Telemetry")
    assert old._meta.verbose_name_plural == "telemetrys"
    after = before.clone()
    operation.state_forwards("devices", after)
    new = after.apps.get_model("devices", "Telemetry")
    assert new._meta.verbose_name_plural == "telemetry"
    assert str(new._meta.get_field("at").verbose_name) == "at"
    # The rendered models point at each other's new classes, not at the ones before.
    equipment = new._meta.get_field("equipment").related_model
    assert equipment is after.apps.get_model("resources", "Equipment")
    assert equipment is not before.apps.get_model("resources", "Equipment")
    operation.columns_check("devices", before)  # the migration's own changes are labels only


def test_a_change_that_reaches_a_column_is_refused(before_and_operation):
    before, _ = before_and_operation
    label = LabelsAlter(
        [AlterField("telemetry", "at", models.DateTimeField(verbose_name="read at"))]
    )
    label.columns_check("devices", before)
    column = LabelsAlter(
        [AlterField("telemetry", "at", models.DateTimeField(null=True, verbose_name="at"))]
    )
    with pytest.raises(ValueError, match="devices.telemetry.at: the change reaches"):
        column.columns_check("devices", before)
    with pytest.raises(TypeError, match="LabelsAlter takes"):
        LabelsAlter([RunSQL("SELECT 1")])
