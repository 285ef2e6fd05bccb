"""POST /api/interactions: Genesys writes each conversation event back (design §7)."""

import datetime as dt
import logging
import re
import time

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from crm.interactions import CREATED, EVENTS, InteractionEvent, interaction_record
from crm.models import Interaction
from lookup.api.base import TokenJsonApi
from lookup.api.schema import ERROR_RESPONSES
from lookup.api.serializers import ErrorSerializer

logger = logging.getLogger(__name__)

# Genesys' detail-event topics spell these in upper case (VOICE, INBOUND); stored lower-case.
MEDIA_TYPES = frozenset(
    {"voice", "chat", "email", "callback", "cobrowse", "video", "screenshare", "message", "unknown"}
)
DIRECTIONS = frozenset(Interaction.Direction.values)
# Events older than this are refused as a unit mistake (seconds sent as milliseconds lands in 1970).
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# A clock a little ahead is tolerated; a day ahead is a wrong value.
FUTURE_SLACK = dt.timedelta(days=1)
MAX_DURATION_MS = 31 * 24 * 3600 * 1000

# Optional text fields: body key, model max length (None: unbounded text).
TEXT_FIELDS = {
    "ani": 100,
    "dnis": Interaction._meta.get_field("dnis").max_length,
    "disconnectType": Interaction._meta.get_field("disconnect_type").max_length,
    "queueId": Interaction._meta.get_field("queue_id").max_length,
    "userId": Interaction._meta.get_field("agent_id").max_length,
    "wrapupCode": Interaction._meta.get_field("wrapup_code").max_length,
    "wrapupNotes": 4000,
}
CONVERSATION_ID_MAX = Interaction._meta.get_field("conversation_id").max_length
# Genesys' conversation IDs are UUIDs; any printable ASCII without spaces is accepted.
CONVERSATION_ID = re.compile(r"[!-~]+")


class Invalid(exceptions.ParseError):
    """A 400 naming the one field that is wrong."""


def _text(body: dict, key: str, limit: int) -> str | None:
    """An optional string: absent, null and "" (what a workflow sends for an empty variable) are None."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid(f"{key} must be a string or null")
    if len(value) > limit:
        raise Invalid(f"{key} must be at most {limit} characters")
    return value


def _integer(value, key: str) -> int:
    """An integer, or a string of digits (a data action's template may quote numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Invalid(f"{key} must be an integer number of milliseconds")
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit():
            raise Invalid(f"{key} must be an integer number of milliseconds")
        value = int(value)
    if value < 0:
        raise Invalid(f"{key} must not be negative")
    return value


def _event_time(body: dict) -> dt.datetime:
    if body.get("eventTime") in (None, ""):
        raise Invalid("Missing eventTime field (milliseconds since the epoch, e.g. 1709649000000)")
    value = body["eventTime"]
    if isinstance(value, str) and not value.isdigit():
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid("eventTime must be milliseconds since the epoch or an ISO 8601 time") from None
        if when.tzinfo is None:
            raise Invalid("eventTime in ISO 8601 needs a time zone, e.g. 2024-03-05T14:30:00Z")
    else:
        ms = _integer(value, "eventTime")
        try:
            when = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise Invalid("eventTime is out of range") from None
    if not EARLIEST <= when <= dt.datetime.now(dt.UTC) + FUTURE_SLACK:
        raise Invalid("eventTime is out of range (before 2000 or more than a day ahead); milliseconds, not seconds")
    return when


def _choice(body: dict, key: str, choices: frozenset) -> str | None:
    value = _text(body, key, 30)
    if value is None:
        return None
    if value.lower() not in choices:
        raise Invalid(f"{key} must be one of {', '.join(sorted(c.upper() for c in choices))}")
    return value.lower()


def parse_event(body) -> InteractionEvent:
    """The request body as an InteractionEvent, or Invalid naming the first malformed field."""
    if not isinstance(body, dict):
        raise Invalid('Request body must be a JSON object such as {"conversationId": "...", "event": "customer_end"}')
    conversation_id = body.get("conversationId")
    if conversation_id in (None, ""):
        raise Invalid("Missing conversationId field")
    if not isinstance(conversation_id, str):
        raise Invalid("conversationId must be a string")
    if len(conversation_id) > CONVERSATION_ID_MAX or not CONVERSATION_ID.fullmatch(conversation_id):
        raise Invalid(f"conversationId must be at most {CONVERSATION_ID_MAX} printable ASCII characters, no spaces")
    event = body.get("event")
    if event in (None, ""):
        raise Invalid("Missing event field (customer_end or after_call_work)")
    if event not in EVENTS:
        raise Invalid("event must be customer_end or after_call_work")
    texts = {key: _text(body, key, limit) for key, limit in TEXT_FIELDS.items()}
    duration = body.get("durationMs")
    duration = None if duration in (None, "") else _integer(duration, "durationMs")
    if duration is not None and duration > MAX_DURATION_MS:
        raise Invalid("durationMs is out of range (more than 31 days)")
    return InteractionEvent(
        conversation_id=conversation_id,
        event=event,
        event_time=_event_time(body),
        ani=texts["ani"],
        dnis=texts["dnis"],
        direction=_choice(body, "direction", DIRECTIONS),
        media_type=_choice(body, "mediaType", MEDIA_TYPES),
        disconnect_type=texts["disconnectType"] and texts["disconnectType"].lower(),
        duration_ms=duration,
        queue_id=texts["queueId"],
        user_id=texts["userId"],
        wrapup_code=texts["wrapupCode"],
        wrapup_notes=texts["wrapupNotes"],
    )


def _choices(values) -> list[str]:
    return sorted({*(v.upper() for v in values), *values})


class InteractionEventSerializer(serializers.Serializer):
    """Body of POST /api/interactions (documentation; parse_event validates)."""

    conversationId = serializers.RegexField(CONVERSATION_ID.pattern, max_length=CONVERSATION_ID_MAX)
    event = serializers.ChoiceField(choices=list(EVENTS))
    eventTime = serializers.IntegerField(
        min_value=int(EARLIEST.timestamp() * 1000),
        # Any time up to a day past the server's start; later is refused as a wrong clock or unit.
        max_value=int(dt.datetime.now(dt.UTC).timestamp() * 1000),
        help_text="Milliseconds since the epoch, as Genesys sends it (an ISO 8601 time with zone is accepted too).",
    )
    ani = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=TEXT_FIELDS["ani"])
    dnis = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=TEXT_FIELDS["dnis"])
    direction = serializers.ChoiceField(_choices(DIRECTIONS), required=False, allow_null=True, allow_blank=True)
    mediaType = serializers.ChoiceField(_choices(MEDIA_TYPES), required=False, allow_null=True, allow_blank=True)
    disconnectType = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=TEXT_FIELDS["disconnectType"]
    )
    durationMs = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_DURATION_MS)
    queueId = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=TEXT_FIELDS["queueId"]
    )
    userId = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=TEXT_FIELDS["userId"])
    wrapupCode = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=TEXT_FIELDS["wrapupCode"]
    )
    wrapupNotes = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=TEXT_FIELDS["wrapupNotes"]
    )


