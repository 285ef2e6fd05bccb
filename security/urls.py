"""Sign-in routes mounted under /admin/ before the admin's own (config/urls.py)."""

from django.urls import path

from security import views

app_name = "security"

urlpatterns = [
    path("login/", views.AdminLoginView.as_view(), name="login"),
    path("login/verify/", views.LoginVerifyView.as_view(), name="login-verify"),
    path("two-factor/", views.TwoFactorView.as_view(), name="two-factor"),
]
