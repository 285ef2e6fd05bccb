"""URLs of the insights pages, under /admin/insights/ and behind the admin's login."""

from django.contrib import admin
from django.urls import path

from lookup.insights.views import insights_page, unknown_callers_page

app_name = "insights"

urlpatterns = [
    path("", admin.site.admin_view(insights_page), name="index"),
    path("unknown-callers/", admin.site.admin_view(unknown_callers_page), name="unknown-callers"),
]
