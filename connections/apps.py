from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Connections"

    def ready(self) -> None:
        # Registration by import, once the app registry is ready: the system checks, and the
        # Celery tasks that services send by name (``dispatch.Task``) in every process.
        # And the Sandbox ERP's consent page names the partner's app: its one practice client
        # is shared by every partner, so Onramp says whose sign-in a state is (the catalog
        # imports nothing from connections).
        from catalog import sandbox_oauth
        from connections import checks, tasks  # noqa: F401
        from connections.selectors import sign_in_app_name

        sandbox_oauth.app_name_for_state = sign_in_app_name
