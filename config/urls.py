from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import i18n, pages

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI with its start-up script as a separate request and no inline style, so that it
    # runs under the site's Content-Security-Policy (config/security.py).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("jsi18n/<str:language>/", i18n.javascript_catalog, name="javascript-catalog"),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("rehab.api.urls")),
    path("api/v1/", include("rehab.notify.api_urls")),
    path("api/v1/", include("rehab.reminders.api_urls")),
    path("api/v1/", include("reports.api_urls")),
    # Stable links (api-contract.md, "Stable page links") that answer staff and patients with
    # different pages, from different apps: config/pages.py says why they are routed here.
    path("", pages.home, name="home"),
    path("episodes/<int:pk>/", pages.episode_page, name="episode"),
    path("", include("accounts.urls")),
    path("", include("reports.urls")),
    path("", include("reports.report_urls")),
    path("", include("rehab.urls")),
    path("", include("rehab.notify.urls")),
    path("", include("rehab.reminders.urls")),
]
