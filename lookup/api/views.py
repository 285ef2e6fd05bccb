"""The HTTP endpoints of the lookup app: the caller lookup, the health check and the metrics scrape."""

import hmac
import logging
import time

import orjson
from django.conf import settings
from django.db import DatabaseError, connection, router
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from rest_framework import exceptions, status

from crm.models import Customer
from crm.phones import normalize_phone
from crm.selectors import customer_by_customer_id, customer_by_phone
from lookup.api.base import TokenJsonApi
from lookup.api.envelope import NOT_FOUND_ENVELOPE, caller_envelope
from lookup.api.errors import DATABASE_UNAVAILABLE, MESSAGES, json_error
from lookup.api.parsers import JSONRenderer
from lookup.api.schema import LOOKUP_RESPONSES
from lookup.api.serializers import LookupByIdRequestSerializer, LookupRequestSerializer
from lookup.audit import record_lookup
from lookup.contract import REPLICA_FAILED_HINT, REPLICA_OK_HINT
from lookup.metrics import exposition
from lookup.models import LookupEvent

logger = logging.getLogger(__name__)

MISSING_FIELD = "Missing phoneNumber field"
Outcome = LookupEvent.Outcome
# Refused requests that still belong in the audit trail.
AUDITED_ERRORS = {
    status.HTTP_400_BAD_REQUEST: Outcome.BAD_REQUEST,
    status.HTTP_401_UNAUTHORIZED: Outcome.UNAUTHORIZED,
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: Outcome.BAD_REQUEST,
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: Outcome.BAD_REQUEST,
}


def string_field(body, name: str, example: str) -> str | None:
    """body[name], a string or null, or the 400 that says what the body lacks (both lookups take one field)."""
    if not isinstance(body, dict):
        raise exceptions.ParseError(f'Request body must be a JSON object such as {{"{name}": "{example}"}}')
    if name not in body:
        raise exceptions.ParseError(f"Missing {name} field")
    raw = body[name]
    if raw is not None and not isinstance(raw, str):
        raise exceptions.ParseError(f"{name} must be a string or null")
    return raw


class CustomerLookupApi(TokenJsonApi):
    """Who is calling? The caller's number in any format; the answer in the Architect envelope."""

    throttle_scope = "lookup"

    @extend_schema(
        operation_id="customer_lookup",
        summary="Look up a caller by phone number",
        request=LookupRequestSerializer,
        responses=LOOKUP_RESPONSES,
    )
    def post(self, request):
        return self.lookup(request, string_field(request.data, "phoneNumber", "+15551234567"))

    @extend_schema(
        operation_id="customer_lookup_get",
        summary="Look up a caller by phone number (query string)",
        parameters=[OpenApiParameter("phoneNumber", str, required=True, description="The caller, in any format.")],
        responses=LOOKUP_RESPONSES,
    )
    def get(self, request):
        if "phoneNumber" not in request.query_params:
            raise exceptions.ParseError(MISSING_FIELD)
        return self.lookup(request, request.query_params["phoneNumber"])

    def lookup(self, request, raw: str | None) -> HttpResponse:
        e164 = normalize_phone(raw)
        caller = None
        if e164:
            # The customer query may read from a replica: the configured router decides (design §10).
            alias = router.db_for_read(Customer, **{REPLICA_OK_HINT: True})
            try:
                caller = customer_by_phone(e164, using=alias)
            except DatabaseError as error:
                if alias in (None, "default"):
                    raise
                # The replica failed under this lookup: the router marks it down and names the primary.
                caller = customer_by_phone(e164, using=router.db_for_read(Customer, **{REPLICA_FAILED_HINT: error}))
        if caller is not None:
            outcome, body = Outcome.SUCCESS, caller_envelope(caller)
        else:
            outcome, body = (Outcome.NOT_FOUND if e164 else Outcome.NO_NUMBER), NOT_FOUND_ENVELOPE
        self.audit(outcome, phone_number=e164, customer_id=caller.pk if caller else None)
        # The envelope is final: rendered here rather than through DRF's template-response path.
        return HttpResponse(orjson.dumps(body), content_type=JSONRenderer.media_type)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        outcome = AUDITED_ERRORS.get(response.status_code)
        if outcome is not None:
            try:
                self.audit(outcome)
            except DatabaseError:
                # The caller still gets its 4xx; a lost audit row must not turn it into a 5xx.
                logger.exception("could not record a %s lookup event", outcome)
        return response

    def audit(self, outcome: str, *, phone_number: str | None = None, customer_id: int | None = None) -> None:
        started = getattr(self, "started", None) or time.perf_counter()
        record_lookup(
            outcome=outcome,
            token_name=getattr(self.request.user, "token_name", ""),
            phone_number=phone_number,
            customer_id=customer_id,
            duration_ms=(time.perf_counter() - started) * 1000,
        )


class CustomerLookupByIdApi(CustomerLookupApi):
    """Callers whose number is unknown type their customer number: the same envelope, auth, throttle and audit."""

    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="customer_lookup_by_id",
        summary="Look up a customer by the customer number the caller typed",
        request=LookupByIdRequestSerializer,
        responses=LOOKUP_RESPONSES,
    )
    def post(self, request):
        raw = string_field(request.data, "customerId", "CUST-001")
        caller = customer_by_customer_id(raw, using=router.db_for_read(Customer, **{REPLICA_OK_HINT: True}))
        if caller is not None:
            outcome, envelope = Outcome.SUCCESS, caller_envelope(caller)
        else:
            # No digits at all is the by-id form of "no usable number".
            outcome, envelope = (Outcome.NOT_FOUND if (raw or "").strip() else Outcome.NO_NUMBER), NOT_FOUND_ENVELOPE
        self.audit(outcome, customer_id=caller.pk if caller else None)
        return HttpResponse(orjson.dumps(envelope), content_type=JSONRenderer.media_type)


def healthz(request):
    """200 when the database answers a query, 503 when it does not; a replica's state is reported, never fatal."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return json_error(DATABASE_UNAVAILABLE, status.HTTP_503_SERVICE_UNAVAILABLE)
    body = {"status": "ok"}
    for db_router in router.routers:  # the replica router, when DATABASE_REPLICA_URL enables it
        if hasattr(db_router, "replica_state"):
            body["replica"] = db_router.replica_state()
    return HttpResponse(orjson.dumps(body), content_type=JSONRenderer.media_type)


def _metrics_authorized(request) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    expected = f"Bearer {settings.METRICS_TOKEN}"
    # Constant time: the comparison does not reveal how much of the token was right.
    return bool(settings.METRICS_TOKEN) and hmac.compare_digest(header.encode(), expected.encode())


def metrics_view(request):
    """GET /metrics: 404 unless METRICS_ENABLED, 401 without `Authorization: Bearer $METRICS_TOKEN`."""
    if not settings.METRICS_ENABLED:
        return json_error(MESSAGES[status.HTTP_404_NOT_FOUND], status.HTTP_404_NOT_FOUND)
    if not _metrics_authorized(request):
        response = json_error(MESSAGES[status.HTTP_401_UNAUTHORIZED], status.HTTP_401_UNAUTHORIZED)
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
