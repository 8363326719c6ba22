from django.apps import AppConfig


class RehabConfig(AppConfig):
    name = "rehab"
    verbose_name = "Rehabilitation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rehab.reminders import checks  # noqa: F401  (registers the system checks)
