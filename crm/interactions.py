"""Recording Genesys conversation events as Interactions, and the customer's last interaction date."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone

from crm.models import Customer, CustomerPhone, Interaction
from crm.phones import normalize_phone

CUSTOMER_END = "customer_end"
AFTER_CALL_WORK = "after_call_work"
EVENTS = (CUSTOMER_END, AFTER_CALL_WORK)

# What record_interaction did, as the API reports it.
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass(frozen=True, slots=True)
class InteractionEvent:
    """One event of a conversation, as Genesys' detail-event topics carry it (None: not sent)."""

    conversation_id: str
    event: str
    event_time: datetime
    ani: str | None = None
    dnis: str | None = None
    direction: str | None = None
    media_type: str | None = None
    disconnect_type: str | None = None
    duration_ms: int | None = None
    queue_id: str | None = None
    user_id: str | None = None
    wrapup_code: str | None = None
    wrapup_notes: str | None = None


@dataclass(frozen=True, slots=True)
class RecordResult:
    interaction: Interaction
    outcome: str  # CREATED, UPDATED or UNCHANGED


def _customer_end_fields(event: InteractionEvent) -> dict:
    fields = {
        "ani": normalize_phone(event.ani) or "" if event.ani is not None else None,
        "dnis": event.dnis,
        "direction": event.direction,
        "media_type": event.media_type,
        "disconnect_type": event.disconnect_type,
        "duration_ms": event.duration_ms,
        "ended_at": event.event_time,
        "started_at": event.event_time - timedelta(milliseconds=event.duration_ms)
        if event.duration_ms is not None
        else None,
    }
    return {name: value for name, value in fields.items() if value is not None}


def _after_call_work_fields(event: InteractionEvent) -> dict:
    fields = {
        "queue_id": event.queue_id,
        "agent_id": event.user_id,
        "wrapup_code": event.wrapup_code,
        "wrapup_notes": event.wrapup_notes,
        "wrapup_at": event.event_time,
    }
    return {name: value for name, value in fields.items() if value is not None}


def _customer_pk_by_ani(e164: str) -> int | None:
    """The pk of the customer who owns this E.164 number (the phone's unique index), or None."""
    if not e164:
        return None
    return CustomerPhone.objects.filter(number=e164).values_list("customer_id", flat=True).first()


@transaction.atomic
def interaction_record(*, event: InteractionEvent) -> RecordResult:
    """Merge one event into its conversation's Interaction; idempotent and independent of arrival order.

    Each kind of event is applied only when it is at least as recent as the one already merged
    (a conversation may have several wrap-ups; the latest wins), so any order of the same
    events converges on the same row, and a duplicate changes nothing.
    """
    if event.event not in EVENTS:
        raise ValueError(f"unknown event {event.event!r}")
    # Row lock: two events of one conversation arriving together are merged one after the other.
    # A racing first insert is retried by get_or_create as a get, which then waits for the lock.
    interaction, created = Interaction.objects.select_for_update().get_or_create(
        conversation_id=event.conversation_id, defaults={"occurred_at": event.event_time}
    )
    if event.event == CUSTOMER_END:
        newer = interaction.ended_at is None or event.event_time >= interaction.ended_at
        fields = _customer_end_fields(event) if newer else {}
        if "ani" in fields:
            fields["customer_id"] = _customer_pk_by_ani(fields["ani"])
    else:
        newer = interaction.wrapup_at is None or event.event_time >= interaction.wrapup_at
        fields = _after_call_work_fields(event) if newer else {}
        # The wrap-up event carries the caller too: it fills what no customer end has yet, so a
        # wrap-up that arrives first is already matched.
        known = _customer_end_fields(event)
        for name in ("ani", "dnis", "direction", "media_type"):
            if name in known and not getattr(interaction, name):
                fields[name] = known[name]
        if fields.get("ani") and interaction.customer_id is None:
            fields["customer_id"] = _customer_pk_by_ani(fields["ani"])
    times = [
        t for t in (fields.get("ended_at", interaction.ended_at), fields.get("wrapup_at", interaction.wrapup_at)) if t
    ]
    fields["occurred_at"] = max(times, default=interaction.occurred_at)

    changed = {name: value for name, value in fields.items() if getattr(interaction, name) != value}
    for name, value in changed.items():
        setattr(interaction, name, value)
    if changed:
        interaction.save(update_fields=[*changed, "updated_at"])
    if interaction.customer_id is not None:
        customer_touch_last_interaction(customer_pk=interaction.customer_id, when=interaction.occurred_at)
    outcome = CREATED if created else (UPDATED if changed else UNCHANGED)
    return RecordResult(interaction, outcome)


def customer_touch_last_interaction(*, customer_pk: int, when: datetime) -> bool:
    """Move the customer's last_interaction_date forward to when's date in TIME_ZONE; never backwards.

    One conditional UPDATE: concurrent callers serialise on the row lock and PostgreSQL
    re-checks the condition against the committed row, so the latest date always wins.
    """
    day = timezone.localdate(when)
    updated = (
        Customer.objects.filter(pk=customer_pk)
        .filter(Q(last_interaction_date__isnull=True) | Q(last_interaction_date__lt=day))
        .update(last_interaction_date=day, updated_at=timezone.now())
    )
    return bool(updated)


def interactions_claim(*, numbers: list[str]) -> int:
    """Match the unknown-caller interactions from these E.164 numbers to the customers who own them now.

    Called when phones are saved (CustomerPhone.save, the import), inside their transaction: a
    customer added from the unknown-caller worklist gets the calls that put the number there.
    Interactions already matched to someone stay theirs. One indexed UPDATE (the ani index) when
    nothing is claimed; when something is, the customers' last interaction dates move forward.
    """
    numbers = [n for n in numbers if n]
    if not numbers:
        return 0
    owner = CustomerPhone.objects.filter(number=OuterRef("ani")).values("customer_id")[:1]
    claimed = Interaction.objects.filter(customer__isnull=True, ani__in=numbers).update(
        customer_id=Subquery(owner), updated_at=timezone.now()
    )
    if claimed:
        latest = (
            Interaction.objects.filter(ani__in=numbers, customer_id=Subquery(owner))
            .values("customer_id")
            .annotate(last=Max("occurred_at"))
            .order_by()
        )
        for row in latest:
            customer_touch_last_interaction(customer_pk=row["customer_id"], when=row["last"])
    return claimed
