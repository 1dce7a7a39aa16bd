from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = gettext_lazy("Integration (outside systems)")

    def ready(self) -> None:
        from core.events import handler

        from .engines.outbound import TOPIC_TYPES
        from .services.outbound import outbox_event_fan_out

        # Every domain topic that goes out to subscribers (docs/integration.md, "Event types").
        for topic in TOPIC_TYPES:
            handler(topic)(outbox_event_fan_out)
