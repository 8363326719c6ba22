from django.contrib.auth.views import LogoutView
from django.urls import URLPattern, path

from accounts import views

urlpatterns: list[URLPattern] = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    # Django's LogoutView answers POST only, so a link or a prefetch cannot sign anybody out.
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("invite/<str:token>/", views.invitation, name="invitation"),
]
