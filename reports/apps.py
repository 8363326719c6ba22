from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports and exports"

    def ready(self) -> None:
        # Registers the system check that the plotly.js bundle matches the plotly package.
        from reports import plotly_js  # noqa: F401