class InteractionResultDataSerializer(serializers.Serializer):
    conversationId = serializers.CharField()
    customerId = serializers.CharField(help_text="The matched customer, or an empty string for an unknown caller.")


class InteractionResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged"])
    data = InteractionResultDataSerializer()


class InteractionRecordApi(TokenJsonApi):
    """Record one event of a conversation; idempotent, merged per conversationId in any order."""

    throttle_scope = "interactions"

    @extend_schema(
        operation_id="interaction_record",
        summary="Record one event of a Genesys conversation",
        request=InteractionEventSerializer,
        responses={
            201: OpenApiResponse(InteractionResultSerializer, description="The conversation's first event"),
            200: OpenApiResponse(InteractionResultSerializer, description="Merged into the conversation, or a repeat"),
            **ERROR_RESPONSES,
            400: OpenApiResponse(ErrorSerializer, description="A missing or malformed field, named in the message"),
        },
    )
    def post(self, request):
        event = parse_event(request.data)
        result = interaction_record(event=event)
        customer = result.interaction.customer
        self.log(
            "recorded",
            f"conversation={event.conversation_id} event={event.event} outcome={result.outcome}"
            f" customer={customer.customer_id if customer else '-'}",
        )
        body = {
            "status": result.outcome,
            "data": {"conversationId": event.conversation_id, "customerId": customer.customer_id if customer else ""},
        }
        return Response(body, status=status.HTTP_201_CREATED if result.outcome == CREATED else status.HTTP_200_OK)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if response.status_code < 500:
            self.log("refused", f"status={response.status_code} reason={response.data.get('error', '')!r}")
        return response

    def log(self, what: str, details: str) -> None:
        # The audit line of every request: who sent it, what happened, how long it took.
        started = getattr(self, "started", None) or time.perf_counter()
        token_name = getattr(getattr(self.request, "user", None), "token_name", "") or "-"
        logger.info(
            "interaction %s token=%s %s ms=%.1f", what, token_name, details, (time.perf_counter() - started) * 1000
        )
