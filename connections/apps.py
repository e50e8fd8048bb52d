from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Connections"

    def ready(self) -> None:
        # Registration by import, once the app registry is ready: the system checks, and the
        # Celery tasks that services send by name (``dispatch.Task``) in every process.
        from connections import checks, tasks  # noqa: F401
