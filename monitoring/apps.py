from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from django.conf import settings

        from monitoring.live import connect_signals

        if settings.STEPWISE_LIVE_UPDATES:
            connect_signals()
