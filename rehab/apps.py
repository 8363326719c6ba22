from django.apps import AppConfig


class RehabConfig(AppConfig):
    name = "rehab"
    verbose_name = "Rehabilitation"
    default_auto_field = "django.db.models.BigAutoField"
