from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Quality"

    def ready(self) -> None:
        # Execution asks these before it records an event (quality imports execution, never
        # the reverse). Both read only quality's tables and the units' first events, which a
        # batch being ingested cannot change, so they may be asked inside a batch too.
        from execution.services.events import gate_register

        from .services.holds import hold_gate_check
        from .services.inspections import inspection_gate_check

        gate_register(inspection_gate_check, batch_safe=True)
        gate_register(hold_gate_check, batch_safe=True)
        # Issues a trace code when a unit or lot first appears in a production event.
        from .services import trace  # noqa: F401
