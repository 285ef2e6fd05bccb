"""Lookup API tokens (stored as digests) and the audit trail of lookups."""

import datetime
import hashlib
import secrets

from django.db import connections, models
from django.utils import timezone

from crm.models import Customer


def token_digest(raw: str) -> str:
    """SHA-256 of a token: enough for high-entropy random tokens, and what the database keeps."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def active_by_digest(self, digest: str) -> "ApiToken | None":
        """The active token with this digest (id, name, last_used_at loaded), in one plain statement.

        This runs on every lookup; the ORM spent more CPU building the query than the database
        spent answering it. The digest is the unique key, so the equality match is no timing oracle.
        """
        table = self.model._meta.db_table
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                f"SELECT id, name, last_used_at FROM {table} WHERE digest = %s AND revoked_at IS NULL", [digest]
            )
            row = cursor.fetchone()
        if row is None:
            return None
        pk, name, last_used_at = row
        if last_used_at is not None and timezone.is_naive(last_used_at):
            last_used_at = timezone.make_aware(last_used_at, datetime.UTC)  # SQLite keeps naive UTC
        return self.model.from_db(self.db, ["id", "name", "last_used_at"], [pk, name, last_used_at])


class ApiToken(models.Model):
    """A named Bearer token for a caller of the lookup API (e.g. one Genesys org)."""

    # How often last_used_at may be written: once a minute keeps the hot path read-only.
    LAST_USED_RESOLUTION_SECONDS = 60

    # Unique among active tokens only: a revoked token keeps its row (and its audit rows their
    # token_name), and its name can be given to a new token (docs/operations.md "Security").
    name = models.CharField(max_length=100, help_text="Who uses it, e.g. genesys-prod.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["name", "-created_at"]
        verbose_name = "API token"
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(revoked_at__isnull=True),
                name="lookup_apitoken_unique_active_name",
                violation_error_message="An active token with this name already exists; revoke it or pick another name.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def generate_raw() -> str:
        """A new random token: 256 bits, URL-safe."""
        return secrets.token_urlsafe(32)

    def set_raw(self, raw: str) -> None:
        """Keep only the digest of the raw token."""
        self.digest = token_digest(raw)

    def revoke(self) -> None:
        """Refuse this token from the next request on."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            ApiToken.objects.filter(pk=self.pk).update(revoked_at=self.revoked_at)

    def touch(self, now=None) -> None:
        """Record use, at most once per LAST_USED_RESOLUTION_SECONDS."""
        now = now or timezone.now()
        last = self.last_used_at
        if last is None or (now - last).total_seconds() >= self.LAST_USED_RESOLUTION_SECONDS:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now


class LookupEvent(models.Model):
    """One call of the lookup API: who asked, for which number, what they got, how fast."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        NOT_FOUND = "not_found", "Not found"
        NO_NUMBER = "no_number", "No number"
        UNAUTHORIZED = "unauthorized", "Unauthorized"
        BAD_REQUEST = "bad_request", "Bad request"

    NO_NUMBER_TEXT = "none"

    created_at = models.DateTimeField(default=timezone.now)
    token_name = models.CharField(max_length=100, blank=True)
    phone_number = models.CharField(max_length=32, default=NO_NUMBER_TEXT, help_text="Normalised E.164, or none.")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # SET_NULL: deleting a customer keeps the history of calls that found them.
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="lookup_events"
    )
    duration_ms = models.FloatField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["outcome", "created_at"], name="lookup_event_outcome_time"),
            # Every insights query is a created_at range reading these columns: with all of them in the
            # index PostgreSQL answers from the index alone (index-only scan). Also serves prune and the admin.
            models.Index(
                fields=["created_at", "outcome", "token_name", "duration_ms"], name="lookup_event_time_covering"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.phone_number} {self.outcome}"


class LookupRollupDay(models.Model):
    """A closed local day (in `time_zone`) whose lookups are summed up in the two tables below.

    Made lazily by the insights page (lookup/rollup.py), so its 7- and 30-day windows read a few
    rows per day instead of every event. Removed again by whatever changes a past day's events.
    """

    time_zone = models.CharField(max_length=64)
    day = models.DateField()
    start = models.DateTimeField(help_text="Local midnight that starts the day.")
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["time_zone", "day"], name="lookup_rollup_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} ({self.time_zone})"


class LookupDayCount(models.Model):
    """Lookups of one rolled-up day per outcome and token name, with the last one's time."""

    rollup_day = models.ForeignKey(LookupRollupDay, on_delete=models.CASCADE, related_name="counts")
    outcome = models.CharField(max_length=16, choices=LookupEvent.Outcome.choices)
    token_name = models.CharField(max_length=100, blank=True)
    lookups = models.PositiveIntegerField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rollup_day", "outcome", "token_name"], name="lookup_day_count_unique")
        ]


class LookupDayLatency(models.Model):
    """Lookups of one rolled-up day per whole millisecond of duration (floor): a histogram that
    locates each percentile's millisecond; the exact value then comes from that millisecond's events."""

    rollup_day = models.ForeignKey(LookupRollupDay, on_delete=models.CASCADE, related_name="latencies")
    ms = models.IntegerField()
    lookups = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rollup_day", "ms"], name="lookup_day_latency_unique")]
