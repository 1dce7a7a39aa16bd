from django.apps import AppConfig
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as _


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = gettext_lazy("Quality")

    def ready(self) -> None:
        # Imported here: the role helpers load auth's models, which need the app registry.
        from core.navigation import nav_register
        from core.roles import QUALITY_ROLES, Role

        # Recording inspections: who may record them (the policy's quality.inspectionrecord / add) but operators,
        # who record theirs at the terminal.
        nav_register(
            label=_("Inspect"),
            url_name="quality:inspect",
            roles=(Role.INSPECTOR, Role.SUPERVISOR, Role.QUALITY_SUPERVISOR),
            position=90,
        )
        nav_register(
            label=_("Trace"),
            url_name="quality:trace",
            roles=(*QUALITY_ROLES, Role.OPERATOR, Role.PLANNER),
            position=100,
        )
        nav_register(label=_("Holds"), url_name="quality:holds", roles=QUALITY_ROLES, position=110)
        nav_register(
            label=_("Quality"),
            url_name="quality:reports",
            roles=(*QUALITY_ROLES, Role.PLANNER),
            position=120,
        )
        # The quality roles land on the inspection page: inspections due and open holds,
        # with their counts (core/homes.py); the plant manager reads first-pass yield.
        from core.homes import home_register, kpi_register

        from .selectors.kpis import fpy_kpi

        home_register(role=Role.QUALITY_SUPERVISOR, url_name="quality:inspect", priority=50)
        home_register(role=Role.INSPECTOR, url_name="quality:inspect", priority=55)
        kpi_register(
            key="fpy",
            label=_("First-pass yield (30 days)"),
            compute=fpy_kpi,
            position=40,
            url_name="quality:reports",
        )
        # Imported here, not at the top: the services import models, which cannot load
        # before the app registry is ready.
        # Execution asks these before it records an event (quality imports execution, never
        # the reverse). Both read quality's tables; the inspection gate's every-n-th sampling
        # also reads where a unit first appeared in the log. A batch run writes its events
        # at its end, and a log without them can only make that gate stricter, which the
        # batch path allows for (see execution/services/ingest.py): both are batch-safe.
        from execution.services.events import gate_register

        from .services.gate import inspection_gate_check
        from .services.holds import hold_gate_check

        gate_register(inspection_gate_check, batch_safe=True)
        gate_register(hold_gate_check, batch_safe=True)
        # A hold's exception is closed by releasing the hold, not on its own.
        from execution.services.alerts import resolve_check_register

        from .services.holds import hold_resolve_check

        resolve_check_register(hold_resolve_check)
        # The operator terminal shows a task a hold stops, before anyone taps Start.
        from execution.selectors.tasks import task_notice_register

        from .selectors.holds import hold_task_notices

        task_notice_register(hold_task_notices)
        # Issues a trace code when a unit or lot first appears in a production event.
        # The permission policy's object rule for recording inspections.
        from core.policy import scope_register

        from .selectors.ownership import inspection_rule
        from .services import trace  # noqa: F401

        scope_register("quality.inspectionrecord", inspection_rule)
