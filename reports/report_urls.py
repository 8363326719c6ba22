from __future__ import annotations

from django.urls import URLPattern, path

from reports import report_views

urlpatterns: list[URLPattern] = [
    # Stable links (api-contract.md, "Stable page links").
    path("episodes/<int:pk>/report/", report_views.referral_report_page, name="episode-report"),
    path(
        "episodes/<int:pk>/report.pdf", report_views.referral_report_pdf, name="episode-report-pdf"
    ),
    path("reports/outcomes/", report_views.outcomes_page, name="outcomes-report"),
    path(
        "reports/outcomes.csv",
        report_views.outcomes_page,
        {"as_csv": True},
        name="outcomes-report-csv",
    ),
]
