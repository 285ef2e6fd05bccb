"""URL routes: the admin and its insights, the lookup API, its schema, the health check and metrics."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from lookup.api.views import CustomerLookupApi, healthz, metrics_view
from lookup.contract import LOOKUP_PATH

# The schema and its docs describe a public contract, so they are readable without a token.
public = {"authentication_classes": [], "permission_classes": [AllowAny]}

admin.site.site_header = "Customer CRM"
admin.site.site_title = "Customer CRM"
admin.site.index_title = "Customers, tiers and caller lookup"
admin.site.site_url = None  # there is no public site: the admin is the product's UI

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/insights/", include("lookup.insights.urls")),  # before the admin's catch-all
    path("admin/", include("security.urls")),  # sign-in with lockout and two factors, before the admin's own
    path("admin/", admin.site.urls),
    path(LOOKUP_PATH.removeprefix("/"), CustomerLookupApi.as_view(), name="customer-lookup"),
    path("api/schema/", SpectacularAPIView.as_view(**public), name="api-schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", **public), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "lookup.api.errors.bad_request"
handler404 = "lookup.api.errors.page_not_found"
handler500 = "lookup.api.errors.server_error"
