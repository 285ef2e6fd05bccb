"""Every error under /api/ is JSON with a single `error` key (design §7)."""

import logging

import orjson
from django.db import DatabaseError
from django.http import HttpResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler, set_rollback

from lookup.contract import API_PREFIX

logger = logging.getLogger(__name__)

INTERNAL_ERROR = "Internal server error"
DATABASE_UNAVAILABLE = "Database unavailable; try again shortly"

# Messages callers see. 401 is always the tutorial's exact body, whatever the reason.
MESSAGES = {
    status.HTTP_401_UNAUTHORIZED: "Unauthorized",
    status.HTTP_403_FORBIDDEN: "Forbidden",
    status.HTTP_404_NOT_FOUND: "Not found",
}


def json_error(message: str, status_code: int) -> HttpResponse:
    """`{"error":"<message>"}`, compact like the envelope: every error body the app writes itself."""
    return HttpResponse(orjson.dumps({"error": message}), status=status_code, content_type="application/json")


class ServiceUnavailable(exceptions.APIException):
    """The database (or another backend) cannot be reached."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = DATABASE_UNAVAILABLE
    default_code = "service_unavailable"


def api_exception_handler(exc, context):
    """DRF's handler, reshaped to `{"error": "..."}`; database outages are 503, bugs 500."""
    if isinstance(exc, DatabaseError):
        logger.error("database error on %s: %s", context["request"].path, exc)
        exc = ServiceUnavailable()
    response = exception_handler(exc, context)
    if response is None:
        # A bug: log the traceback and still answer JSON, so a call flow never sees HTML.
        request = context["request"]
        logger.exception("unhandled error on %s", request.path, exc_info=exc)
        set_rollback()
        return server_error(request)  # the same answer as Django's handler500
    response.data = {"error": MESSAGES.get(response.status_code) or _detail_text(response.data)}
    return response


def _detail_text(data) -> str:
    """The first message of a DRF error payload, as plain text."""
    if isinstance(data, dict):
        data = data.get("detail", next(iter(data.values()), ""))
    if isinstance(data, list):
        data = data[0] if data else ""
    return str(data)


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def page_not_found(request, exception):
    """404: JSON under /api/, Django's page elsewhere."""
    if _is_api(request):
        return json_error(MESSAGES[status.HTTP_404_NOT_FOUND], 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500: JSON under /api/, Django's page elsewhere (the traceback is logged by Django)."""
    if _is_api(request):
        return json_error(INTERNAL_ERROR, 500)
    return defaults.server_error(request)


def bad_request(request, exception):
    """400 from Django itself (e.g. a disallowed host header): JSON under /api/."""
    if _is_api(request):
        return json_error("Bad request", 400)
    return defaults.bad_request(request, exception)
