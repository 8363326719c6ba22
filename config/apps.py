from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The project itself as an app, so that its deploy checks are registered at start-up."""

    name = "config"
    label = "site_config"
    verbose_name = "Site configuration"

    def ready(self) -> None:
        # Registers the Content-Security-Policy and HSTS checks of `manage.py check --deploy`.
        from config import security  # noqa: F401
