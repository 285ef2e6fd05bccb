"""Pages for agents outside the admin's own URLs: the screen pop."""

from django.urls import path

from crm import views

app_name = "crm"

urlpatterns = [
    path("caller/", views.caller, name="caller"),
]
